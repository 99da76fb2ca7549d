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

// A thread's greenlets: its main greenlet, the one running, and those
// dropped on other threads while suspended, to be unwound here.
struct ThreadGreenlets {
  ThreadGreenlets();
  ~ThreadGreenlets();

  std::uint64_t serial;
  std::shared_ptr<GreenletImpl> main;
  // The C++ runtime's exception globals of this thread (a fixed address).
  void* eh_globals;
  // The running greenlet. Not a reference: switching touches no counts.
  GreenletImpl* current = nullptr;
  bool ending = false;
  // Started greenlets that are not dead (the main one excepted).
  GreenletImpl* live = nullptr;

  std::mutex deferred_mutex;
  std::vector<GreenletImpl*> deferred;
  std::atomic<bool> has_deferred{false};
};

namespace {

std::atomic<std::uint64_t> next_thread_serial{1};
std::atomic<std::uint64_t> next_greenlet_serial{1};

// initial-exec: a switch reads it without a call into the dynamic linker.
__attribute__((tls_model("initial-exec"))) thread_local ThreadGreenlets* tls_thread = nullptr;

// Live threads by serial, for greenlets dropped on another thread.
std::mutex& registry_mutex() {
  static auto* mutex = new std::mutex;
  return *mutex;
}
std::unordered_map<std::uint64_t, ThreadGreenlets*>& registry() {
  static auto* threads = new std::unordered_map<std::uint64_t, ThreadGreenlets*>;
  return *threads;
}

ThreadGreenlets& this_thread() {
  if (tls_thread == nullptr) {
    thread_local ThreadGreenlets owner;
  }
  return *tls_thread;
}

// What a switch carries from one greenlet to the next.
struct Message {
  GreenletImpl* from;
  std::any value;
  std::exception_ptr exception;
};

// The Itanium C++ ABI's per-thread exception globals.
struct EhGlobals {
  void* caught_exceptions;
  unsigned int uncaught_exceptions;
};


}  // namespace

struct GreenletImpl::Access {
  struct Deleter {
    void operator()(GreenletImpl* impl) const noexcept;
  };

