// Support for the tests of a manager's synchronisation objects called
// directly, without a server: a Caller the test controls, and a call()
// that encodes the arguments and decodes the result as a proxy would.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
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
  explicit FakeCaller(std::uint64_t id) noexcept : id_(id) {}
  std::uint64_t connection() const noexcept override { return id_; }
  bool connected() const noexcept override { return connected_.load(); }
  // The client hangs up: waits on its behalf end.
  void hang_up() noexcept { connected_.store(false); }

 private:
  std::uint64_t id_;
  std::atomic<bool> connected_{true};
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

// Runs f on another thread; the result is awaited with a bound.
template <class F>
auto in_thread(F f) {
  return std::async(std::launch::async, std::move(f));
}

template <class T>
bool finishes(std::future<T>& future) {
  return future.wait_for(kPatience) == std::future_status::ready;
}

inline const std::optional<double> kForever = std::nullopt;

}  // namespace weft::mp::test
