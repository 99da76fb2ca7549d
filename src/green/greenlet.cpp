// greenlet: switching with Boost.Context's fcontext, the per-thread tree of
// greenlets, and unwinding greenlets whose last reference goes.
#include "weft/green/greenlet.hpp"

#include <cxxabi.h>

#include <atomic>
#include <boost/context/detail/fcontext.hpp>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "greenlet_impl.hpp"
#include "overflow_guard.hpp"
#include "weft/detail/exception_text.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define WEFT_GREEN_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define WEFT_GREEN_TSAN 1
#endif

namespace weft::green::detail {

namespace ctx = boost::context::detail;

constinit SwitchThread no_thread_greenlets;
constinit __attribute__((tls_model("initial-exec"))) thread_local SwitchThread* switch_thread = &no_thread_greenlets;

namespace {
std::atomic<std::uint64_t> next_thread_serial{1};
std::atomic<std::uint64_t> next_greenlet_serial{1};
}  // namespace

// A thread's greenlets: its main greenlet, the one running, and those
// dropped on other threads while suspended, to be unwound here.
struct ThreadGreenlets : SwitchThread {
  ThreadGreenlets();
  ~ThreadGreenlets();

  std::shared_ptr<GreenletImpl> main;
  bool ending = false;
  // Started greenlets that are not dead (the main one excepted).
  GreenletImpl* live = nullptr;

  std::mutex deferred_mutex;
  std::vector<GreenletImpl*> deferred;

  // Serial numbers for greenlets made here, taken from the process's
  // counter a block at a time (no atomic operation per greenlet).
  static constexpr std::uint64_t kSerialBlock = 1024;
  std::uint64_t next_serial = 0;
  std::uint64_t serials_left = 0;

  std::uint64_t take_serial() noexcept {
    if (serials_left == 0) {
      next_serial = next_greenlet_serial.fetch_add(kSerialBlock, std::memory_order_relaxed);
      serials_left = kSerialBlock;
    }
    --serials_left;
    return next_serial++;
  }

  // Stacks of greenlets that ended here, kept for the next ones to start
  // here without a trip to the process's pool (given back when the thread
  // ends).
  static constexpr std::size_t kSpareStacks = 16;
  Stack spare[kSpareStacks];
  std::size_t spares = 0;
};

namespace {

// The calling thread's greenlets, null before their first use.
ThreadGreenlets* here() noexcept {
  SwitchThread* const thread = switch_thread;
  return thread != &no_thread_greenlets ? static_cast<ThreadGreenlets*>(thread) : nullptr;
}

// Live threads by serial, for greenlets dropped on another thread.
std::mutex& registry_mutex() {
  static auto* mutex = new std::mutex;
  return *mutex;
}
std::unordered_map<std::uint64_t, ThreadGreenlets*>& registry() {
  static auto* threads = new std::unordered_map<std::uint64_t, ThreadGreenlets*>;
  return *threads;
}

[[gnu::noinline]] ThreadGreenlets& make_this_thread() {
  thread_local ThreadGreenlets owner;
  return *here();
}

[[gnu::always_inline]] inline ThreadGreenlets& this_thread() {
  if (here() == nullptr) [[unlikely]]
    return make_this_thread();
  return *here();
}

SwitchNote* to_note(Message& message) noexcept { return &message; }
Message& of_note(void* note) noexcept { return *static_cast<Message*>(static_cast<SwitchNote*>(note)); }

// What the resumed side took out of a Message.
struct Received {
  GreenletImpl* from;
  std::any value;
  std::exception_ptr exception;
  std::shared_ptr<GreenletImpl> handed;
};

}  // namespace

struct GreenletImpl::Access {
  struct Deleter {
    void operator()(GreenletImpl* impl) const noexcept;
  };

  static void destroy(GreenletImpl* impl) noexcept {
    if (here() != nullptr && here()->serial == impl->thread_) unlink_live(*here(), *impl);
    release_stack(*impl);
#if defined(WEFT_GREEN_TSAN)
    if (impl->tsan_fiber_ != nullptr && !impl->main_) __tsan_destroy_fiber(impl->tsan_fiber_);
#endif
    delete impl;
  }

