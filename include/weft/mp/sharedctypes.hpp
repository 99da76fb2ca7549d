// weft/mp/sharedctypes.hpp — Python's multiprocessing.sharedctypes:
// Value<T>, Array<T>, RawValue<T> and RawArray<T>, plain data shared by a
// process and its children.
//
// T is any trivially copyable type. Python names its types by typecode;
// ctype<'i'> is the C++ type for one: 'c' char, 'b' signed char,
// 'B' unsigned char, 'h' short, 'H' unsigned short, 'i' int, 'I' unsigned,
// 'l' long, 'L' unsigned long, 'q' long long, 'Q' unsigned long long,
// 'f' float, 'd' double, 'u' wchar_t, '?' bool. So Python's
// `Value('d', 0.5)` is `mp::Value<double>(0.5)` (or `mp::Value(0.5)`) and
// `Array('i', 10)` is `mp::Array<int>(10)`.
//
// RawValue and RawArray are bare shared memory: no lock, and concurrent
// access from several threads or processes is the caller's to synchronise.
// Value and Array add a lock, as Python's synchronized wrappers do: by
// default a new RLock, or a Lock or RLock you pass (the same lock as the
// handle you pass), or none with lock = false. get_lock() returns it;
// acquire()/release() and the Lockable spelling delegate to it, so
// `std::lock_guard g(counter); counter.get_obj() += 1;` is Python's
// `with counter.get_lock(): counter.value += 1`. Each value() read or write
// takes the lock for its own duration, as Python's `.value` does (so
// `v.value(v.value() + 1)` is not atomic: hold the lock around it). With a
// plain Lock, calling value() while holding that lock waits forever, as in
// Python; the default RLock does not. The lock is robust (weft/mp/lock.hpp).
//
// Array's operator[], begin()/end() and get_obj() give direct access to the
// elements without locking: hold the lock around them. get(i), set(i, v),
// to_vector() and, for char arrays, value()/raw() lock per call.
//
// A handle is cheap to copy and every copy — here, in a forked child, or in
// a spawned child that received it as an argument — is the same memory.
// Creating one throws std::system_error if shared memory cannot be had.
//
// Thread- and process-safety: the handles may be used from any thread of
// any process; the data is synchronised only by its lock.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/codec.hpp"
#include "weft/errors.hpp"
#include "weft/mp/detail/shared_handle_codec.hpp"
#include "weft/mp/detail/shared_state.hpp"
#include "weft/mp/lock.hpp"

namespace weft::mp {

namespace detail {

template <char Code> struct CType;
template <> struct CType<'c'> { using type = char; };
template <> struct CType<'b'> { using type = signed char; };
template <> struct CType<'B'> { using type = unsigned char; };
template <> struct CType<'h'> { using type = short; };
template <> struct CType<'H'> { using type = unsigned short; };
template <> struct CType<'i'> { using type = int; };
template <> struct CType<'I'> { using type = unsigned; };
template <> struct CType<'l'> { using type = long; };
template <> struct CType<'L'> { using type = unsigned long; };
template <> struct CType<'q'> { using type = long long; };
template <> struct CType<'Q'> { using type = unsigned long long; };
template <> struct CType<'f'> { using type = float; };
template <> struct CType<'d'> { using type = double; };
template <> struct CType<'u'> { using type = wchar_t; };
template <> struct CType<'?'> { using type = bool; };

template <class L>
concept SharedLock = std::is_same_v<L, Lock> || std::is_same_v<L, RLock>;

// The lock of a Value or Array, or none.
template <class L>
class Synchronized {
 public:
  // The lock. Throws RuntimeError if created with lock = false.
  L& get_lock() const {
    if (!lock_) throw RuntimeError("created with lock = false: there is no lock");
    return *lock_;
  }
  bool has_lock() const noexcept { return lock_.has_value(); }

  bool acquire(bool blocking = true) const { return get_lock().acquire(blocking); }
  template <class Rep, class Period>
  bool acquire(std::chrono::duration<Rep, Period> timeout) const {
    return get_lock().acquire(timeout);
  }
  void release() const { get_lock().release(); }
  void lock() const { get_lock().lock(); }
  bool try_lock() const { return get_lock().try_lock(); }
  void unlock() const { get_lock().unlock(); }

 protected:
  explicit Synchronized(std::optional<L> lock) noexcept : lock_(std::move(lock)) {}
  static std::optional<L> lock_if(bool lock) {
    return lock ? std::optional<L>(std::in_place) : std::nullopt;
  }

  // Calls f() holding the lock, if there is one.
  template <class F>
  decltype(auto) locked(F&& f) const {
    if (!lock_) return f();
    std::lock_guard held(*lock_);
    return f();
  }

