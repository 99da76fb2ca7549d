// weft/green/greenlet.hpp — weft::green::greenlet, Python's greenlet: a
// stackful coroutine that runs until it switches to another greenlet
// explicitly.
//
// Every thread starts in its implicit main greenlet. A new greenlet gets its
// own stack (see StackOptions) and a parent — by default the greenlet that
// created it. Control moves only by switch_() and throw_():
//
//   g.switch_(value)  suspends the current greenlet and resumes g. The first
//                     switch into g calls its run with `value`; later ones
//                     make g's own pending switch_() return `value`.
//   g.throw_(e)       resumes g by raising e at its suspension point (or, if
//                     g has not started, kills it before run is called).
//
// When run returns, the greenlet is dead and its return value is passed to
// its parent (the parent's pending switch_() returns it). When run throws,
// the exception is raised in the parent instead — except GreenletExit, which
// the parent receives as a value (a std::any holding the GreenletExit), as
// in Python. Switching to a dead greenlet switches to its parent.
//
// Values cross a switch as std::any (Python's dynamically typed values);
// switch_as<T>() converts the result for the common typed case.
//
// Lifetime: greenlet is a handle (like Python's reference). The greenlet
// lives while a handle, a child (through its parent link) or the thread's
// current position refers to it. When the last handle to a suspended
// greenlet goes away on its own thread, GreenletExit is thrown into it so
// that its stack unwinds (destructors run), as Python does — once: a
// greenlet that catches it and switches away again, with no handle left, is
// left suspended for good (leaked, the rest of its stack never unwound) and
// named on stderr; one that took a new handle to itself meanwhile gets
// GreenletExit again when that handle goes. A greenlet never started is
// freed, with its run function, wherever its last handle goes. Any other
// whose last handle goes on another thread is left to its own thread, which
// unwinds it (or frees it, if it is dead) at its next switch or when it
// ends. A handle to a
// greenlet on that greenlet's own stack keeps it alive (C++ has no cycle
// collector): `getcurrent().parent().switch_()` holds one until the switch
// returns, so a greenlet parked that way is unwound only when its thread
// ends — as every greenlet still suspended then is.
//
// Stacks come from a per-process pool of mmap'd stacks, each below a
// PROT_NONE guard page while the process has mappings to spare
// (vm.max_map_count bounds them: a guarded stack costs two). A stack
// overflow into the guard page is reported on stderr by an alternate-stack
// SIGSEGV handler naming the greenlet, then the process aborts; stacks
// beyond the guarded budget carry a canary checked at every switch out of
// them, with the same report. Stacks are reused.
//
// Sanitizers: switches are annotated for AddressSanitizer
// (__sanitizer_start/finish_switch_fiber) and ThreadSanitizer
// (__tsan_switch_to_fiber).
//
// Thread-safety: a greenlet belongs to the thread that created it; switching
// to it from another thread throws green::error. Handles may be copied and
// destroyed on any thread.
#pragma once

#include <any>
#include <cstddef>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "weft/detail/unique_function.hpp"
#include "weft/errors.hpp"
#include "weft/green/detail/switch_core.hpp"

namespace weft::green {

// Raised to kill a greenlet: throw_() sends it by default, and it unwinds a
// greenlet whose last handle is dropped. A run that lets it escape ends
// normally; its parent receives the GreenletExit as a value.
class GreenletExit : public std::exception {
 public:
  GreenletExit() = default;
  explicit GreenletExit(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.empty() ? "GreenletExit" : message_.c_str(); }

 private:
  std::string message_;
};

// Misuse of a greenlet: a switch to another thread's greenlet, a parent
// cycle, a parent on another thread. Python's greenlet.error.
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct StackOptions {
  // Usable bytes of the stack (rounded up to whole pages, at least four).
  // Only the pages a greenlet touches cost memory. More than any mapping
  // can hold (the 2^47 bytes a process maps without a hint on x86-64, 2^48
  // on AArch64) is refused (weft::ValueError); a size that fits but that
  // the kernel will not map makes the first switch throw std::bad_alloc.
  std::size_t size = 256 * 1024;
};

class greenlet {
 public:
  using Run = weft::detail::UniqueFunction<std::any(std::any)>;

  // An empty handle (refers to no greenlet).
  greenlet() noexcept = default;

