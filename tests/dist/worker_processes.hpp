// Worker processes for the dist tests: runs of this very test executable
// that the weft::dist bootstrap turns into workers, killed (if still
// running) and reaped when the test ends.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "mp/child_process.hpp"
#include "weft/dist/worker.hpp"

namespace weft::dist::testing {

inline WorkerOptions worker_options(const std::string& url, const std::string& queue,
                                    std::chrono::milliseconds visibility = std::chrono::milliseconds(1000)) {
  WorkerOptions options;
  options.redis_url = url;
  options.queue = queue;
  options.visibility_timeout = visibility;
  return options;
}

inline weft::test::Child start_worker(const WorkerOptions& options) {
  return weft::test::Child::adopt(detail::spawn_worker_process("/proc/self/exe", {}, options));
}

inline std::vector<weft::test::Child> start_workers(std::size_t count, const WorkerOptions& options) {
  std::vector<weft::test::Child> workers;
  for (std::size_t i = 0; i < count; ++i) workers.push_back(start_worker(options));
  return workers;
}

// Counts completions reported from done-callbacks; a test waits for a
// number of them.
class DoneCounter {
 public:
  // Notifies under the lock: a test that saw the count it waited for may
  // destroy the counter at once.
  void add() {
    std::lock_guard lock(mutex_);
    ++count_;
    changed_.notify_all();
  }
  // False if fewer than `n` arrived within `patience`.
  bool wait_for_at_least(std::size_t n, std::chrono::steady_clock::duration patience) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, patience, [&] { return count_ >= n; });
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return count_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t count_ = 0;
};

}  // namespace weft::dist::testing