  std::optional<std::uint32_t> share_lock_with_child() const {
    if (!lock_) return std::nullopt;
    return lock_->share_with_child();
  }
  static std::optional<L> lock_from_parent(const std::optional<std::uint32_t>& token) {
    if (!token) return std::nullopt;
    return L::from_parent(*token);
  }

 private:
  mutable std::optional<L> lock_;
};

}  // namespace detail

template <char Code>
using ctype = typename detail::CType<Code>::type;

template <class T>
concept SharedCType = std::is_trivially_copyable_v<T> && !std::is_const_v<T>;

template <SharedCType T>
class RawValue {
 public:
  explicit RawValue(const T& init = T{})
      : state_(State::make(detail::StateKind::value, "Value", 1, init)) {}

  T value() const noexcept { return *state_; }
  void value(const T& v) const noexcept { *state_ = v; }
  // The object itself.
  T& get_obj() const noexcept { return *state_; }

  // For weft::codec (see weft/mp/lock.hpp).
  std::uint32_t share_with_child() const { return state_.share_with_child("Value"); }
  static RawValue from_parent(std::uint32_t token) {
    return RawValue(State::from_parent(token, detail::StateKind::value));
  }

 private:
  using State = detail::SharedState<T>;
  explicit RawValue(State state) noexcept : state_(std::move(state)) {}

  State state_;
};

template <SharedCType T>
class RawArray {
 public:
  // `size` value-initialised (zero) elements.
  explicit RawArray(std::size_t size)
      : state_(State::make(detail::StateKind::array, "Array", size)) {}
  RawArray(std::initializer_list<T> values) : RawArray(std::span<const T>(values)) {}
  explicit RawArray(std::span<const T> values) : RawArray(values.size()) {
    std::copy(values.begin(), values.end(), begin());
  }
  // A char array holding `bytes` (Python's Array('c', b'...')).
  explicit RawArray(std::string_view bytes)
    requires std::is_same_v<T, char>
      : RawArray(std::span<const char>(bytes.data(), bytes.size())) {}
  explicit RawArray(const char* bytes)
    requires std::is_same_v<T, char>
      : RawArray(std::string_view(bytes)) {}

  std::size_t size() const noexcept { return state_.count(); }
  T& operator[](std::size_t i) const noexcept { return state_.get()[i]; }
  // Throws std::out_of_range (Python's IndexError) for i >= size().
  T& at(std::size_t i) const {
    if (i >= size()) throw std::out_of_range("array index out of range");
    return state_.get()[i];
  }
  T* data() const noexcept { return state_.get(); }
  T* begin() const noexcept { return data(); }
  T* end() const noexcept { return data() + size(); }
  std::span<T> get_obj() const noexcept { return {data(), size()}; }

  // Char arrays (Python's c_char arrays): value() is the bytes up to the
  // first NUL, raw() all of them. Setting either throws ValueError if the
  // bytes do not fit; value(bytes) adds a NUL if there is room.
  std::string value() const
    requires std::is_same_v<T, char>
  {
    return std::string(data(), std::find(begin(), end(), '\0'));
  }
  void value(std::string_view bytes) const
    requires std::is_same_v<T, char>
  {
    raw(bytes);
    if (bytes.size() < size()) data()[bytes.size()] = '\0';
  }
  std::string raw() const
    requires std::is_same_v<T, char>
  {
    return std::string(data(), size());
  }
  void raw(std::string_view bytes) const
    requires std::is_same_v<T, char>
  {
    if (bytes.size() > size()) throw ValueError("byte string too long");
    std::copy(bytes.begin(), bytes.end(), data());
  }

  // For weft::codec (see weft/mp/lock.hpp).
  std::uint32_t share_with_child() const { return state_.share_with_child("Array"); }
  static RawArray from_parent(std::uint32_t token) {
    return RawArray(State::from_parent(token, detail::StateKind::array));
  }

 private:
  using State = detail::SharedState<T>;
  explicit RawArray(State state) noexcept : state_(std::move(state)) {}

  State state_;
};

// What crosses to a spawned child for a Value or an Array: the data's
// token and the lock's, if any.
using SynchronizedToken = std::pair<std::uint32_t, std::optional<std::uint32_t>>;

template <SharedCType T, detail::SharedLock L = RLock>
class Value : public detail::Synchronized<L> {
  using Base = detail::Synchronized<L>;

 public:
  explicit Value(const T& init = T{}, bool lock = true)
      : Value(RawValue<T>(init), Base::lock_if(lock)) {}
  Value(const T& init, L lock) : Value(RawValue<T>(init), std::optional<L>(std::move(lock))) {}

  // Reads or writes the value holding the lock.
  T value() const {
    return this->locked([&] { return raw_.value(); });
  }
  void value(const T& v) const {
    this->locked([&] { raw_.value(v); });
  }
  // The object itself, unlocked.
  T& get_obj() const noexcept { return raw_.get_obj(); }

