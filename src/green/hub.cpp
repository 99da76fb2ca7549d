// The hub: a greenlet per thread that resumes woken greenlets and runs the
// event loop (weft/green/hub.hpp).
#include "weft/green/hub.hpp"

#include <pthread.h>

#include <cstdio>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "hub_impl.hpp"
#include "wait_table.hpp"
#include "weft/detail/exception_text.hpp"
#include "weft/green/greenlet_task.hpp"

namespace weft::green {

using detail::GreenletImpl;
using State = detail::HubLink::State;

namespace {

thread_local Hub* tls_hub = nullptr;
thread_local bool tls_hub_ended = false;
// What owns tls_hub (Hub::current's thread_local).
thread_local std::unique_ptr<Hub>* tls_owner = nullptr;

std::mutex options_mutex;
io::LoopOptions default_options;

io::LoopOptions loop_options() {
  std::lock_guard lock(options_mutex);
  return default_options;
}

// The value a park_until timer wakes its greenlet with.
struct TimedOut {};

struct ParkTimer final : io::Timer {
  ParkTimer(Hub::Impl& hub, GreenletImpl& greenlet) noexcept : io::Timer(&fire), hub(&hub), greenlet(&greenlet) {}
  static void fire(io::Timer& timer) noexcept {
    auto& self = static_cast<ParkTimer&>(timer);
    self.hub->wake(*self.greenlet, TimedOut{}, nullptr);
  }
  Hub::Impl* hub;
  GreenletImpl* greenlet;
};

// How long a KeepAlive timer sleeps before it re-arms itself.
constexpr std::chrono::hours kKeepAlivePeriod{24};

// The root of the current greenlet's parent chain: the thread's main greenlet.
std::shared_ptr<GreenletImpl> main_greenlet() {
  std::shared_ptr<GreenletImpl> g = greenlet::getcurrent().get()->shared_from_this();
  while (auto up = g->parent()) g = std::move(up);
  return g;
}

const char* state_name(const GreenletImpl& g, const GreenletImpl& running) {
  if (&g == &running) return "running";
  switch (g.hub.state) {
    case State::parked:
      return "parked";
    case State::queued:
      return "scheduled";
    case State::idle:
      break;
  }
  return g.started() ? "suspended" : "not started";
}

GreenletInfo describe(const GreenletImpl& g, const GreenletImpl& running) {
  const bool parked = g.hub.state == State::parked && g.hub.waiting != nullptr;
  return GreenletInfo{g.name(), state_name(g, running), parked ? g.hub.waiting : ""};
}

// Switches away from a greenlet that parked while its hub shuts down and
// that may not be unwound (again) there: to its parent (the greenlet running
// the shutdown, or unwinding the thread's greenlets), each time it is
// resumed. It stays suspended, leaked.
[[noreturn]] void leave_for_good(GreenletImpl& self) noexcept {
  for (;;) {
    try {
      self.parent()->switch_in(nullptr, nullptr);
    } catch (...) {
    }
  }
}

// Raises the oldest interruption that came while the greenlet was not
// parked, at its blocking point.
[[noreturn]] void raise_oldest_pending(detail::HubLink& link) {
  const std::unique_ptr<detail::PendingInterrupt> oldest = std::move(link.pending);
  link.pending = std::move(oldest->next);
  std::rethrow_exception(oldest->exception);
}

// Takes g off the hub's books without touching the hub's lists (left as
// they are, with the hub).
void drop_link(GreenletImpl& g) noexcept {
  g.hub.state = State::idle;
  g.hub.known = false;
  g.hub.task = nullptr;
  g.hub.waiting = nullptr;
}

// pthread_atfork's child handler, run on the thread that forked: the
// child's only thread. The hub it inherited shares its loop's kernel objects
// (an epoll instance, an io_uring's rings) with the parent's: closing a
// watched descriptor would remove the parent's watch, and a ring cannot be
// entered from here. So that hub is left behind with its loop and wait table,
// leaked and never run, and every greenlet it knew is forsaken (dead here,
// never resumed); the thread's next green call makes a hub of its own, as
// gevent's hub.loop.reinit() gives a child a loop of its own.
void leave_hub_after_fork() noexcept {
  Hub* hub = std::exchange(tls_hub, nullptr);
  if (hub == nullptr) return;
  (void)tls_owner->release();
  detail::forsake_table_after_fork();
  Hub::Impl& impl = Hub::Impl::of(*hub);
  GreenletImpl* self = nullptr;
  try {
    self = &Hub::Impl::running();
  } catch (...) {
  }
  for (GreenletImpl* g = impl.known; g != nullptr; g = g->hub.known_next) {
    g->forsake();  // not the main greenlet, nor the one that forked
    drop_link(*g);
  }
  if (self != nullptr) drop_link(*self);
  if (impl.hub_impl != nullptr) impl.hub_impl->forsake();
}

}  // namespace

// ---- Impl: the run queue and the known list ---------------------------------

Hub::Impl::Impl(io::LoopOptions options) : loop(options), main(main_greenlet()) {
  hub = greenlet([this] { run(); }, greenlet(main));
  hub.set_name("hub");
  hub_impl = hub.get();
}

void Hub::Impl::enqueue(GreenletImpl& g) noexcept {
  // Never without an owner while parked (see park); one dropped on another
  // thread while it ran is left for its own thread to unwind.
  std::shared_ptr<GreenletImpl> self;
  try {
    self = g.shared_from_this();
  } catch (const std::bad_weak_ptr&) {
    g.hub.state = State::idle;
    g.hub.clear_wake();
    return;
  }
  g.hub.prev = queue_tail;
  g.hub.next.reset();
  if (queue_tail != nullptr) {
    queue_tail->hub.next = std::move(self);
  } else {
    queue_head = std::move(self);
  }
  queue_tail = &g;
  // Woken by a timer or callback while the loop runs: it must not then
  // wait for IO.
  if (loop_may_wait) {
    loop_may_wait = false;
    loop.stop();
  }
}

std::shared_ptr<GreenletImpl> Hub::Impl::dequeue() noexcept {
  std::shared_ptr<GreenletImpl> g = std::move(queue_head);
  if (!g) return g;
  queue_head = std::move(g->hub.next);
  if (queue_head) {
    queue_head->hub.prev = nullptr;
  } else {
    queue_tail = nullptr;
  }
  return g;
}

std::shared_ptr<GreenletImpl> Hub::Impl::take_head(std::any& value, std::exception_ptr& exception) noexcept {
  if (batch_last == queue_head.get()) batch_last = nullptr;
  std::shared_ptr<GreenletImpl> g = dequeue();
  detail::HubLink& link = g->hub;
  link.state = State::idle;
  value = std::move(link.value);
  exception = std::move(link.exception);
  link.clear_wake();
  track(*g);
  return g;
}

bool Hub::Impl::queue_runs_next() const noexcept {
  return !closing && !in_loop && hub_impl->started() && (batch_last != nullptr || !loop.alive());
}

// Inlined into park: one call level less between a parked greenlet's code
// and the jump (each level costs a mispredicted return when it resumes).
[[gnu::always_inline]] inline std::any Hub::Impl::switch_away(GreenletImpl& self) {
  if (!head_runs_next()) return hub_impl->switch_in(nullptr, nullptr);
  std::any value;
  std::exception_ptr exception;
  std::shared_ptr<GreenletImpl> next = take_head(value, exception);
  if (next.get() == &self) {
    if (exception) std::rethrow_exception(std::move(exception));
    return value;
  }
  return next->switch_in(value.has_value() ? &value : nullptr, exception ? &exception : nullptr, &next);
}

bool Hub::Impl::yield_returns_at_once(const GreenletImpl& self) const noexcept {
  return !queue_head && queue_runs_next() && !self.hub.pending;
}

std::any Hub::Impl::hand_over_at_exit(GreenletImpl& self) noexcept {
  if (!head_runs_next() || queue_head->hub.exception || queue_head.get() == &self) return {};
  std::any value;
  std::exception_ptr exception;
  self.exit_to(take_head(value, exception));
  return value;
}

void Hub::Impl::unschedule(GreenletImpl& g) noexcept {
  if (g.hub.state != State::queued) return;
  if (batch_last == &g) batch_last = g.hub.prev;
  std::shared_ptr<GreenletImpl>& owner = g.hub.prev != nullptr ? g.hub.prev->hub.next : queue_head;
  std::shared_ptr<GreenletImpl> self = std::move(owner);
  if (g.hub.next) {
    g.hub.next->hub.prev = g.hub.prev;
  } else {
    queue_tail = g.hub.prev;
  }
  owner = std::move(g.hub.next);
  g.hub.prev = nullptr;
  g.hub.state = State::idle;
  g.hub.clear_wake();
  track(g);
}

void Hub::Impl::track(GreenletImpl& g) noexcept {
  detail::HubLink& link = g.hub;
  const bool wanted = link.task != nullptr || link.state != State::idle;
  if (wanted == link.known) return;
  link.known = wanted;
  if (wanted) {
    link.known_prev = known_tail;
    link.known_next = nullptr;
    if (known_tail != nullptr) {
      known_tail->hub.known_next = &g;
    } else {
      known = &g;
    }
    known_tail = &g;
    return;
  }
  if (link.known_prev != nullptr) {
    link.known_prev->hub.known_next = link.known_next;
  } else {
    known = link.known_next;
  }
  if (link.known_next != nullptr) {
    link.known_next->hub.known_prev = link.known_prev;
  } else {
    known_tail = link.known_prev;
  }
  link.known_prev = link.known_next = nullptr;
}

void Hub::Impl::register_task(GreenletImpl& g, detail::TaskBase& task) noexcept {
  g.hub.task = &task;
  ++live_tasks;
  track(g);
}

void Hub::Impl::unregister_task(GreenletImpl& g) noexcept {
  if (g.hub.task == nullptr) return;
  g.hub.task = nullptr;
  --live_tasks;
  track(g);
}

void Hub::Impl::interrupt(GreenletImpl& g, std::exception_ptr exception, const void* source,
                          bool replace_wake) noexcept {
  detail::HubLink& link = g.hub;
  // A greenlet in join() waits on the hub as a parked one does.
  if (link.state == State::parked || (&g == joiner && link.state == State::idle)) {
    link.state = State::queued;
    link.exception = std::move(exception);
    link.interrupt_source = source;
    enqueue(g);
    track(g);
  } else if (link.state == State::queued && replace_wake) {
    link.clear_wake();
    link.exception = std::move(exception);
  } else {
    // Behind the others: a nested Timeout's expiry must not hide an outer
    // one's. (Out of memory, the newest is dropped: the oldest goes first.)
    auto* last = new (std::nothrow) detail::PendingInterrupt{std::move(exception), source, nullptr};
    std::unique_ptr<detail::PendingInterrupt>* end = &link.pending;
    while (*end) end = &(*end)->next;
    end->reset(last);
  }
}

void Hub::Impl::cancel_pending(GreenletImpl& g, const void* source) noexcept {
  detail::HubLink& link = g.hub;
  for (std::unique_ptr<detail::PendingInterrupt>* at = &link.pending; *at;) {
    if ((*at)->source == source) {
      *at = std::move((*at)->next);
    } else {
      at = &(*at)->next;
    }
  }
  Hub* current = Hub::current_if_any();
  if (link.state != State::queued || link.interrupt_source != source || current == nullptr) return;
  if (std::unique_ptr<detail::PendingInterrupt> next = std::move(link.pending)) {
    // The interruption that came next takes its place.
    link.pending = std::move(next->next);
    link.exception = std::move(next->exception);
    link.interrupt_source = next->source;
    return;
  }
  link.interrupt_source = nullptr;
  if (link.woken) {
    // Resumed with the wake that came meanwhile instead.
    link.exception = std::move(link.woken_exception);
    link.woken = false;
    return;
  }
  // Nothing else woke it: it waits on, its waits and timers as they were.
  Impl& hub = of(*current);
  hub.unschedule(g);
  if (&g != hub.joiner) link.state = State::parked;
  hub.track(g);
}

// ---- Impl: the hub greenlet ---------------------------------------------------

void Hub::Impl::run() {
  for (;;) {
    if (queue_head) run_batch();
    if (queue_head) {
      if (loop.alive()) run_loop(io::RunMode::nowait);
    } else if (closing) {
      on_idle();
    } else if (idlers != nullptr) {
      run_loop(io::RunMode::nowait);
      if (!queue_head) wake_idlers();
    } else if (nothing_can_wake()) {
      on_idle();
    } else {
      run_loop(io::RunMode::once);
    }
  }
}

// Resumes the greenlets queued so far; those queued meanwhile wait for the
// next batch, after the loop has had its turn.
void Hub::Impl::run_batch() {
  batch_last = queue_tail;
  while (batch_last != nullptr) {
    std::any value;
    std::exception_ptr exception;
    std::shared_ptr<GreenletImpl> g = take_head(value, exception);
    try {
      g->switch_in(value.has_value() ? &value : nullptr, exception ? &exception : nullptr);
    } catch (...) {
      if (closing) throw;
      report("a greenlet whose parent is the hub");
    }
  }
}

void Hub::Impl::run_loop(io::RunMode mode) {
  loop_may_wait = mode != io::RunMode::nowait;
  in_loop = true;
  try {
    loop.run(mode);
  } catch (...) {
    loop_may_wait = false;
    in_loop = false;
    if (closing) throw;
    report("an event-loop callback");
    return;
  }
  loop_may_wait = false;
  in_loop = false;
}

bool Hub::Impl::nothing_can_wake() const noexcept { return !queue_head && !loop.alive(); }

// Nothing left to run: back to the greenlet in join() — raising LoopExit in
// it if greenlets are parked for good — or LoopExit in the main greenlet.
void Hub::Impl::on_idle() {
  GreenletImpl* target = joiner != nullptr ? joiner : main.get();
  bool parked = false;
  for (const GreenletImpl* g = known; g != nullptr && !parked; g = g->hub.known_next) {
    parked = g->hub.state == State::parked;
  }
  std::exception_ptr error;
  if (!closing && (joiner == nullptr || parked)) error = std::make_exception_ptr(LoopExit(blocked_report()));
  joiner = nullptr;
  try {
    target->switch_in(nullptr, error ? &error : nullptr);
  } catch (...) {
    if (closing) throw;
    report("a greenlet whose parent is the hub");
  }
}

std::string Hub::Impl::blocked_report() const {
  std::string text = "This operation would block forever:";
  const char* separator = " ";
  for (const GreenletImpl* g = known; g != nullptr; g = g->hub.known_next) {
    if (g->hub.state != State::parked) continue;
    text += separator;
    text += g->name();
    text += " waits on ";
    text += g->hub.waiting != nullptr ? g->hub.waiting : "(unknown)";
    separator = "; ";
  }
  if (*separator == ' ') text += " no greenlet is waiting and nothing is scheduled";
  return text;
}

void Hub::Impl::wake_idlers() noexcept {
  IdleWaiter* waiter = std::exchange(idlers, nullptr);
  for (; waiter != nullptr; waiter = waiter->next) wake(*waiter->greenlet, {}, nullptr);
}

void Hub::Impl::report(const char* where) const {
  const std::string type = weft::detail::current_exception_type();
  const std::string text = weft::detail::exception_text(std::current_exception());
  std::fprintf(stderr, "weft: the hub caught %s from %s: %s\n", type.c_str(), where, text.c_str());
}

void Hub::Impl::KeepAlive::fire(io::Timer& timer) noexcept {
  Impl& self = *static_cast<KeepAlive&>(timer).hub;
  if (self.external_waits > 0) self.loop.start_timer(timer, self.loop.now() + kKeepAlivePeriod);
}

// ---- Impl: thread exit ----------------------------------------------------------

// Unwinds every greenlet the hub still holds: GreenletExit is raised once
// in each suspended one, which then returns here (parking is refused from
// now on: see park); ones never started are dropped unrun. The thread's main
// greenlet is left as it is (std::exit() called in a spawned greenlet runs
// this there: main must not resume). Then ends the hub greenlet.
void Hub::Impl::shut_down() noexcept {
  closing = true;
  if (keep_alive.scheduled()) loop.cancel_timer(keep_alive);
  GreenletImpl* self = nullptr;
  try {
    self = &running();
  } catch (...) {
  }
  shutting_down = self;
  constexpr int kRounds = 3;
  for (int round = 0; round < kRounds && self != nullptr && self != hub_impl; ++round) {
    std::vector<std::shared_ptr<GreenletImpl>> held;
    try {
      for (GreenletImpl* g = known; g != nullptr; g = g->hub.known_next) {
        if (g != self && !g->is_main() && !g->hub.exit_raised) held.push_back(g->shared_from_this());
      }
    } catch (...) {
      break;
    }
    if (held.empty()) break;
    for (const auto& g : held) {
      try {
        if (g->dead()) continue;
        if (!g->started()) {
          if (detail::TaskBase* task = g->hub.task) {
            task->kill(nullptr, false, std::nullopt);
          } else {
            unschedule(*g);
          }
          continue;
        }
        g->hub.exit_raised = true;
        greenlet unwinding = g->handle();
        unwinding.set_parent(self->handle());
        unwinding.throw_(GreenletExit());
      } catch (...) {
      }
    }
  }
  while (std::shared_ptr<GreenletImpl> g = dequeue()) {
    g->hub.state = State::idle;
    g->hub.clear_wake();
  }
  while (known != nullptr) {
    GreenletImpl& g = *known;
    if (g.hub.task != nullptr && &g != self) {
      // Its task keeps it (and its stack) for good: nothing may run it now.
      std::fprintf(stderr, "weft: greenlet %s would not exit when its thread ended; leaked\n", g.name().c_str());
      g.hub.task = nullptr;
    }
    g.hub.state = State::idle;
    g.hub.waiting = nullptr;
    g.hub.known = false;
    known = g.hub.known_next;
    g.hub.known_prev = g.hub.known_next = nullptr;
  }
  known_tail = nullptr;
  live_tasks = 0;
  // Greenlets it parented may outlive the hub: end its run (which depends
  // on this state) now rather than when the last of them goes.
  if (hub.started() && !hub.dead() && self != nullptr && self != hub_impl) {
    try {
      // It ends back here, not in its parent, main (which may be this
      // greenlet's ancestor, so no parent of the hub).
      hub_impl->exit_to(self->shared_from_this());
      hub.throw_(GreenletExit());
    } catch (...) {
    }
  }
  hub = greenlet();
  hub_impl = nullptr;
  main.reset();
}

// ---- Hub --------------------------------------------------------------------

Hub::Hub() : impl_(std::make_unique<Impl>(loop_options())) {
  static const int registered = ::pthread_atfork(nullptr, nullptr, &leave_hub_after_fork);
  (void)registered;
}

Hub::~Hub() {
  impl_->shut_down();
  tls_hub = nullptr;
  tls_hub_ended = true;
}

Hub& Hub::current() {
  if (tls_hub != nullptr) [[likely]]
    return *tls_hub;
  if (tls_hub_ended) throw error("this thread's hub has ended: the thread is exiting");
  // The thread's greenlets must outlive its hub: make them first, so that
  // they are destroyed after it.
  (void)greenlet::getcurrent();
  thread_local std::unique_ptr<Hub> owner;
  owner.reset(new Hub());
  tls_owner = &owner;
  tls_hub = owner.get();
  return *tls_hub;
}

Hub* Hub::current_if_any() noexcept { return tls_hub; }

void Hub::set_default_loop_options(io::LoopOptions options) {
  std::lock_guard lock(options_mutex);
  default_options = options;
}

io::Loop& Hub::loop() noexcept { return impl_->loop; }

greenlet Hub::hub_greenlet() const { return impl_->hub; }

std::any Hub::park(const char* what) { return impl_->park(Impl::running(), what); }

std::optional<std::any> Hub::park_until(const char* what, Clock::time_point deadline) {
  return impl_->park_until(Impl::running(), what, deadline);
}

std::any Hub::Impl::park(GreenletImpl& self, const char* what) {
  if (&self == hub_impl) throw error("the hub cannot park: a blocking call in a hub callback or link");
  detail::HubLink& link = self.hub;
  if (link.pending || closing) {
    unschedule(self);  // sleep(0) queued it
    if (closing) {
      // Raised once: a greenlet that parks again after catching it, or
      // parks while an exception unwinds it (a destructor that waits), is
      // left suspended rather than made to spin or terminate.
      if ((link.exit_raised || std::uncaught_exceptions() > 0) && !self.is_main() && &self != shutting_down)
        leave_for_good(self);
      link.exit_raised = true;
      throw GreenletExit("the hub is shutting down");
    }
    raise_oldest_pending(link);
  }
  if (link.state == State::idle) {
    link.state = State::parked;
    track(self);
  }
  link.waiting = what;
  // As in gevent, where whatever will wake a greenlet holds it: the last
  // handle dropped elsewhere meanwhile does not pull it from under its
  // waker. (A task's greenlet is held by its task.)
  const std::shared_ptr<GreenletImpl> keep =
      link.task == nullptr && !self.is_main() ? self.weak_from_this().lock() : nullptr;
  std::any value;
  try {
    value = switch_away(self);
  } catch (...) {
    // Resumed by an exception thrown in directly, not through the hub (or
    // unwound after the hub let go of it at thread exit).
    link.waiting = nullptr;
    if (link.state != State::idle) settle(self);
    throw;
  }
  link.waiting = nullptr;
  if (link.state != State::idle) {
    settle(self);
    throw error("a parked greenlet was switched to directly: only its hub may resume it");
  }
  return value;
}

void Hub::Impl::settle(GreenletImpl& g) noexcept {
  if (g.hub.state == State::queued) unschedule(g);
  g.hub.state = State::idle;
  track(g);
}

std::optional<std::any> Hub::Impl::park_until(GreenletImpl& self, const char* what, Clock::time_point deadline) {
  ParkTimer timer(*this, self);
  loop.start_timer(timer, deadline);
  struct Disarm {
    io::Loop& loop;
    ParkTimer& timer;
    ~Disarm() {
      if (timer.scheduled()) loop.cancel_timer(timer);
    }
  } disarm{loop, timer};
  std::any value = park(self, what);
  if (std::any_cast<TimedOut>(&value) != nullptr) return std::nullopt;
  return std::optional<std::any>(std::in_place, std::move(value));
}

bool Hub::wake(GreenletImpl& g, std::any value) noexcept { return impl_->wake(g, std::move(value), nullptr); }

bool Hub::wake_throw(GreenletImpl& g, std::exception_ptr exception) noexcept {
  return impl_->wake(g, {}, std::move(exception));
}

bool Hub::Impl::wake(GreenletImpl& g, std::any value, std::exception_ptr exception) noexcept {
  detail::HubLink& link = g.hub;
  if (link.state == State::queued && link.interrupt_source != nullptr && !link.woken) {
    // Queued by a Timeout's expiry that may yet be cancelled: the wake is
    // kept for then.
    link.woken = true;
    link.value = std::move(value);
    link.woken_exception = std::move(exception);
    return true;
  }
  if (g.hub.state != State::parked) return false;
  g.hub.state = State::queued;
  g.hub.value = std::move(value);
  g.hub.exception = std::move(exception);
  enqueue(g);
  return true;
}

void Hub::wake_threadsafe(greenlet g, std::any value) {
  if (g.empty()) throw error("an empty greenlet handle");
  impl_->loop.call_soon_threadsafe(
      [this, g = std::move(g), value = std::move(value)]() mutable { wake(*g.get(), std::move(value)); });
}

void Hub::schedule(GreenletImpl& g, std::any value) noexcept {
  if (g.hub.state != State::idle || g.dead()) return;
  g.hub.state = State::queued;
  g.hub.value = std::move(value);
  impl_->enqueue(g);
  impl_->track(g);
}

Hub::ExternalWaitGuard::ExternalWaitGuard(Hub& hub) noexcept : hub_(hub) {
  Impl& impl = *hub_.impl_;
  if (impl.external_waits++ == 0 && !impl.closing) {
    impl.loop.start_timer(impl.keep_alive, Clock::now() + kKeepAlivePeriod);
  }
}

Hub::ExternalWaitGuard::~ExternalWaitGuard() {
  Impl& impl = *hub_.impl_;
  if (--impl.external_waits == 0 && impl.keep_alive.scheduled()) impl.loop.cancel_timer(impl.keep_alive);
}

void Hub::join() {
  Impl& hub = *impl_;
  GreenletImpl& self = Impl::running();
  if (&self == hub.hub_impl) throw error("the hub cannot join itself");
  if (self.hub.pending) raise_oldest_pending(self.hub);
  hub.joiner = &self;
  try {
    hub.hub_impl->switch_in(nullptr, nullptr);
  } catch (...) {
    if (hub.joiner == &self) hub.joiner = nullptr;
    throw;
  }
  if (hub.joiner == &self) hub.joiner = nullptr;
}

std::vector<GreenletInfo> Hub::dump() const {
  const GreenletImpl& running = Impl::running();
  std::vector<GreenletInfo> lines;
  if (!running.hub.known) lines.push_back(describe(running, running));
  if (impl_->main && impl_->main.get() != &running && !impl_->main->hub.known) {
    lines.push_back(describe(*impl_->main, running));
  }
  for (const GreenletImpl* g = impl_->known; g != nullptr; g = g->hub.known_next) {
    lines.push_back(describe(*g, running));
  }
  return lines;
}

std::string dump() {
  std::vector<GreenletInfo> lines;
  if (Hub* hub = Hub::current_if_any()) {
    lines = hub->dump();
  } else {
    const GreenletImpl& running = Hub::Impl::running();
    lines.push_back(describe(running, running));
  }
  std::string text;
  for (const GreenletInfo& line : lines) {
    text += line.name;
    text += ' ';
    text += line.state;
    if (!line.waiting.empty()) {
      text += " on ";
      text += line.waiting;
    }
    text += '\n';
  }
  return text;
}

}  // namespace weft::green
