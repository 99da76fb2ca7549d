// detail::GreenletImpl — what a greenlet handle refers to: its stack, its
// saved context, its run function and its place in its thread's tree.
//
// Made only by make() (a custom deleter unwinds a greenlet whose last
// reference goes while it is suspended). The hub keeps its own per-greenlet
// fields in `hub`; the switching code never touches them.
#pragma once

#include <any>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include "hub_link.hpp"
#include "overflow_guard.hpp"
#include "stack_pool.hpp"
#include "weft/green/greenlet.hpp"

namespace weft::green::detail {

struct ThreadGreenlets;

// Its SwitchCore comes first (see weft/green/detail/switch_core.hpp).
class GreenletImpl : private SwitchCore, public std::enable_shared_from_this<GreenletImpl> {
 public:
  using SwitchCore::State;

  // A new greenlet (not started; throws ValueError for a stack size too
  // large for any stack) / a thread's main greenlet (active).
  static std::shared_ptr<GreenletImpl> make(greenlet::Run run, std::shared_ptr<GreenletImpl> parent,
                                            StackOptions stack);
  // The same with a plain function as its run — run(argument, value) — so
  // that nothing is allocated for it (weft's own tasks), on a default stack.
  using RawRun = std::any (*)(void* argument, std::any value);
  static std::shared_ptr<GreenletImpl> make(RawRun run, void* argument, std::shared_ptr<GreenletImpl> parent);
  static std::shared_ptr<GreenletImpl> make_main(ThreadGreenlets& thread);

  greenlet handle() { return greenlet(shared_from_this()); }
  // The greenlet running on the calling thread (its main greenlet if none
  // was switched to), without taking a reference. Throws only as the
  // thread's first use of greenlets may (std::system_error).
  static GreenletImpl& running();

  // Switches from the current greenlet of the calling thread to this one
  // (or, if it is dead, to its first live ancestor), delivering *value, or
  // raising *exception there if it is not null; null pointers send nothing,
  // and a switch that sends nothing costs no more than the jump and its
  // bookkeeping. The switched-to side moves the objects out of the caller's
  // frame. `handed`, if not null, is a reference to this greenlet that the
  // caller gives up, dropped once the caller no longer runs (a reference
  // that must outlive the caller's turn). Returns what the calling greenlet
  // is resumed with; rethrows what it is resumed by.
  std::any switch_in(std::any* value, std::exception_ptr* exception,
                     std::shared_ptr<GreenletImpl>* handed = nullptr);

  // When its run returns (not raises), switch to `next` — which must be
  // suspended on this thread — instead of the parent, delivering run's
  // result there. Called from the run itself, just before it returns.
  void exit_to(std::shared_ptr<GreenletImpl> next) noexcept { exit_to_ = std::move(next); }

  bool dead() const noexcept { return state_ == State::dead; }
  bool started() const noexcept { return state_ != State::not_started; }
  bool is_main() const noexcept { return main_; }
  std::string name() const;
  void set_name(std::string name) { name_.text = std::move(name); }
  std::shared_ptr<GreenletImpl> parent() const { return parent_; }
  void set_parent(std::shared_ptr<GreenletImpl> parent);
  // Whether it belongs to the calling thread.
  bool on_this_thread() const noexcept;
  // Makes a suspended greenlet of the calling thread dead without running
  // it: a switch to it goes to its first live ancestor, it is not unwound
  // when the thread ends, and its last reference frees it and its stack,
  // whose objects are left undestroyed. For what a forked child inherits of
  // the parent's hub. Never throws.
  void forsake() noexcept;

  // How a switch's message and bookkeeping reach these (greenlet.cpp).
  struct Access;

 private:
  friend struct Access;
  friend struct ThreadGreenlets;
  GreenletImpl() = default;
  static std::shared_ptr<GreenletImpl> make_unstarted(std::shared_ptr<GreenletImpl> parent, StackOptions stack);

  // The greenlet a switch to this one goes to: this or, if it is dead, its
  // first live ancestor. Throws green::error for another thread's greenlet.
  GreenletImpl* live_target(const ThreadGreenlets& thread);
  // A switch to the running greenlet: returns *value or raises *exception.
  static std::any to_self(std::any* value, std::exception_ptr* exception);

  Stack stack_;

  StackOptions stack_options_;
  greenlet::Run run_;
  RawRun raw_run_ = nullptr;  // used instead of run_ when set
  void* raw_argument_ = nullptr;
  std::shared_ptr<GreenletImpl> parent_;
  std::shared_ptr<GreenletImpl> exit_to_;  // see exit_to()
  GreenletName name_;
  // Sanitizer state: AddressSanitizer's fake stack and this stack's bounds,
  // ThreadSanitizer's fiber. Unused in other builds.
  void* asan_fake_stack_ = nullptr;
  const void* asan_bottom_ = nullptr;
  std::size_t asan_size_ = 0;
  void* tsan_fiber_ = nullptr;
  // Links of its thread's list of started, live greenlets (unwound when
  // the thread ends).
  GreenletImpl* live_prev_ = nullptr;
  GreenletImpl* live_next_ = nullptr;
  // GreenletExit has been raised in it to unwind it: if its last reference
  // goes again while it is suspended, it is leaked (see Access::unwind).
  bool exit_raised_ = false;
  // Set once, by the switch that starts it (at once for a thread's main
  // greenlet), while a reference is held: once the last one has gone, no
  // thread can change it, so any thread may read it.
  bool ever_started_ = false;

 public:
  // The hub's fields for this greenlet (after the switching ones, which
  // then share the first cache lines).
  HubLink hub;
};

}  // namespace weft::green::detail
