// Support for the tests of a manager's synchronisation objects called
// directly, without a server: a Caller the test controls, and a call()
// that encodes the arguments and decodes the result as a proxy would.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include <gtest/gtest.h>

#include "weft/codec.hpp"
#include "weft/mp/manager/managed.hpp"

namespace weft::mp::test {

using namespace std::chrono_literals;

// Generous: how long a wait the test expects to end may take.
inline constexpr auto kPatience = 10s;

class FakeCaller : public manager::Caller {
 public:
  explicit FakeCaller(std::uint64_t id) : id_(id) {
    std::lock_guard lock(living().mutex);
    living().callers.insert(this);
  }
  ~FakeCaller() override {
    std::lock_guard lock(living().mutex);
    living().callers.erase(this);
  }
  FakeCaller(const FakeCaller&) = delete;
  FakeCaller& operator=(const FakeCaller&) = delete;

  std::uint64_t connection() const noexcept override { return id_; }
  bool connected() const noexcept override {
    checks_.fetch_add(1);
    return connected_.load();
  }
  // The client hangs up: waits on its behalf end.
  void hang_up() noexcept { connected_.store(false); }
  // How often the object asked whether the client is still there: once
  // per slice of a wait, so a wait that went on for n more slices asked
  // at least n more times.
  std::uint64_t checks() const noexcept { return checks_.load(); }

  // Every caller that exists hangs up: every wait on their behalf ends.
  static void hang_up_all() noexcept {
    std::lock_guard lock(living().mutex);
    for (FakeCaller* caller : living().callers) caller->hang_up();
  }

 private:
  struct Living {
    std::mutex mutex;
    std::set<FakeCaller*> callers;
  };
  static Living& living() {
    static Living callers;
    return callers;
  }

  std::uint64_t id_;
  std::atomic<bool> connected_{true};
  mutable std::atomic<std::uint64_t> checks_{0};
};

inline std::unique_ptr<manager::Managed> make(std::string_view type_id,
                                              std::string args = codec::encode(std::tuple<>())) {
  auto object = manager::detail::make_sync_object(type_id, args);
  EXPECT_NE(object, nullptr) << type_id;
  return object;
}

template <class... A>
std::string args(const A&... a) {
  return codec::encode(std::forward_as_tuple(a...));
}

// Calls `method` with `a...` and decodes the result as an R.
template <class R = void, class... A>
R call(manager::Managed& object, manager::Caller& caller, std::string_view method, const A&... a) {
  std::string reply = object.call(method, args(a...), caller);
  if constexpr (std::is_void_v<R>) {
    codec::decode<std::monostate>(reply);
  } else {
    return codec::decode<R>(reply);
  }
}

// A call running on another thread. Destroyed while the call still
// waits (a test that stopped at a failed assertion), it makes every
// caller hang up so that the call ends, and waits for it at most
// kPatience; then it aborts rather than hang.
template <class T>
class Running {
 public:
  explicit Running(std::future<T> future) noexcept : future_(std::move(future)) {}
  Running(Running&&) noexcept = default;
  Running& operator=(Running&&) = delete;
  ~Running() {
    if (!future_.valid() || future_.wait_for(0s) == std::future_status::ready) return;
    FakeCaller::hang_up_all();
    if (future_.wait_for(kPatience) != std::future_status::ready) {
      std::fputs("a call on another thread did not end when its callers hung up\n", stderr);
      std::abort();
    }
  }

  T get() { return future_.get(); }
  template <class Rep, class Period>
  std::future_status wait_for(std::chrono::duration<Rep, Period> timeout) const {
    return future_.wait_for(timeout);
  }

 private:
  std::future<T> future_;
};

// Runs f on another thread; the result is awaited with a bound.
template <class F>
auto in_thread(F f) {
  return Running(std::async(std::launch::async, std::move(f)));
}

template <class T>
bool finishes(Running<T>& running) {
  return running.wait_for(kPatience) == std::future_status::ready;
}

inline const std::optional<double> kForever = std::nullopt;

}  // namespace weft::mp::test