  static void link_live(ThreadGreenlets& thread, GreenletImpl& impl) noexcept {
    impl.live_next_ = thread.live;
    if (thread.live != nullptr) thread.live->live_prev_ = &impl;
    thread.live = &impl;
  }

  static void unlink_live(ThreadGreenlets& thread, GreenletImpl& impl) noexcept {
    if (impl.live_prev_ != nullptr) {
      impl.live_prev_->live_next_ = impl.live_next_;
    } else if (thread.live == &impl) {
      thread.live = impl.live_next_;
    }
    if (impl.live_next_ != nullptr) impl.live_next_->live_prev_ = impl.live_prev_;
    impl.live_prev_ = impl.live_next_ = nullptr;
  }

  // At the end of a thread: raises GreenletExit in every greenlet still
  // suspended there, even those that only their own stacks refer to, and in
  // those dropped on other threads meanwhile.
  static void unwind_live(ThreadGreenlets& thread) noexcept {
    for (;;) {
      if (thread.has_deferred()) run_deferred(thread);
      if (thread.live == nullptr) break;
      if (thread.live == thread.current) {  // std::exit() called in a greenlet: it runs this
        unlink_live(thread, *thread.current);
        continue;
      }
      std::shared_ptr<GreenletImpl> held = handle_of(thread.live);
      raise_exit(thread, *held);
      if (thread.live == held.get()) unlink_live(thread, *held);  // could not be switched to, or would not exit
    }
  }

  // A reference to a live greenlet, one that lost its last reference while
  // running included.
  static std::shared_ptr<GreenletImpl> handle_of(GreenletImpl* impl) {
    if (impl->orphaned()) {
      impl->set_leave_check(kOrphaned, false);
      return std::shared_ptr<GreenletImpl>(impl, Deleter{});
    }
    return impl->shared_from_this();
  }

  // A greenlet that lost its last reference while running has switched out.
  static void settle_orphan(ThreadGreenlets& thread, GreenletImpl* impl) noexcept {
    impl->set_leave_check(kOrphaned, false);
    if (impl->dead()) {
      destroy(impl);
    } else {
      unwind(thread, impl);
    }
  }

  // Gives its stack back: to `spares_of`'s spares (the greenlet's own
  // thread), if not null and not full, else to the pool.
  static void release_stack(GreenletImpl& impl, ThreadGreenlets* spares_of = nullptr) noexcept {
    if (spares_of != nullptr && impl.stack_ && spares_of->spares < ThreadGreenlets::kSpareStacks) {
      spares_of->spare[spares_of->spares++] = impl.stack_;
    } else {
      StackPool::instance().release(impl.stack_);
    }
    impl.stack_ = {};
    impl.set_leave_check(kCanaried, false);
    impl.context_ = nullptr;
  }

  // A stack for a greenlet starting on `thread`: a spare if one fits.
  static Stack take_stack(ThreadGreenlets& thread, std::size_t size) {
    const std::size_t usable = StackPool::usable_size(size);
    for (std::size_t i = thread.spares; i-- > 0;) {
      if (thread.spare[i].size == usable) {
        const Stack stack = thread.spare[i];
        thread.spare[i] = thread.spare[--thread.spares];
        return stack;
      }
    }
    return StackPool::instance().allocate(size);
  }

  // Raises GreenletExit in a suspended greenlet of this thread so that its
  // stack unwinds; `impl` has no owner left. Only once, as Python does: one
  // that caught it and switched away again, losing its last reference again,
  // is left suspended for good (leaked), and named on stderr. One that took
  // a new reference to itself meanwhile (resurrected) gets it again when
  // that one goes.
  static void unwind(ThreadGreenlets& thread, GreenletImpl* impl) noexcept {
    if (impl->exit_raised_) {
      std::fprintf(stderr, "weft: greenlet %s would not exit; leaked\n", impl->name().c_str());
      unlink_live(thread, *impl);
      return;
    }
    std::shared_ptr<GreenletImpl> again(impl, Deleter{});
    raise_exit(thread, *again);
    if (again.use_count() > 1) again->exit_raised_ = false;
  }

