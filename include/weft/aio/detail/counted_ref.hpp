// weft/aio/detail/counted_ref.hpp — a handle to an object of the loop's
// thread that counts its references through two functions found by
// argument-dependent lookup, counted_add_ref(T*) and counted_release(T*),
// declared beside T. T may be incomplete where the handle is used: the
// stream and server handles keep their state out of the public headers
// this way.
//
// Not thread-safe: the count is a plain integer of the loop's thread.
#pragma once

#include <utility>

namespace weft::aio::detail {

template <class T>
class CountedRef {
 public:
  CountedRef() noexcept = default;
  explicit CountedRef(T* object) noexcept : object_(object) {
    if (object_ != nullptr) counted_add_ref(object_);
  }
  CountedRef(const CountedRef& other) noexcept : CountedRef(other.object_) {}
  CountedRef(CountedRef&& other) noexcept : object_(std::exchange(other.object_, nullptr)) {}
  CountedRef& operator=(CountedRef other) noexcept {
    std::swap(object_, other.object_);
    return *this;
  }
  ~CountedRef() {
    if (object_ != nullptr) counted_release(object_);
  }

  T* get() const noexcept { return object_; }
  T* operator->() const noexcept { return object_; }
  T& operator*() const noexcept { return *object_; }
  explicit operator bool() const noexcept { return object_ != nullptr; }

 private:
  T* object_ = nullptr;
};

}  // namespace weft::aio::detail
