// gevent.wait and gevent.iwait (weft/green/wait_objects.hpp), and the
// ReadySet they and joinall share (ready_set.hpp).
#include "weft/green/wait_objects.hpp"

#include <algorithm>
#include <string>

#include "ready_set.hpp"
#include "weft/errors.hpp"

namespace weft::green {

bool Waitable::ready() const noexcept {
  if (const auto* g = std::get_if<AnyGreenlet>(&object_)) return g->ready();
  if (const auto* e = std::get_if<Event*>(&object_)) return (*e)->is_set();
  return std::get<detail::AsyncResultBase*>(object_)->ready();
}

AnyGreenlet Waitable::greenlet() const noexcept {
  const auto* g = std::get_if<AnyGreenlet>(&object_);
  return g != nullptr ? *g : AnyGreenlet();
}

Event* Waitable::event() const noexcept {
  const auto* e = std::get_if<Event*>(&object_);
  return e != nullptr ? *e : nullptr;
}

detail::AsyncResultBase* Waitable::async_result() const noexcept {
  const auto* r = std::get_if<detail::AsyncResultBase*>(&object_);
  return r != nullptr ? *r : nullptr;
}

namespace detail {

ReadySet::ReadySet(std::vector<Waitable> objects, const char* what)
    : objects_(std::move(objects)), slots_(std::make_unique<Slot[]>(objects_.size())), what_(what) {
  ready_.reserve(objects_.size());
  for (std::size_t i = 0; i < objects_.size(); ++i) {
    const Waitable& object = objects_[i];
    Slot& slot = slots_[i];
    slot.owner = this;
    slot.index = i;
    if (object.ready()) {
      ready_.push_back(i);
    } else if (Event* event = object.event()) {
      event->rawlink(slot.link, &notified, &slot);
    } else if (AsyncResultBase* result = object.async_result()) {
      result->rawlink(slot.link, &notified, &slot);
    } else {
      const AnyGreenlet g = object.greenlet();
      if (g.empty()) throw error("an empty Greenlet handle");
      slot.joiner.attach(*g.get(), &notified, &slot);
    }
  }
}

struct ReadySet::Parked {
  ReadySet* owner;  // null once the set is destroyed
  GreenletImpl& greenlet;
  ~Parked() {
    if (owner != nullptr) owner->parked_ = nullptr;
  }
};

ReadySet::~ReadySet() {
  if (parked_ != nullptr) {
    parked_->owner = nullptr;
    Hub::current().wake(parked_->greenlet);
  }
}

void ReadySet::finish() noexcept {
  finished_ = true;
  slots_.reset();
}

void ReadySet::notified(void* slot) noexcept {
  Slot& s = *static_cast<Slot*>(slot);
  ReadySet& self = *s.owner;
  self.ready_.push_back(s.index);
  // Only a park in next() is ended: the greenlet may be parked elsewhere
  // between two calls of iwait's next().
  if (self.parked_ != nullptr) Hub::current().wake(self.parked_->greenlet);
}

bool ReadySet::expects_other_thread() const noexcept {
  return std::ranges::any_of(objects_, [](const Waitable& object) {
    const AsyncResultBase* result = object.async_result();
    return result != nullptr && !result->ready() && result->settable_from_any_thread();
  });
}

std::optional<std::size_t> ReadySet::next(const Deadline& deadline) {
  if (finished_ || handed_out_ == objects_.size()) return std::nullopt;
  if (handed_out_ == ready_.size()) {
    Hub& hub = Hub::current();
    std::optional<Hub::ExternalWaitGuard> expecting_delivery;
    if (expects_other_thread()) expecting_delivery.emplace(hub);
    const char* const what = what_;
    Parked parked{this, *greenlet::getcurrent().get()};
    parked_ = &parked;
    try {
      // A wake-up from elsewhere (none is expected) parks again. A deadline
      // already past still parks once, as gevent's timeout of 0 switches to
      // the hub: what is scheduled runs before the wait gives up. Once the
      // set is destroyed (an iwait range, by another greenlet), nothing of
      // it is touched.
      for (;;) {
        bool woken = true;
        if (!deadline) {
          hub.park(what);
        } else {
          woken = hub.park_until(what, *deadline).has_value();
        }
        if (parked.owner == nullptr) throw error(std::string(what) + " range destroyed while advanced");
        if (!woken || handed_out_ < ready_.size()) break;
      }
    } catch (...) {
      if (parked.owner != nullptr) finish();
      throw;
    }
  }
  if (handed_out_ == ready_.size()) return std::nullopt;
  return ready_[handed_out_++];
}

}  // namespace detail

struct IWait::State {
  State(std::vector<Waitable> objects, OptionalSeconds timeout, std::size_t count)
      : ready(std::move(objects), "iwait"), timeout(timeout), count(count) {}
  detail::ReadySet ready;
  OptionalSeconds timeout;
  detail::Deadline deadline;  // from the first advance
  std::size_t count;
  bool begun = false;
};

IWait::IWait(std::vector<Waitable> objects, OptionalSeconds timeout, std::optional<std::size_t> count) {
  // Refused here: the deadline is only computed at the first advance.
  if (timeout) weft::detail::reject_nan(*timeout);
  const std::size_t wanted = std::min(count.value_or(objects.size()), objects.size());
  state_ = std::make_unique<State>(std::move(objects), timeout, wanted);
}

IWait::IWait(IWait&&) noexcept = default;
IWait& IWait::operator=(IWait&&) noexcept = default;
IWait::~IWait() = default;

std::optional<Waitable> IWait::next() { return advance(state_.get()); }

// Only through `state`, never the IWait: it may be moved while this parks.
std::optional<Waitable> IWait::advance(State* state) {
  if (state == nullptr) return std::nullopt;
  if (!state->begun) {
    state->begun = true;
    state->deadline = detail::deadline_for(state->timeout);
  }
  // A throw finishes the set (or leaves alone one destroyed meanwhile).
  const std::optional<std::size_t> index =
      state->count > 0 ? state->ready.next(state->deadline) : std::optional<std::size_t>();
  if (!index) {
    state->ready.finish();
    return std::nullopt;
  }
  if (--state->count == 0) state->ready.finish();
  return state->ready.object(*index);
}

IWait iwait(std::span<const Waitable> objects, OptionalSeconds timeout, std::optional<std::size_t> count) {
  return IWait(std::vector<Waitable>(objects.begin(), objects.end()), timeout, count);
}

std::vector<Waitable> wait(std::span<const Waitable> objects, OptionalSeconds timeout,
                           std::optional<std::size_t> count) {
  detail::ReadySet ready(std::vector<Waitable>(objects.begin(), objects.end()), "wait");
  const detail::Deadline deadline = detail::deadline_for(timeout);
  std::size_t wanted = std::min(count.value_or(objects.size()), objects.size());
  std::vector<Waitable> done;
  done.reserve(wanted);
  for (; wanted > 0; --wanted) {
    const std::optional<std::size_t> index = ready.next(deadline);
    if (!index) break;
    done.push_back(ready.object(*index));
  }
  return done;
}

}  // namespace weft::green
