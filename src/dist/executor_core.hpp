// The engine behind dist::Executor: the futures waiting for a result, a
// sender thread that moves submitted tasks into the queue's stream in
// pipelined batches, and a receiver thread that reads this executor's
// results stream and completes the futures.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "weft/dist/executor.hpp"
#include "weft/dist/redis.hpp"

namespace weft::dist::detail {

class ExecutorCore {
 public:
  ExecutorCore(const RedisUrl& url, std::string queue, ExecutorOptions options);
  ExecutorCore(const ExecutorCore&) = delete;
  ExecutorCore& operator=(const ExecutorCore&) = delete;
  // Stops both threads; futures still pending fail with RuntimeError.
  ~ExecutorCore();

  // Throws RuntimeError after shutdown.
  void submit(OutgoingTask task);
  void shutdown(bool wait, bool cancel_futures);

  const std::string& queue() const noexcept { return queue_; }
  const std::string& id() const noexcept { return id_; }

 private:
  struct Queued {
    std::uint64_t id;
    OutgoingTask task;
  };

  void send_loop();
  void receive_loop();
  // Sends one batch (retrying across reconnects); fails the batch's futures
  // if Redis stays unreachable.
  void send_batch(std::vector<Queued>& batch);
  // Completes the future of task `id` with the first result that names it.
  void deliver(std::string_view id, std::string_view outcome, std::string_view payload);
  // Waits up to `wait` for stop_threads(); true once it was called.
  bool stopped_within(std::chrono::milliseconds wait);
  // Fails every future waiting for a result (Redis stayed unreachable).
  void fail_waiting(std::exception_ptr error);
  // Removes `id` from the futures waiting for a result; null if absent.
  std::shared_ptr<mp::detail::TaskSink> take(std::uint64_t id);
  // Under mutex_: nothing queued, being sent or waiting for a result.
  bool idle() const noexcept { return outgoing_.empty() && in_flight_ == 0 && waiting_.empty(); }
  void stop_threads();

  const RedisUrl url_;
  const std::string queue_;
  const ExecutorOptions options_;
  const std::string id_;
  const std::string tasks_key_;
  const std::string results_key_;

  std::mutex mutex_;
  std::condition_variable outgoing_ready_;
  std::condition_variable all_done_;
  std::condition_variable stop_requested_;
  // Submitted, not yet taken by the sender.
  std::deque<Queued> outgoing_;
  // Taken by the sender, not yet in Redis.
  std::size_t in_flight_ = 0;
  // In Redis (or being added): waiting for a result.
  std::unordered_map<std::uint64_t, std::shared_ptr<mp::detail::TaskSink>> waiting_;
  std::uint64_t next_id_ = 0;
  bool shut_down_ = false;
  bool stopping_ = false;

  RedisConnection sender_connection_;
  RedisConnection receiver_connection_;
  std::thread sender_;
  std::thread receiver_;
};

}  // namespace weft::dist::detail
