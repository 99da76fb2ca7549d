// What every greenlet switch reads and writes, visible to the inline
// switch_() so that a plain switch makes no call but the jump itself.
//
// A greenlet's implementation begins with its SwitchCore (its first base,
// so the core sits at the implementation's address); a thread's greenlet
// state begins with its SwitchThread, which switch_thread points at from
// the thread's first use of greenlets until the thread ends (and at
// no_thread_greenlets before and after). Nothing here is for use outside
// weft::green.
#pragma once

#include <any>
#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>

namespace weft::green::detail {

class GreenletImpl;
struct Stack;

// greenlet::switch_() without a value, made from the caller's own frame
// in the common case: begin_plain_switch does the bookkeeping and says
// where to jump; jump switches stacks; on the side switched to, the switch
// is over once the switcher's context is recorded — or, when the message
// asks for more, end_switch finishes it. Only the jump returns across a
// stack switch, so a switch costs the caller a single mispredicted return,
// as a raw context switch does.
struct Jump {
  void* context;
  void* message;  // a SwitchNote
};

// How every switch's message begins: where the side switched to records
// the switcher's context when that is all there is to do, else null (the
// message carries a value, an exception or a reference; the switcher ended,
// lost its last reference or must have its stack checked; another thread
// left greenlets to unwind).
struct SwitchNote {
  void** resume_at;
};

// What a switch carries from one greenlet to the next. The value, the
// exception and the reference stay in the switcher's frame; the resumed side
// moves them out before anything else (a dead switcher's stack is freed
// right after). A null pointer means none: a plain switch (`plain`) carries
// nothing at all, and the resumed side then touches no std::any or
// std::exception_ptr. resume_at is set only by the public switch_() (to the
// slot of its sender's context).
struct Message : SwitchNote {
  GreenletImpl* from;
  std::any* value;
  std::exception_ptr* exception;
  // A reference to the greenlet switched to that the switcher gives up: it
  // is dropped on the resumed side, once the switcher no longer runs.
  std::shared_ptr<GreenletImpl>* handed;
  bool plain;

  constexpr Message(GreenletImpl* from, std::any* value, std::exception_ptr* exception,
                    std::shared_ptr<GreenletImpl>* handed) noexcept
      : SwitchNote{nullptr},
        from(from),
        value(value),
        exception(exception),
        handed(handed),
        plain(value == nullptr && exception == nullptr && handed == nullptr) {}
};

// A greenlet's name for diagnostics: `text`, or "greenlet-<serial>" while
// that is empty.
struct GreenletName {
  std::uint64_t serial = 0;
  std::string text;
};

// What the stack overflow handler needs to know about a greenlet: its stack
// (null for a thread's main greenlet) and its name. Each greenlet keeps
// one, which the handler finds through switch_thread->current.
struct OverflowInfo {
  const Stack* stack = nullptr;
  const GreenletName* name = nullptr;
};

// The Itanium C++ ABI's per-thread exception globals.
struct EhGlobals {
  void* caught_exceptions;
  unsigned int uncaught_exceptions;
};

// A greenlet's fields that a switch reads and writes, together at the front.
struct SwitchCore {
  enum class State : std::uint8_t { not_started, active, dead };