  // Resumes `impl`, a suspended greenlet of this thread, by raising
  // GreenletExit in it, with the running greenlet as its parent.
  static void raise_exit(ThreadGreenlets& thread, GreenletImpl& impl) noexcept {
    impl.exit_raised_ = true;
    impl.parent_ = handle_of(thread.current);
    try {
      std::exception_ptr exit = std::make_exception_ptr(GreenletExit());
      impl.switch_in(nullptr, &exit);
    } catch (...) {
      std::fprintf(stderr, "weft: greenlet %s raised while being unwound: %s\n", impl.name().c_str(),
                   weft::detail::exception_text(std::current_exception()).c_str());
    }
  }

  static void run_deferred(ThreadGreenlets& thread) noexcept {
    std::vector<GreenletImpl*> dropped;
    {
      std::lock_guard lock(thread.deferred_mutex);
      dropped.swap(thread.deferred);
      thread.switch_key.store(thread.serial, std::memory_order_relaxed);
    }
    for (GreenletImpl* impl : dropped) settle_dropped(thread, impl);
  }

  // Settles a greenlet of this thread whose last reference has gone: one
  // that runs is settled when it switches out, one suspended is unwound, one
  // dead or never started is destroyed.
  static void settle_dropped(ThreadGreenlets& thread, GreenletImpl* impl) noexcept {
    if (thread.current == impl) {
      impl->set_leave_check(kOrphaned, true);
    } else if (impl->state_ == State::active && !impl->main_) {
      unwind(thread, impl);
    } else {
      destroy(impl);
    }
  }

  // Leaves a greenlet whose last reference went on another thread to its
  // own thread, which may be running it, to settle at its next switch.
  // False if that thread has ended.
  static bool defer(GreenletImpl* impl) noexcept {
    std::lock_guard lock(registry_mutex());
    const auto owner = registry().find(impl->thread_);
    if (owner == registry().end()) return false;
    std::lock_guard deferred_lock(owner->second->deferred_mutex);
    owner->second->deferred.push_back(impl);
    owner->second->switch_key.store(SwitchThread::kDeferred, std::memory_order_relaxed);
    return true;
  }

  // The greenlet a switch to `to` resumes: `to`, or its first live ancestor.
  [[gnu::always_inline]] static inline GreenletImpl* target_of(const ThreadGreenlets& thread, GreenletImpl& to) {
    if (to.thread_ != thread.serial || to.state_ == State::dead) [[unlikely]]
      return to.live_target(thread);
    return &to;
  }

  [[gnu::always_inline]] static inline std::any end_switch(Jump back) {
    return resumed(*here(), back.context, of_note(back.message));
  }

  // Gives a greenlet that has not started its stack and first context.
  [[gnu::noinline]] static void start(ThreadGreenlets& thread, GreenletImpl& target) {
    target.stack_ = take_stack(thread, target.stack_options_.size);
    target.context_ = ctx::make_fcontext(target.stack_.top(), target.stack_.size, &entry);
    target.state_ = State::active;
    target.ever_started_ = true;
    target.set_leave_check(kCanaried, !target.stack_.guarded);
    link_live(thread, target);
#if defined(WEFT_GREEN_TSAN)
    target.tsan_fiber_ = __tsan_create_fiber(0);
#endif
#if defined(WEFT_GREEN_ASAN)
    // A reused stack keeps the poison of frames that never returned.
    ASAN_UNPOISON_MEMORY_REGION(target.stack_.base, target.stack_.size);
    target.asan_bottom_ = target.stack_.base;
    target.asan_size_ = target.stack_.size;
#endif
  }

