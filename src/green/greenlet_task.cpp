// gevent's Greenlet on the hub (weft/green/greenlet_task.hpp).
#include "weft/green/greenlet_task.hpp"

#include <cstdio>
#include <memory>

#include "hub_impl.hpp"
#include "kill_caller_last.hpp"
#include "ready_set.hpp"
#include "task_joiner.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/exception_text.hpp"
#include "weft/green/timeout.hpp"

namespace weft::green::detail {

namespace {

using Deadline = weft::detail::Deadline;

Deadline deadline_of(const OptionalSeconds& timeout) {
  if (!timeout) return std::nullopt;
  return weft::detail::deadline_after_clamped(*timeout);
}

// Parks `self` until `done` says so or the deadline passes; returns done().
template <class Done>
bool park_while_not(Hub::Impl& hub, GreenletImpl& self, const char* what, const Deadline& deadline, Done done) {
  while (!done()) {
    if (!deadline) {
      hub.park(self, what);
    } else if (!hub.park_until(self, what, *deadline)) {
      break;
    }
  }
  return done();
}

// Prints a task's failure as gevent does. Call inside a catch block.
void report_failure(const greenlet& g) {
  const std::string type = weft::detail::current_exception_type();
  const std::string text = weft::detail::exception_text(std::current_exception());
  std::fprintf(stderr, "%s failed with %s: %s\n", g.name().c_str(), type.c_str(), text.c_str());
}

}  // namespace

TaskBase::TaskBase()
    : greenlet_(GreenletImpl::make(
          [](void* task, std::any) { return static_cast<TaskBase*>(task)->run_in_greenlet(); }, this,
          Hub::Impl::current().hub_impl->shared_from_this())) {}

TaskBase::~TaskBase() = default;

void TaskBase::start() {
  if (phase_ != Phase::created) return;
  Hub& hub = Hub::current();
  GreenletImpl& g = *greenlet_.get();
  self_ = shared_from_this();
  phase_ = Phase::scheduled;
  Hub::Impl::of(hub).register_task(g, *this);
  hub.schedule(g);
}

void TaskBase::start_later(std::chrono::duration<double> seconds) {
  if (phase_ != Phase::created) return;
  Hub& hub = Hub::current();
  const Deadline when = deadline_of(seconds);
  self_ = shared_from_this();
  phase_ = Phase::delayed;
  Hub::Impl::of(hub).register_task(*greenlet_.get(), *this);
  hub.loop().start_timer(start_timer_, when.value_or(Hub::Clock::time_point::max()));
}

void TaskBase::StartTimer::fire(io::Timer& timer) noexcept {
  TaskBase& task = *static_cast<StartTimer&>(timer).task;
  task.phase_ = Phase::scheduled;
  Hub::current().schedule(*task.greenlet_.get());
}

std::any TaskBase::run_in_greenlet() {
  phase_ = Phase::running;
  std::exception_ptr failure;
  std::exception_ptr exit;
  try {
    invoke();
  } catch (const GreenletExit&) {
    exit = std::current_exception();
  } catch (...) {
    failure = std::current_exception();
    report_failure(greenlet_);
  }
  finish(std::move(failure), std::move(exit));
  GreenletImpl& self = *greenlet_.get();
  {
    // The last reference may go here; `this` is not used after it.
    std::shared_ptr<TaskBase> last = std::move(self_);
  }
  Hub* hub = Hub::current_if_any();
  return hub != nullptr ? Hub::Impl::of(*hub).hand_over_at_exit(self) : std::any();
}

void TaskBase::finish(std::exception_ptr failure, std::exception_ptr exit) noexcept {
  phase_ = Phase::finished;
  exception_ = std::move(failure);
  exit_ = std::move(exit);
  Hub& hub = Hub::current();
  Hub::Impl::of(hub).unregister_task(*greenlet_.get());
  // Wake the joiners in the order they came (the list is newest first).
  Joiner* oldest = joiners_;
  while (oldest != nullptr && oldest->next != nullptr) oldest = oldest->next;
  joiners_ = nullptr;
  for (Joiner* joiner = oldest; joiner != nullptr;) {
    Joiner* newer = joiner->prev;
    joiner->prev = joiner->next = nullptr;
    joiner->linked = false;
    if (joiner->notified != nullptr) {
      joiner->notified(joiner->context);
    } else {
      hub.wake(*joiner->greenlet);
    }
    joiner = newer;
  }
  if (links_.empty()) return;
  try {
    hub.loop().call_soon([self = shared_from_this()] {
      std::vector<LinkEntry> links = std::move(self->links_);
      self->links_.clear();
      for (LinkEntry& entry : links) self->run_link(entry);
    });
  } catch (...) {
    std::fprintf(stderr, "weft: the links of greenlet %s could not be scheduled\n", greenlet_.name().c_str());
  }
}

void TaskBase::run_link(LinkEntry& entry) noexcept {
  const bool wanted = entry.kind == LinkKind::any || (entry.kind == LinkKind::value) == successful();
  if (!wanted) return;
  try {
    entry.callback(AnyGreenlet(shared_from_this()));
  } catch (...) {
    const std::string type = weft::detail::current_exception_type();
    const std::string text = weft::detail::exception_text(std::current_exception());
    std::fprintf(stderr, "weft: a link of greenlet %s raised %s: %s\n", greenlet_.name().c_str(), type.c_str(),
                 text.c_str());
  }
}

void TaskBase::link(Callback callback, LinkKind kind) {
  if (!ready()) {
    links_.push_back(LinkEntry{std::move(callback), kind});
    return;
  }
  Hub::current().loop().call_soon(
      [self = shared_from_this(), entry = LinkEntry{std::move(callback), kind}]() mutable { self->run_link(entry); });
}

bool TaskBase::join(OptionalSeconds timeout) {
  if (ready()) return true;
  // Another greenlet may drop the task's last handle while this one waits.
  const std::shared_ptr<TaskBase> keep = shared_from_this();
  Hub::Impl& hub = Hub::Impl::current();
  GreenletImpl& self = Hub::Impl::running();
  Joiner joiner;
  joiner.attach(*this, self);
  return park_while_not(hub, self, "Greenlet.join", deadline_of(timeout), [this] { return ready(); });
}

void TaskBase::kill(std::exception_ptr exception, bool block, OptionalSeconds timeout) {
  if (ready()) return;
  if (!exception) exception = std::make_exception_ptr(GreenletExit());
  Hub& hub = Hub::current();
  Hub::Impl& impl = Hub::Impl::of(hub);
  GreenletImpl& g = *greenlet_.get();
  if (phase_ != Phase::running) {
    // Never started: it never will.
    if (phase_ == Phase::delayed) hub.loop().cancel_timer(start_timer_);
    if (phase_ == Phase::scheduled) impl.unschedule(g);
    discard();
    std::exception_ptr failure;
    std::exception_ptr exit;
    try {
      std::rethrow_exception(exception);
    } catch (const GreenletExit&) {
      exit = exception;
    } catch (...) {
      failure = exception;
      report_failure(greenlet_);
    }
    std::shared_ptr<TaskBase> keep = std::move(self_);
    finish(std::move(failure), std::move(exit));
    return;
  }
  if (&g == &Hub::Impl::running()) std::rethrow_exception(exception);
  impl.interrupt(g, std::move(exception), nullptr, true);
  if (block) join(timeout);
}

void TaskBase::rethrow_outcome() const {
  if (exception_) std::rethrow_exception(exception_);
  if (exit_) std::rethrow_exception(exit_);
}

void TaskBase::throw_timeout(OptionalSeconds timeout) {
  Timeout expired(timeout);
  expired.cancel();
  throw expired;
}

std::shared_ptr<TaskBase> TaskBase::running() {
  TaskBase* task = Hub::Impl::running().hub.task;
  return task != nullptr ? task->shared_from_this() : nullptr;
}

}  // namespace weft::green::detail

