// weft/mp/wait.hpp — Python's multiprocessing.connection.wait(): block
// until one or more of several Connections, sockets, process sentinels or
// plain descriptors is ready, and say which.
//
//   std::vector<std::variant<mp::Connection*, int>> watched{&results, worker.sentinel()};
//   for (const auto& ready : mp::wait(watched)) ...
//
// An element may be a descriptor (an int, such as Process::sentinel()), an
// object with fileno() (Connection, net::Socket, green::socket), a pointer
// or std::reference_wrapper to one, or a std::variant of any of these; wait()
// returns the ready elements themselves, copied, in the order given.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <type_traits>
#include <variant>
#include <vector>

#include "weft/detail/deadline.hpp"

namespace weft::mp {

namespace detail {

// A descriptor, or what has one: an object with fileno(), a pointer (or
// smart pointer) to one, or a std::reference_wrapper to one.
template <class T>
concept PlainWaitable = std::is_convertible_v<const T&, int> ||
                        requires(const T& object) { { object.fileno() } -> std::convertible_to<int>; } ||
                        requires(const T& object) { { object.get().fileno() } -> std::convertible_to<int>; } ||
                        requires(const T& object) { { object->fileno() } -> std::convertible_to<int>; };

template <class T>
struct IsVariantOfWaitables : std::false_type {};
template <class... Ts>
struct IsVariantOfWaitables<std::variant<Ts...>> : std::bool_constant<(PlainWaitable<Ts> && ...)> {};

template <class T>
concept Waitable = PlainWaitable<T> || IsVariantOfWaitables<T>::value;

// The descriptor wait() watches for `object`.
template <Waitable T>
int fileno_of(const T& object) {
  if constexpr (IsVariantOfWaitables<T>::value) {
    return std::visit([](const auto& alternative) { return fileno_of(alternative); }, object);
  } else if constexpr (std::is_convertible_v<const T&, int>) {
    return object;
  } else if constexpr (requires { object.fileno(); }) {
    return object.fileno();
  } else if constexpr (requires { object.get().fileno(); }) {
    return object.get().fileno();
  } else {
    return object->fileno();
  }
}

// The positions in `fds` that are readable, at their end, or in error once
// one of them is, or none at the deadline. Throws OSError for a negative or
// closed descriptor, and for a failing poll(2); retries after a signal.
std::vector<std::size_t> wait_ready(std::span<const int> fds,
                                    const weft::detail::Deadline& deadline);

template <class T>
std::vector<T> wait_until(std::span<const T> objects, const weft::detail::Deadline& deadline) {
  std::vector<int> fds;
  fds.reserve(objects.size());
  for (const T& object : objects) fds.push_back(fileno_of(object));
  std::vector<T> ready;
  for (const std::size_t index : wait_ready(fds, deadline)) ready.push_back(objects[index]);
  return ready;
}

}  // namespace detail

// Blocks until at least one of `objects` is ready, and returns those that
// are. Ready means what a read would not block on: a Connection with a
// message or its end; a socket with data, a connection to accept, its end
// or an error; a sentinel whose process has ended.
//
// wait(objects) waits for ever (Python's timeout=None), as does
// wait(objects, std::nullopt); wait(objects, timeout) waits at most
// `timeout` (a negative one counts as 0, as in Python) and returns an empty
// vector if nothing became ready. An empty `objects` with no timeout waits
// for ever, as in Python.
//
// Throws OSError("handle is closed") for a closed Connection, OSError
// (EBADF) for a negative or closed descriptor (Python would report it
// ready; the read after it would fail), ValueError for a NaN timeout.
//
// Thread-safe: calls share nothing. Within a greenlet after
// green::monkey::patch_all(), it parks the greenlet, not the thread.
template <detail::Waitable T>
std::vector<T> wait(std::span<const T> objects) {
  return detail::wait_until(objects, std::nullopt);
}
template <detail::Waitable T>
std::vector<T> wait(std::span<const T> objects, std::nullopt_t) {
  return detail::wait_until(objects, std::nullopt);
}
template <detail::Waitable T, class Rep, class Period>
std::vector<T> wait(std::span<const T> objects, std::chrono::duration<Rep, Period> timeout) {
  return detail::wait_until(objects, weft::detail::deadline_after_clamped(timeout));
}

// The same for a vector or a braced list: mp::wait({&a, &b}, 1s).
template <detail::Waitable T, class... Timeout>
std::vector<T> wait(const std::vector<T>& objects, Timeout... timeout) {
  return wait(std::span<const T>(objects), timeout...);
}
template <detail::Waitable T, class... Timeout>
std::vector<T> wait(std::initializer_list<T> objects, Timeout... timeout) {
  return wait(std::span<const T>(objects.begin(), objects.size()), timeout...);
}

}  // namespace weft::mp