  // Switches from the running greenlet to `target` (started or not),
  // sending `out`. Makes no objects that would need destroying: for a
  // greenlet that has ended, this call never returns.
  [[gnu::always_inline]] static inline std::any jump(ThreadGreenlets& thread, GreenletImpl& target, Message& out) {
    void* to = prepare(thread, target);
    const ctx::transfer_t back = ctx::jump_fcontext(to, to_note(out));
    return resumed(thread, back.fctx, of_note(back.data));
  }

  // The switcher's side of a switch up to the jump: makes `target` the
  // running greenlet and returns the context to jump to.
  [[gnu::always_inline]] static inline void* prepare(ThreadGreenlets& thread, GreenletImpl& target) {
    GreenletImpl& self = *thread.current;
    if (target.state_ == State::not_started) [[unlikely]]
      start(thread, target);
    EhGlobals& eh = *thread.eh_globals;
    if ((eh.caught_exceptions != nullptr) | (eh.uncaught_exceptions != 0) | (target.caught_exceptions_ != nullptr) |
        (target.uncaught_exceptions_ != 0)) [[unlikely]]
      swap_exception_state(eh, self, target);
    // A plain switch may resume `self` unless it has ended or now keeps an
    // exception state of its own.
    const bool plain_later =
        self.state_ == State::active && self.caught_exceptions_ == nullptr && self.uncaught_exceptions_ == 0;
    self.resumable_on_ = plain_later ? thread.serial : 0;
    target.resumable_on_ = 0;
    thread.current = &target;
#if defined(WEFT_GREEN_ASAN)
    __sanitizer_start_switch_fiber(self.dead() ? nullptr : &self.asan_fake_stack_, target.asan_bottom_,
                                   target.asan_size_);
#endif
#if defined(WEFT_GREEN_TSAN)
    __tsan_switch_to_fiber(target.tsan_fiber_, 0);
#endif
    void* to = target.context_;
    target.context_ = nullptr;
    return to;
  }

  // Saves the running greenlet's exception state in `self` and installs
  // `target`'s, leaving `target`'s saved state empty (it runs next).
  static void swap_exception_state(EhGlobals& eh, GreenletImpl& self, GreenletImpl& target) noexcept {
    self.caught_exceptions_ = eh.caught_exceptions;
    self.uncaught_exceptions_ = eh.uncaught_exceptions;
    eh.caught_exceptions = std::exchange(target.caught_exceptions_, nullptr);
    eh.uncaught_exceptions = std::exchange(target.uncaught_exceptions_, 0);
  }

  // The first thing the side switched to does: tells AddressSanitizer the
  // switch is over (nothing in other builds).
  static void finish_switch([[maybe_unused]] ThreadGreenlets& thread, [[maybe_unused]] const Message& in) noexcept {
#if defined(WEFT_GREEN_ASAN)
    const void* from_bottom = nullptr;
    std::size_t from_size = 0;
    __sanitizer_finish_switch_fiber(thread.current->asan_fake_stack_, &from_bottom, &from_size);
    GreenletImpl& from = *in.from;
    if (from.main_) {
      from.asan_bottom_ = from_bottom;
      from.asan_size_ = from_size;
    }
#endif
  }

  // Reports an overflow of the stack a greenlet has just switched out of.
  static void check_stack(const GreenletImpl& from) noexcept {
    if (from.canaried() && !StackPool::check_canary(from.stack_)) [[unlikely]]
      report_overflow(from.name_, from.stack_);
  }

  // Where the side switched to continues: `fctx` is where the switcher
  // stopped, `in` what it sent. (Kept apart rather than as one transfer_t:
  // rebuilding that pair in memory stalls store forwarding.) A plain switch
  // from a greenlet that stays alive only records where the switcher
  // stopped.
  [[gnu::always_inline]] static inline std::any resumed(ThreadGreenlets& thread, void* fctx, Message& in) {
    finish_switch(thread, in);
    GreenletImpl& from = *in.from;
    if (in.plain && from.state_ == State::active && !from.orphaned() &&
        !thread.has_deferred()) [[likely]] {
      from.context_ = fctx;
      check_stack(from);
      return {};
    }
    return resumed_slow(thread, fctx, in);
  }