namespace weft::green {

std::vector<AnyGreenlet> joinall(std::span<const AnyGreenlet> greenlets, OptionalSeconds timeout, bool raise_error) {
  std::vector<Waitable> waiting;
  waiting.reserve(greenlets.size());
  for (const AnyGreenlet& g : greenlets) {
    if (!g.empty()) waiting.emplace_back(g);
  }
  std::exception_ptr failure;
  {
    detail::ReadySet ready(std::move(waiting), "joinall");
    const detail::Deadline deadline = detail::deadline_of(timeout);
    while (!(raise_error && failure)) {
      const std::optional<std::size_t> index = ready.next(deadline);
      if (!index) break;
      if (!failure) failure = ready.object(*index).greenlet().exception();
    }
  }
  if (raise_error && failure) std::rethrow_exception(failure);
  std::vector<AnyGreenlet> finished;
  for (const AnyGreenlet& g : greenlets) {
    if (g.ready()) finished.push_back(g);
  }
  return finished;
}

void killall(std::span<const AnyGreenlet> greenlets, std::exception_ptr exception, bool block,
             OptionalSeconds timeout) {
  if (!exception) exception = std::make_exception_ptr(GreenletExit());
  detail::kill_caller_last(greenlets, exception, [](const AnyGreenlet&) { return true; });
  if (block) joinall(greenlets, timeout);
}

AnyGreenlet getcurrent_task() { return AnyGreenlet(detail::TaskBase::running()); }

}  // namespace weft::green
