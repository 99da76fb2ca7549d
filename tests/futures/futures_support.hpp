// Helpers shared by the futures tests: a countdown to wait on, a recorder of callback exceptions, and a
// task that holds a worker until released.
#pragma once

#include <weft/detail/exception_text.hpp>
#include <weft/futures.hpp>
#include <weft/threading.hpp>

#include <atomic>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include "threading/test_support.hpp"

namespace weft::test {

// Opens once count_down() was called `count` times; wait() is bounded like every wait in the tests.
class Countdown {
 public:
  explicit Countdown(int count) : left_(count) {
    if (count <= 0) open_.set();
  }
  void count_down() {
    if (left_.fetch_sub(1, std::memory_order_acq_rel) == 1) open_.set();
  }
  bool wait(Clock::duration limit = kPatience) { return open_.wait(limit); }

 private:
  std::atomic<int> left_;
  weft::Event open_;
};

// Installs a handler of done-callback exceptions that records them, for the lifetime of the object.
class CallbackExceptions {
 public:
  CallbackExceptions()
      : previous_(futures::set_callback_exception_handler([this](std::exception_ptr error) {
          std::lock_guard held(mutex_);
          seen_.push_back(detail::exception_text(error));
        })) {}
  CallbackExceptions(const CallbackExceptions&) = delete;
  CallbackExceptions& operator=(const CallbackExceptions&) = delete;
  ~CallbackExceptions() { futures::set_callback_exception_handler(std::move(previous_)); }

  std::vector<std::string> seen() {
    std::lock_guard held(mutex_);
    return seen_;
  }

 private:
  futures::CallbackExceptionHandler previous_;
  std::mutex mutex_;
  std::vector<std::string> seen_;
};

// A task that says it started, then holds its worker until `gate` is set (at most kPatience);
// it returns whether the gate opened.
inline auto hold_worker(weft::Event& started, weft::Event& gate) {
  return [&started, &gate] {
    started.set();
    return gate.wait(kPatience);
  };
}

}  // namespace weft::test