  [[gnu::noinline]] static std::any resumed_slow(ThreadGreenlets& thread, void* fctx, Message& in) {
    Received message = take(fctx, in);
    after_take(thread, message);
    if (message.exception) std::rethrow_exception(std::move(message.exception));
    return std::move(message.value);
  }

  // Moves the message out of the switcher's frame, then records where the
  // switcher stopped, or frees its stack if it has ended.
  static Received take(void* fctx, Message& in) noexcept {
    Received message{in.from, {}, nullptr, nullptr};
    if (in.value != nullptr) message.value = std::move(*in.value);
    if (in.exception != nullptr) message.exception = std::move(*in.exception);
    if (in.handed != nullptr) message.handed = std::move(*in.handed);
    GreenletImpl& from = *in.from;
    check_stack(from);
    if (from.dead()) {
      release_stack(from, here());
      unlink_live(*here(), from);
    } else {
      from.context_ = fctx;
    }
    return message;
  }

  // Settles what the switcher left behind: itself if it lost its last
  // reference, greenlets dropped on other threads, the reference handed over.
  static void after_take(ThreadGreenlets& thread, Received& message) noexcept {
    if (message.from->orphaned()) settle_orphan(thread, message.from);
    if (thread.has_deferred()) run_deferred(thread);
    message.handed.reset();
  }