  // For weft::codec (see weft/mp/lock.hpp).
  SynchronizedToken share_with_child() const {
    return {raw_.share_with_child(), this->share_lock_with_child()};
  }
  static Value from_parent(const SynchronizedToken& token) {
    return Value(RawValue<T>::from_parent(token.first), Base::lock_from_parent(token.second));
  }

 private:
  Value(RawValue<T> raw, std::optional<L> lock) noexcept
      : Base(std::move(lock)), raw_(std::move(raw)) {}

  RawValue<T> raw_;
};

template <class T>
Value(T) -> Value<T>;
template <class T>
Value(T, bool) -> Value<T>;
template <class T, bool Recursive>
Value(T, BasicLock<Recursive>) -> Value<T, BasicLock<Recursive>>;

template <SharedCType T, detail::SharedLock L = RLock>
class Array : public detail::Synchronized<L> {
  using Base = detail::Synchronized<L>;

 public:
  explicit Array(std::size_t size, bool lock = true)
      : Array(RawArray<T>(size), Base::lock_if(lock)) {}
  Array(std::size_t size, L lock) : Array(RawArray<T>(size), std::optional<L>(std::move(lock))) {}
  Array(std::initializer_list<T> values, bool lock = true)
      : Array(RawArray<T>(values), Base::lock_if(lock)) {}
  Array(std::initializer_list<T> values, L lock)
      : Array(RawArray<T>(values), std::optional<L>(std::move(lock))) {}
  explicit Array(std::span<const T> values, bool lock = true)
      : Array(RawArray<T>(values), Base::lock_if(lock)) {}
  Array(std::span<const T> values, L lock)
      : Array(RawArray<T>(values), std::optional<L>(std::move(lock))) {}
  explicit Array(std::string_view bytes, bool lock = true)
    requires std::is_same_v<T, char>
      : Array(RawArray<T>(bytes), Base::lock_if(lock)) {}
  explicit Array(const char* bytes, bool lock = true)
    requires std::is_same_v<T, char>
      : Array(std::string_view(bytes), lock) {}

  std::size_t size() const noexcept { return raw_.size(); }
  // Unlocked element access (see the top of this file).
  T& operator[](std::size_t i) const noexcept { return raw_[i]; }
  T& at(std::size_t i) const { return raw_.at(i); }
  T* data() const noexcept { return raw_.data(); }
  T* begin() const noexcept { return raw_.begin(); }
  T* end() const noexcept { return raw_.end(); }
  std::span<T> get_obj() const noexcept { return raw_.get_obj(); }

  // Element i, or all of them, read or written holding the lock. Throw
  // std::out_of_range for i >= size().
  T get(std::size_t i) const {
    return this->locked([&] { return raw_.at(i); });
  }
  void set(std::size_t i, const T& v) const {
    this->locked([&] { raw_.at(i) = v; });
  }
  std::vector<T> to_vector() const {
    return this->locked([&] { return std::vector<T>(raw_.begin(), raw_.end()); });
  }

  // Char arrays: RawArray's value() and raw(), holding the lock.
  std::string value() const
    requires std::is_same_v<T, char>
  {
    return this->locked([&] { return raw_.value(); });
  }
  void value(std::string_view bytes) const
    requires std::is_same_v<T, char>
  {
    this->locked([&] { raw_.value(bytes); });
  }
  std::string raw() const
    requires std::is_same_v<T, char>
  {
    return this->locked([&] { return raw_.raw(); });
  }
  void raw(std::string_view bytes) const
    requires std::is_same_v<T, char>
  {
    this->locked([&] { raw_.raw(bytes); });
  }

  // For weft::codec (see weft/mp/lock.hpp).
  SynchronizedToken share_with_child() const {
    return {raw_.share_with_child(), this->share_lock_with_child()};
  }
  static Array from_parent(const SynchronizedToken& token) {
    return Array(RawArray<T>::from_parent(token.first), Base::lock_from_parent(token.second));
  }

 private:
  Array(RawArray<T> raw, std::optional<L> lock) noexcept
      : Base(std::move(lock)), raw_(std::move(raw)) {}

  RawArray<T> raw_;
};

}  // namespace weft::mp

namespace weft::mp::detail {

// The shared ctypes cross to a child being started as their token (see
// shared_handle_codec.hpp).
template <class T>
struct SharedByToken<RawValue<T>> : std::true_type {};
template <class T>
struct SharedByToken<RawArray<T>> : std::true_type {};
template <class T, class L>
struct SharedByToken<Value<T, L>> : std::true_type {};
template <class T, class L>
struct SharedByToken<Array<T, L>> : std::true_type {};

}  // namespace weft::mp::detail