  // A new, not yet started greenlet that will call `run` — a callable taking
  // nothing or one std::any (the value of the first switch), returning
  // nothing or a value — with `parent` (default: the current greenlet).
  // Allocates its stack lazily, at the first switch. Throws green::error if
  // `parent` belongs to another thread, weft::ValueError if stack.size is
  // too large for any stack.
  template <class F>
    requires(!std::is_same_v<std::decay_t<F>, greenlet>)
  explicit greenlet(F&& run, greenlet parent = {}, StackOptions stack = {})
      : greenlet(adapt(std::forward<F>(run)), std::move(parent), stack, 0) {}

  // The greenlet running now on this thread (the main greenlet if none was
  // switched to). Never throws.
  static greenlet getcurrent();

  // Suspends the current greenlet and resumes this one (see above). Returns
  // the value the current greenlet is later resumed with; rethrows an
  // exception that a dead child passed up or that throw_() sent. Throws
  // green::error for a greenlet of another thread, or an empty handle.
  // Without a value, the switch moves no std::any at all (the cheapest
  // switch: the resumed side receives an empty value).
  [[gnu::always_inline]] std::any switch_() {
    detail::Jump to;
    if (!detail::begin_plain_switch(impl_.get(), to)) [[unlikely]]
      return switch_other_way();
    const detail::Jump back = detail::jump(to);
    void** const resume_at = static_cast<detail::SwitchNote*>(back.message)->resume_at;
    if (resume_at == nullptr) [[unlikely]]
      return detail::end_switch(back);
    *resume_at = back.context;
    return {};
  }
  std::any switch_(std::any value);
  template <class T>
  T switch_as(std::any value = {}) {
    return std::any_cast<T>(switch_(std::move(value)));
  }

  // Resumes this greenlet by raising `exception` in it (GreenletExit if
  // none). Returns and throws as switch_().
  std::any throw_(std::exception_ptr exception = nullptr);
  template <class E>
    requires(!std::is_same_v<std::decay_t<E>, std::exception_ptr>)
  std::any throw_(E&& exception) {
    return throw_(std::make_exception_ptr(std::forward<E>(exception)));
  }

  // Its parent (empty for a main greenlet). set_parent throws green::error
  // for a cycle or a parent of another thread.
  greenlet parent() const;
  void set_parent(greenlet parent);

  bool dead() const noexcept;     // run has returned or thrown
  bool started() const noexcept;  // has been switched to at least once
  // Python's bool(g): started and not dead.
  explicit operator bool() const noexcept { return started() && !dead(); }
  bool is_main() const noexcept;  // a thread's implicit main greenlet

  // A name for diagnostics (stack overflow, dump()); "greenlet-<n>" unless set.
  std::string name() const;
  void set_name(std::string name);

  bool empty() const noexcept { return impl_ == nullptr; }
  friend bool operator==(const greenlet& a, const greenlet& b) noexcept { return a.impl_ == b.impl_; }

  // The implementation object (for weft's own layers: the hub, dump()).
  detail::GreenletImpl* get() const noexcept { return impl_.get(); }
  explicit greenlet(std::shared_ptr<detail::GreenletImpl> impl) noexcept : impl_(std::move(impl)) {}

 private:
  greenlet(Run run, greenlet parent, StackOptions stack, int);
  // switch_() when begin_plain_switch declines: the switch that sends a value.
  [[gnu::noinline]] std::any switch_other_way();

  template <class F>
  static Run adapt(F&& f) {
    using Fn = std::decay_t<F>;
    if constexpr (std::is_invocable_v<Fn&, std::any>) {
      using R = std::invoke_result_t<Fn&, std::any>;
      return [fn = Fn(std::forward<F>(f))](std::any value) mutable -> std::any {
        if constexpr (std::is_void_v<R>) {
          fn(std::move(value));
          return {};
        } else {
          return std::any(fn(std::move(value)));
        }
      };
    } else {
      static_assert(std::is_invocable_v<Fn&>, "a greenlet's run takes nothing or one std::any");
      using R = std::invoke_result_t<Fn&>;
      return [fn = Fn(std::forward<F>(f))](std::any) mutable -> std::any {
        if constexpr (std::is_void_v<R>) {
          fn();
          return {};
        } else {
          return std::any(fn());
        }
      };
    }
  }

  std::shared_ptr<detail::GreenletImpl> impl_;
};

// Python's greenlet.getcurrent().
inline greenlet getcurrent() { return greenlet::getcurrent(); }

}  // namespace weft::green