  // Where every greenlet starts.
  static void entry(ctx::transfer_t transfer) noexcept {
    ThreadGreenlets& thread = *here();
    GreenletImpl* self = thread.current;
    Message& in = of_note(transfer.data);
    finish_switch(thread, in);
    std::any result;
    std::exception_ptr error;
    {
      Received message = take(transfer.fctx, in);
      try {
        after_take(thread, message);
        if (message.exception) std::rethrow_exception(message.exception);
        result = self->raw_run_ != nullptr ? self->raw_run_(self->raw_argument_, std::move(message.value))
                                           : self->run_(std::move(message.value));
      } catch (const GreenletExit& exit) {
        result = exit;
      } catch (...) {
        error = std::current_exception();
      }
    }
    self->run_ = {};
    self->state_ = State::dead;
    std::shared_ptr<GreenletImpl> successor = std::move(self->exit_to_);
    GreenletImpl* next = successor.get();
    if (next == nullptr || next->dead()) {
      next = self->parent_.get();
      while (next->dead()) next = next->parent_.get();
    }
    Message out(self, result.has_value() ? &result : nullptr, error ? &error : nullptr,
                successor ? &successor : nullptr);
    jump(thread, *next, out);
    std::abort();  // a dead greenlet is never resumed
  }
};

void GreenletImpl::Access::Deleter::operator()(GreenletImpl* impl) const noexcept {
  // Only its own thread reads its state: that thread may be running it.
  // Whether it ever started, no thread can change any more.
  ThreadGreenlets* const thread = here();
  if (thread != nullptr && thread->serial == impl->thread_) {
    if (!thread->ending) {
      settle_dropped(*thread, impl);
      return;
    }
  } else if (impl->ever_started_ && defer(impl)) {
    return;
  }
  // Never started (it goes here and now, its run function with it, as
  // Python frees a greenlet that is not running), or its thread has ended
  // or is ending: nothing can run its stack any more.
  destroy(impl);
}

ThreadGreenlets::ThreadGreenlets() {
  serial = next_thread_serial.fetch_add(1);
  switch_key.store(serial, std::memory_order_relaxed);
  eh_globals = reinterpret_cast<EhGlobals*>(abi::__cxa_get_globals());
  switch_thread = this;
  guard_this_thread();
  main = GreenletImpl::make_main(*this);
  current = main.get();
  std::lock_guard lock(registry_mutex());
  registry().emplace(serial, this);
}

ThreadGreenlets::~ThreadGreenlets() {
  // Listed until every live greenlet has been unwound: one whose last handle
  // goes on another thread meanwhile is deferred here, not destroyed there
  // while still in the live list.
  GreenletImpl::Access::unwind_live(*this);
  {
    std::lock_guard lock(registry_mutex());
    registry().erase(serial);
  }
  ending = true;
  GreenletImpl::Access::run_deferred(*this);  // dropped before the entry went
  while (spares > 0) StackPool::instance().release(spare[--spares]);
  main->state_ = GreenletImpl::State::dead;
  current = nullptr;
  main.reset();
  switch_thread = &no_thread_greenlets;
}

std::shared_ptr<GreenletImpl> GreenletImpl::make(greenlet::Run run, std::shared_ptr<GreenletImpl> parent,
                                                 StackOptions stack) {
  stack.size = StackPool::usable_size(stack.size);
  std::shared_ptr<GreenletImpl> impl = make_unstarted(std::move(parent), stack);
  impl->run_ = std::move(run);
  return impl;
}

std::shared_ptr<GreenletImpl> GreenletImpl::make(RawRun run, void* argument, std::shared_ptr<GreenletImpl> parent) {
  std::shared_ptr<GreenletImpl> impl = make_unstarted(std::move(parent), StackOptions{});
  impl->raw_run_ = run;
  impl->raw_argument_ = argument;
  return impl;
}

std::shared_ptr<GreenletImpl> GreenletImpl::make_unstarted(std::shared_ptr<GreenletImpl> parent, StackOptions stack) {
  ThreadGreenlets& thread = this_thread();
  if (!parent) parent = GreenletImpl::Access::handle_of(thread.current);
  if (parent->thread_ != thread.serial) throw error("a greenlet's parent must belong to the same thread");
  std::shared_ptr<GreenletImpl> impl(new GreenletImpl(), Access::Deleter{});
  impl->parent_ = std::move(parent);
  impl->stack_options_ = stack;
  impl->thread_ = thread.serial;
  impl->name_.serial = thread.take_serial();
  impl->overflow_info_ = {&impl->stack_, &impl->name_};
  return impl;
}

std::shared_ptr<GreenletImpl> GreenletImpl::make_main(ThreadGreenlets& thread) {
  std::shared_ptr<GreenletImpl> impl(new GreenletImpl(), Access::Deleter{});
  // The inline switch_() reaches the core at the implementation's address
  // (core_of): the first base of a class without virtual bases sits there.
  if (&core_of(impl.get()) != static_cast<SwitchCore*>(impl.get())) std::abort();
  impl->main_ = true;
  impl->state_ = State::active;
  impl->ever_started_ = true;
  impl->thread_ = thread.serial;
  impl->name_.serial = thread.take_serial();
  impl->name_.text = "main";
  impl->overflow_info_ = {nullptr, &impl->name_};
#if defined(WEFT_GREEN_TSAN)
  impl->tsan_fiber_ = __tsan_get_current_fiber();
#endif
  return impl;
}

std::any GreenletImpl::switch_in(std::any* value, std::exception_ptr* exception,
                                 std::shared_ptr<GreenletImpl>* handed) {
  ThreadGreenlets& thread = this_thread();
  GreenletImpl* target = Access::target_of(thread, *this);
  if (target == thread.current) [[unlikely]]
    return to_self(value, exception);
  Message out(thread.current, value, exception, handed);
  return Access::jump(thread, *target, out);
}

GreenletImpl* GreenletImpl::live_target(const ThreadGreenlets& thread) {
  if (thread_ != thread.serial) throw error("cannot switch to a greenlet of a different thread");
  GreenletImpl* target = this;
  while (target->dead()) {
    target = target->parent_.get();
    if (target == nullptr || target->thread_ != thread.serial) throw error("no live greenlet to switch to");
  }
  return target;
}

std::any GreenletImpl::to_self(std::any* value, std::exception_ptr* exception) {
  if (exception != nullptr && *exception) std::rethrow_exception(*exception);
  return value != nullptr ? std::move(*value) : std::any();
}

#if defined(__x86_64__) && defined(__ELF__)
// jump() is Boost.Context's jump_fcontext under weft's name — the same
// arguments and result registers — reached by a jump, not a call, so that it
// adds no return of its own across the stack switch.
static_assert(sizeof(Jump) == sizeof(ctx::transfer_t));
asm(R"(
  .text
  .globl _ZN4weft5green6detail4jumpENS1_4JumpE
  .type _ZN4weft5green6detail4jumpENS1_4JumpE, @function
  .p2align 4
_ZN4weft5green6detail4jumpENS1_4JumpE:
  jmp *jump_fcontext@GOTPCREL(%rip)
  .size _ZN4weft5green6detail4jumpENS1_4JumpE, .-_ZN4weft5green6detail4jumpENS1_4JumpE
)");
#else
Jump jump(Jump to) noexcept {
  const ctx::transfer_t back = ctx::jump_fcontext(to.context, to.message);
  return Jump{back.fctx, back.data};
}
#endif

std::any end_switch(Jump back) { return GreenletImpl::Access::end_switch(back); }

GreenletImpl& GreenletImpl::running() { return *this_thread().current; }

std::string GreenletImpl::name() const {
  return name_.text.empty() ? "greenlet-" + std::to_string(name_.serial) : name_.text;
}

void GreenletImpl::forsake() noexcept {
  if (!on_this_thread() || main_ || here()->current == this) return;
  Access::unlink_live(*here(), *this);
  state_ = State::dead;
  resumable_on_ = 0;
}

void GreenletImpl::set_parent(std::shared_ptr<GreenletImpl> parent) {
  if (!parent) throw error("a greenlet's parent cannot be empty");
  if (parent->thread_ != thread_) throw error("a greenlet's parent must belong to the same thread");
  for (const GreenletImpl* up = parent.get(); up != nullptr; up = up->parent_.get()) {
    if (up == this) throw error("cyclic parent chain");
  }
  parent_ = std::move(parent);
}

bool GreenletImpl::on_this_thread() const noexcept {
  return here() != nullptr && here()->serial == thread_;
}

}  // namespace weft::green::detail