  void* context_ = nullptr;   // fcontext to resume it at; null before it starts and for the running one
  std::uint64_t thread_ = 0;  // serial number of its thread
  // Its thread's serial while a plain switch may resume it — started, alive,
  // suspended, with no exception state of its own to restore — else 0: the
  // inline switch's whole test of its target. Set by the switch that
  // suspends it, cleared by the one that resumes it.
  std::uint64_t resumable_on_ = 0;
  State state_ = State::not_started;
  bool main_ = false;
  // What its switch out must settle, as bits of one byte that a plain
  // switch tests with one load.
  enum LeaveCheck : std::uint8_t {
    // Its last reference went while it ran: it is settled (destroyed, or
    // unwound if merely suspended) as soon as it switches out.
    kOrphaned = 1,
    // Its stack has no guard page: its canary is checked when it switches out.
    kCanaried = 2,
  };
  std::uint8_t leave_checks_ = 0;
  bool orphaned() const noexcept { return (leave_checks_ & kOrphaned) != 0; }
  bool canaried() const noexcept { return (leave_checks_ & kCanaried) != 0; }
  void set_leave_check(LeaveCheck check, bool on) noexcept {
    leave_checks_ = static_cast<std::uint8_t>(on ? leave_checks_ | check : leave_checks_ & ~check);
  }
  // The C++ runtime's per-thread exception state (caught exceptions, the
  // uncaught count), which each greenlet keeps for itself while suspended.
  // Empty while it runs, so that a switch between greenlets that both have
  // none (the common case) copies nothing.
  void* caught_exceptions_ = nullptr;
  unsigned int uncaught_exceptions_ = 0;
  // What the stack overflow handler reads while it runs.
  OverflowInfo overflow_info_;
};

// A thread's fields that a switch reads and writes.
struct SwitchThread {
  std::uint64_t serial = 0;
  // The C++ runtime's exception globals of this thread (a fixed address).
  EhGlobals* eh_globals = nullptr;
  // The running greenlet. Not a reference: switching touches no counts.
  GreenletImpl* current = nullptr;
  // What a plain switch compares its target's resumable_on_ with: `serial`,
  // or kDeferred while greenlets dropped on other threads wait here to be
  // unwound (which the next switch does, so none is plain). Written only
  // under the thread's lock of those greenlets (ThreadGreenlets).
  static constexpr std::uint64_t kDeferred = ~std::uint64_t{0};
  std::atomic<std::uint64_t> switch_key{kDeferred};
  bool has_deferred() const noexcept { return switch_key.load(std::memory_order_relaxed) != serial; }
  // The message of every switch made by the public switch_() (whose jump is
  // in the caller's frame): plain, so only its sender and resume_at change.
  // Read by the side switched to before any other switch of the thread.
  Message outbox{nullptr, nullptr, nullptr, nullptr};
};
// What switch_thread points at on a thread that has not used greenlets (or
// whose greenlets are gone): no current greenlet, a switch_key no greenlet
// matches. Never written.
extern constinit SwitchThread no_thread_greenlets;
extern constinit __attribute__((tls_model("initial-exec"))) thread_local SwitchThread* switch_thread;

// The core at the front of a greenlet's implementation.
inline SwitchCore& core_of(GreenletImpl* impl) noexcept { return *reinterpret_cast<SwitchCore*>(impl); }

Jump jump(Jump to) noexcept;
std::any end_switch(Jump back);

// The bookkeeping of a plain switch to `to`, without a call, when it is the
// common case: a greenlet of this thread that a plain switch may resume
// (resumable_on_), switched to from one that leaves nothing to settle, with
// no exception in flight. Then sets `jump_to` and returns true; otherwise
// (and always in sanitizer builds, whose switches must tell the sanitizer)
// changes nothing and returns false: the caller switches the general way.
[[gnu::always_inline]] inline bool begin_plain_switch([[maybe_unused]] GreenletImpl* to,
                                                      [[maybe_unused]] Jump& jump_to) noexcept {
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  if (to == nullptr) [[unlikely]]
    return false;
  SwitchThread* const thread = switch_thread;
  SwitchCore& target = core_of(to);
  // The thread's serial, unless greenlets wait to be unwound (or the thread
  // has none yet).
  const std::uint64_t key = thread->switch_key.load(std::memory_order_relaxed);
  if (target.resumable_on_ != key) [[unlikely]]
    return false;
  SwitchCore& self = core_of(thread->current);
  const EhGlobals& eh = *thread->eh_globals;
  if (self.leave_checks_ != 0 ||
      (reinterpret_cast<std::uintptr_t>(eh.caught_exceptions) | eh.uncaught_exceptions) != 0) [[unlikely]]
    return false;
  thread->outbox.from = thread->current;
  thread->outbox.resume_at = &self.context_;
  thread->current = to;
  self.resumable_on_ = key;
  target.resumable_on_ = 0;
  jump_to = Jump{target.context_, static_cast<SwitchNote*>(&thread->outbox)};
  target.context_ = nullptr;
  return true;
#else
  return false;
#endif
}

}  // namespace weft::green::detail
