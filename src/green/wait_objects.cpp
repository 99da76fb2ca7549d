// gevent.wait and gevent.iwait (weft/green/wait_objects.hpp), and the
// ReadySet they and joinall share (ready_set.hpp).
#include "weft/green/wait_objects.hpp"

#include <algorithm>

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

void ReadySet::notified(void* slot) noexcept {
  Slot& s = *static_cast<Slot*>(slot);
  ReadySet& self = *s.owner;
  self.ready_.push_back(s.index);
  // Only a park in next() is ended: the greenlet may be parked elsewhere
  // between two calls of iwait's next().
  if (self.parked_ != nullptr) Hub::current().wake(*self.parked_);
}

bool ReadySet::expects_other_thread() const noexcept {
  return std::ranges::any_of(objects_, [](const Waitable& object) {
    const AsyncResultBase* result = object.async_result();
    return result != nullptr && !result->ready() && result->settable_from_any_thread();
  });
}

std::optional<std::size_t> ReadySet::next(const Deadline& deadline) {
  if (handed_out_ == objects_.size()) return std::nullopt;
  if (handed_out_ == ready_.size()) {
    Hub& hub = Hub::current();
    std::optional<Hub::ExternalWaitGuard> expecting_delivery;
    if (expects_other_thread()) expecting_delivery.emplace(hub);
    GreenletImpl* self = greenlet::getcurrent().get();
    struct Parked {
      GreenletImpl*& slot;
      ~Parked() { slot = nullptr; }
    } parked{parked_};
    parked_ = self;
    // A wake-up from elsewhere (none is expected) parks again.
    while (handed_out_ == ready_.size()) {
      if (!deadline) {
        hub.park(what_);
      } else if (weft::detail::expired(deadline) || !hub.park_until(what_, *deadline)) {
        break;
      }
    }
  }
  if (handed_out_ == ready_.size()) return std::nullopt;
  return ready_[handed_out_++];
}

}  // namespace detail

IWait::IWait(std::vector<Waitable> objects, OptionalSeconds timeout, std::optional<std::size_t> count)
    : timeout_(timeout), count_(std::min(count.value_or(objects.size()), objects.size())) {
  ready_ = std::make_unique<detail::ReadySet>(std::move(objects), "iwait");
}

IWait::IWait(IWait&&) noexcept = default;
IWait& IWait::operator=(IWait&&) noexcept = default;
IWait::~IWait() = default;

std::optional<Waitable> IWait::next() {
  if (!ready_) return std::nullopt;
  if (!begun_) {
    begun_ = true;
    deadline_ = detail::deadline_for(timeout_);
  }
  std::optional<std::size_t> index;
  try {
    if (count_ > 0) index = ready_->next(deadline_);
  } catch (...) {
    ready_.reset();
    throw;
  }
  if (!index) {
    ready_.reset();
    return std::nullopt;
  }
  --count_;
  return ready_->object(*index);
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