namespace weft::green {

namespace {
[[gnu::always_inline]] inline detail::GreenletImpl& checked(const std::shared_ptr<detail::GreenletImpl>& impl) {
  if (!impl) throw error("an empty greenlet handle");
  return *impl;
}
}  // namespace

greenlet::greenlet(Run run, greenlet parent, StackOptions stack, int)
    : impl_(detail::GreenletImpl::make(std::move(run), std::move(parent.impl_), stack)) {}

greenlet greenlet::getcurrent() {
  return greenlet(detail::GreenletImpl::Access::handle_of(detail::this_thread().current));
}

std::any greenlet::switch_other_way() { return checked(impl_).switch_in(nullptr, nullptr); }

std::any greenlet::switch_(std::any value) {
  return checked(impl_).switch_in(value.has_value() ? &value : nullptr, nullptr);
}

std::any greenlet::throw_(std::exception_ptr exception) {
  if (!exception) exception = std::make_exception_ptr(GreenletExit());
  return checked(impl_).switch_in(nullptr, &exception);
}

greenlet greenlet::parent() const { return greenlet(checked(impl_).parent()); }

void greenlet::set_parent(greenlet parent) { checked(impl_).set_parent(std::move(parent.impl_)); }

bool greenlet::dead() const noexcept { return impl_ != nullptr && impl_->dead(); }
bool greenlet::started() const noexcept { return impl_ != nullptr && impl_->started(); }
bool greenlet::is_main() const noexcept { return impl_ != nullptr && impl_->is_main(); }

std::string greenlet::name() const { return checked(impl_).name(); }
void greenlet::set_name(std::string name) { checked(impl_).set_name(std::move(name)); }

}  // namespace weft::green
