// weft/threading/local.hpp — weft::local<T>, Python's threading.local.
//
// One T per thread: each thread that touches a local<T> gets its own value,
// made on first access (by T's default constructor, or by the initializer
// given at construction), and destroyed when that thread exits or when the
// local<T> itself is destroyed, whichever comes first. A value first made as
// the thread exits, by the destructor of another value, is destroyed too, for
// four rounds of such values (as pthread keys get); one made after that, or
// by a thread_local destructor that runs after weft's own for that thread,
// lives until the local<T> is destroyed (and each such access makes a new
// one).
//
// Access costs a hash lookup; hold on to the reference inside hot loops.
// The reference is valid on the calling thread until that thread exits or
// the local<T> is destroyed.
//
// Thread-safety: any thread may access and destroy the local<T>; a value
// itself is only ever touched by its own thread (and by the destructor).
#pragma once

#include <functional>
#include <memory>
#include <utility>

namespace weft {

namespace detail {

// Type-erased storage shared by all local<T>: one slot per thread.
class LocalStorage {
 public:
  using Factory = std::function<std::shared_ptr<void>()>;
  explicit LocalStorage(Factory factory);
  ~LocalStorage();
  LocalStorage(const LocalStorage&) = delete;
  LocalStorage& operator=(const LocalStorage&) = delete;

  // The calling thread's value, created on first use.
  void* get();

  struct Impl;  // defined in the library

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace detail

template <class T>
class local {
 public:
  local() : storage_([] { return std::static_pointer_cast<void>(std::make_shared<T>()); }) {}
  // Each thread's value is made by init() on that thread.
  explicit local(std::function<T()> init)
      : storage_([init = std::move(init)] {
          return std::static_pointer_cast<void>(std::make_shared<T>(init()));
        }) {}

  T& get() { return *static_cast<T*>(storage_.get()); }
  T& operator*() { return get(); }
  T* operator->() { return &get(); }

 private:
  detail::LocalStorage storage_;
};

}  // namespace weft