  static void destroy(GreenletImpl* impl) noexcept {
    if (tls_thread != nullptr && tls_thread->serial == impl->thread_) unlink_live(*tls_thread, *impl);
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
  // suspended there, even those that only their own stacks refer to.
  static void unwind_live(ThreadGreenlets& thread) noexcept {
    while (thread.live != nullptr) {
      std::shared_ptr<GreenletImpl> held = handle_of(thread.live);
      held->parent_ = handle_of(thread.current);
      try {
        held->switch_in({}, std::make_exception_ptr(GreenletExit()));
      } catch (...) {
        std::fprintf(stderr, "weft: greenlet %s raised while being unwound: %s\n", held->name().c_str(),
                     weft::detail::exception_text(std::current_exception()).c_str());
      }
      if (thread.live == held.get()) unlink_live(thread, *held);  // could not be switched to
    }
  }

  // A reference to a live greenlet, one that lost its last reference while
  // running included.
  static std::shared_ptr<GreenletImpl> handle_of(GreenletImpl* impl) {
    if (impl->orphaned_) {
      impl->orphaned_ = false;
      return std::shared_ptr<GreenletImpl>(impl, Deleter{});
    }
    return impl->shared_from_this();
  }

  // A greenlet that lost its last reference while running has switched out.
  static void settle_orphan(ThreadGreenlets& thread, GreenletImpl* impl) noexcept {
    impl->orphaned_ = false;
    if (impl->dead()) {
      destroy(impl);
    } else {
      unwind(thread, impl);
    }
  }

  static void release_stack(GreenletImpl& impl) noexcept {
    StackPool::instance().release(impl.stack_);
    impl.stack_ = {};
    impl.context_ = nullptr;
  }

  // Raises GreenletExit in a suspended greenlet of this thread so that its
  // stack unwinds; `impl` has no owner left.
  static void unwind(ThreadGreenlets& thread, GreenletImpl* impl) noexcept {
    std::shared_ptr<GreenletImpl> again(impl, Deleter{});
    again->parent_ = handle_of(thread.current);
    try {
      again->switch_in({}, std::make_exception_ptr(GreenletExit()));
    } catch (...) {
      std::fprintf(stderr, "weft: greenlet %s raised while being unwound: %s\n", again->name().c_str(),
                   weft::detail::exception_text(std::current_exception()).c_str());
    }
  }

  static void run_deferred(ThreadGreenlets& thread) noexcept {
    std::vector<GreenletImpl*> dropped;
    {
      std::lock_guard lock(thread.deferred_mutex);
      dropped.swap(thread.deferred);
      thread.has_deferred.store(false, std::memory_order_relaxed);
    }
    for (GreenletImpl* impl : dropped) unwind(thread, impl);
  }

  // Switches from the running greenlet to `target` (started or not),
  // sending `out`. Makes no objects that would need destroying: for a
  // greenlet that has ended, this call never returns.
  [[gnu::always_inline]] static inline std::any jump(ThreadGreenlets& thread, GreenletImpl& target, Message& out) {
    GreenletImpl& self = *thread.current;
    if (target.state_ == State::not_started) {
      target.stack_ = StackPool::instance().allocate(target.stack_options_.size);
      target.context_ = ctx::make_fcontext(target.stack_.top(), target.stack_.size, &entry);
      target.state_ = State::active;
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
    auto* eh = static_cast<EhGlobals*>(thread.eh_globals);
    self.caught_exceptions_ = eh->caught_exceptions;
    self.uncaught_exceptions_ = eh->uncaught_exceptions;
    eh->caught_exceptions = target.caught_exceptions_;
    eh->uncaught_exceptions = target.uncaught_exceptions_;
    thread.current = &target;
    running_greenlet = {target.main_ ? nullptr : &target.stack_, &target.name_};
#if defined(WEFT_GREEN_ASAN)
    __sanitizer_start_switch_fiber(self.dead() ? nullptr : &self.asan_fake_stack_, target.asan_bottom_,
                                   target.asan_size_);
#endif
#if defined(WEFT_GREEN_TSAN)
    __tsan_switch_to_fiber(target.tsan_fiber_, 0);
#endif
    void* to = target.context_;
    target.context_ = nullptr;
    const ctx::transfer_t back = ctx::jump_fcontext(to, &out);
    return resumed(back);
  }

  // The bookkeeping on the side that was switched to: records where the
  // switcher stopped, frees a dead one's stack, takes the message.
  static Message take(ctx::transfer_t transfer) noexcept {
    ThreadGreenlets& thread = *tls_thread;
    GreenletImpl& self = *thread.current;
#if defined(WEFT_GREEN_ASAN)
    const void* from_bottom = nullptr;
    std::size_t from_size = 0;
    __sanitizer_finish_switch_fiber(self.asan_fake_stack_, &from_bottom, &from_size);
#else
    (void)self;
#endif
    auto* in = static_cast<Message*>(transfer.data);
    GreenletImpl& from = *in->from;
#if defined(WEFT_GREEN_ASAN)
    if (from.main_) {
      from.asan_bottom_ = from_bottom;
      from.asan_size_ = from_size;
    }
#endif
    Message message{&from, std::move(in->value), std::move(in->exception)};
    if (from.dead()) {
      if (!StackPool::check_canary(from.stack_)) report_overflow(from.name_, from.stack_);
      release_stack(from);
      unlink_live(*tls_thread, from);
    } else {
      from.context_ = transfer.fctx;
      if (!from.main_ && !StackPool::check_canary(from.stack_)) report_overflow(from.name_, from.stack_);
    }
    return message;
  }

  static std::any resumed(ctx::transfer_t transfer) {
    Message message = take(transfer);
    ThreadGreenlets& thread = *tls_thread;
    if (message.from->orphaned_) settle_orphan(thread, message.from);
    if (thread.has_deferred.load(std::memory_order_relaxed)) run_deferred(thread);
    if (message.exception) std::rethrow_exception(message.exception);
    return std::move(message.value);
  }

  // Where every greenlet starts.
  static void entry(ctx::transfer_t transfer) noexcept {
    ThreadGreenlets& thread = *tls_thread;
    GreenletImpl* self = thread.current;
    std::any result;
    std::exception_ptr error;
    {
      Message message = take(transfer);
      try {
        if (message.from->orphaned_) settle_orphan(thread, message.from);
        if (thread.has_deferred.load(std::memory_order_relaxed)) run_deferred(thread);
        if (message.exception) std::rethrow_exception(message.exception);
        result = self->run_(std::move(message.value));
      } catch (const GreenletExit& exit) {
        result = exit;
      } catch (...) {
        error = std::current_exception();
      }
    }
    self->run_ = {};
    self->state_ = State::dead;
    GreenletImpl* parent = self->parent_.get();
    while (parent->dead()) parent = parent->parent_.get();
    Message out{self, std::move(result), std::move(error)};
    jump(thread, *parent, out);
    std::abort();  // a dead greenlet is never resumed
  }
};

void GreenletImpl::Access::Deleter::operator()(GreenletImpl* impl) const noexcept {
  if (tls_thread != nullptr && tls_thread->current == impl) {
    impl->orphaned_ = true;  // running: settled when it switches out
    return;
  }
  if (impl->state_ == State::active && !impl->main_) {
    ThreadGreenlets* thread = tls_thread;
    if (thread != nullptr && !thread->ending && thread->serial == impl->thread_) {
      unwind(*thread, impl);
      return;
    }
    std::lock_guard lock(registry_mutex());
    if (auto owner = registry().find(impl->thread_); owner != registry().end()) {
      std::lock_guard deferred_lock(owner->second->deferred_mutex);
      owner->second->deferred.push_back(impl);
      owner->second->has_deferred.store(true, std::memory_order_relaxed);
      return;
    }
    // Its thread has ended: nothing can run its stack any more.
  }
  destroy(impl);
}

ThreadGreenlets::ThreadGreenlets()
    : serial(next_thread_serial.fetch_add(1)), eh_globals(abi::__cxa_get_globals()) {
  tls_thread = this;
  guard_this_thread();
  main = GreenletImpl::make_main(*this);
  current = main.get();
  std::lock_guard lock(registry_mutex());
  registry().emplace(serial, this);
}

ThreadGreenlets::~ThreadGreenlets() {
  {
    std::lock_guard lock(registry_mutex());
    registry().erase(serial);
  }
  GreenletImpl::Access::run_deferred(*this);
  GreenletImpl::Access::unwind_live(*this);
  ending = true;
  main->state_ = GreenletImpl::State::dead;
  current = nullptr;
  main.reset();
  running_greenlet = {};
  tls_thread = nullptr;
}

std::shared_ptr<GreenletImpl> GreenletImpl::make(greenlet::Run run, std::shared_ptr<GreenletImpl> parent,
                                                 StackOptions stack) {
  ThreadGreenlets& thread = this_thread();
  if (!parent) parent = GreenletImpl::Access::handle_of(thread.current);
  if (parent->thread_ != thread.serial) throw error("a greenlet's parent must belong to the same thread");
  std::shared_ptr<GreenletImpl> impl(new GreenletImpl(), Access::Deleter{});
  impl->run_ = std::move(run);
  impl->parent_ = std::move(parent);
  impl->stack_options_ = stack;
  impl->thread_ = thread.serial;
  impl->serial_ = next_greenlet_serial.fetch_add(1, std::memory_order_relaxed);
  return impl;
}

std::shared_ptr<GreenletImpl> GreenletImpl::make_main(ThreadGreenlets& thread) {
  std::shared_ptr<GreenletImpl> impl(new GreenletImpl(), Access::Deleter{});
  impl->main_ = true;
  impl->state_ = State::active;
  impl->thread_ = thread.serial;
  impl->serial_ = next_greenlet_serial.fetch_add(1, std::memory_order_relaxed);
  impl->name_ = "main";
#if defined(WEFT_GREEN_TSAN)
  impl->tsan_fiber_ = __tsan_get_current_fiber();
#endif
  return impl;
}

std::any GreenletImpl::switch_in(std::any value, std::exception_ptr exception) {
  ThreadGreenlets& thread = this_thread();
  if (thread_ != thread.serial) throw error("cannot switch to a greenlet of a different thread");
  GreenletImpl* target = this;
  while (target->dead()) {
    target = target->parent_.get();
    if (target == nullptr || target->thread_ != thread.serial) throw error("no live greenlet to switch to");
  }
  if (target == thread.current) {
    if (exception) std::rethrow_exception(exception);
    return value;
  }
  Message out{thread.current, std::move(value), std::move(exception)};
  return Access::jump(thread, *target, out);
}

std::string GreenletImpl::name() const {
  return name_.empty() ? "greenlet-" + std::to_string(serial_) : name_;
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
  return tls_thread != nullptr && tls_thread->serial == thread_;
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

std::any greenlet::switch_(std::any value) { return checked(impl_).switch_in(std::move(value), nullptr); }

std::any greenlet::throw_(std::exception_ptr exception) {
  if (!exception) exception = std::make_exception_ptr(GreenletExit());
  return checked(impl_).switch_in({}, std::move(exception));
}

greenlet greenlet::parent() const { return greenlet(checked(impl_).parent()); }

void greenlet::set_parent(greenlet parent) { checked(impl_).set_parent(std::move(parent.impl_)); }

bool greenlet::dead() const noexcept { return impl_ != nullptr && impl_->dead(); }
bool greenlet::started() const noexcept { return impl_ != nullptr && impl_->started(); }
bool greenlet::is_main() const noexcept { return impl_ != nullptr && impl_->is_main(); }

std::string greenlet::name() const { return checked(impl_).name(); }
void greenlet::set_name(std::string name) { checked(impl_).set_name(std::move(name)); }

}  // namespace weft::green
