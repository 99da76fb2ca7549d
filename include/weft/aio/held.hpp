// weft/aio/held.hpp — Python's `async with lock:` in C++: a guard that
// releases what it holds when it goes out of scope.
//
//   {
//     auto held = co_await lock.scoped();  // acquire(): may suspend
//     ...                                   // the critical section
//   }                                       // release()
//
// Lock, Condition, Semaphore and BoundedSemaphore have scoped(). Awaiting it
// suspends exactly as acquire() does and throws what acquire() throws
// (CancelledError: nothing is held then); it returns a Held<P>, which
// releases the primitive when destroyed. Held is move-only; release() ends
// the hold early. Releasing the primitive by hand while a Held holds it is
// a bug: the guard's own release would then throw from its destructor
// (std::terminate), where Python's `async with` would raise RuntimeError.
//
// Not thread-safe: the loop's thread only, like the primitives.
#pragma once

#include <coroutine>
#include <utility>

namespace weft::aio {

template <class Primitive>
class [[nodiscard]] Held {
 public:
  explicit Held(Primitive& primitive) noexcept : primitive_(&primitive) {}
  Held(Held&& other) noexcept : primitive_(std::exchange(other.primitive_, nullptr)) {}
  Held& operator=(Held&&) = delete;
  ~Held() {
    if (primitive_ != nullptr) primitive_->release();
  }

  // Releases the primitive now if this guard still holds it; afterwards the
  // guard holds nothing. Throws what the primitive's release() throws.
  void release() {
    if (primitive_ != nullptr) std::exchange(primitive_, nullptr)->release();
  }
  bool holds() const noexcept { return primitive_ != nullptr; }

 private:
  Primitive* primitive_;
};

namespace detail {

// What scoped() returns: awaits the primitive's acquire(), then hands out
// the guard.
template <class Primitive>
class [[nodiscard]] ScopedAcquire {
 public:
  explicit ScopedAcquire(Primitive& primitive) noexcept : primitive_(primitive), acquire_(primitive.acquire()) {}
  ScopedAcquire(const ScopedAcquire&) = delete;

  bool await_ready() noexcept { return acquire_.await_ready(); }
  decltype(auto) await_suspend(std::coroutine_handle<> awaiting) { return acquire_.await_suspend(awaiting); }
  Held<Primitive> await_resume() {
    acquire_.await_resume();
    return Held<Primitive>(primitive_);
  }

 private:
  Primitive& primitive_;
  decltype(std::declval<Primitive&>().acquire()) acquire_;
};

}  // namespace detail

}  // namespace weft::aio
