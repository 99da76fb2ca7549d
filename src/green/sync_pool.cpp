// Group and Pool (weft/green/pool.hpp).
#include <algorithm>
#include <limits>

#include "kill_caller_last.hpp"
#include "weft/green/pool.hpp"

namespace weft::green {

namespace {

const void* key_of(const AnyGreenlet& g) { return g.raw().get(); }

}  // namespace

namespace detail {

GroupMembers::GroupMembers(std::optional<std::size_t> size) : capacity(size) {
  empty.set();
  if (capacity) slots.emplace(static_cast<long long>(*capacity));
}

void GroupMembers::remove(const void* key) noexcept {
  if (members.erase(key) == 0) return;
  if (slots) slots->release();
  if (members.empty()) empty.set();
}

}  // namespace detail

Group::Group(std::optional<std::size_t> capacity)
    : members_(std::make_shared<detail::GroupMembers>(capacity)) {}

Group::~Group() = default;

bool Group::admit(AnyGreenlet g, bool blocking, std::optional<std::chrono::duration<double>> timeout) {
  const void* key = key_of(g);
  if (members_->members.contains(key)) return true;
  if (members_->slots && !members_->slots->acquire(blocking, timeout)) return false;
  // The slot was taken while parked: make sure no one added g meanwhile.
  if (members_->members.contains(key)) {
    if (members_->slots) members_->slots->release();
    return true;
  }
  g.link([members = std::weak_ptr<detail::GroupMembers>(members_), key](AnyGreenlet) {
    if (auto alive = members.lock()) alive->remove(key);
  });
  members_->members.emplace(key, detail::GroupMembers::Member{std::move(g)});
  members_->empty.clear();
  return true;
}

void Group::discard(const AnyGreenlet& g) noexcept {
  if (!g.empty()) members_->remove(key_of(g));
}

void Group::start(AnyGreenlet g) {
  add(g);
  g.start();
}

bool Group::contains(const AnyGreenlet& g) const noexcept {
  return !g.empty() && members_->members.contains(key_of(g));
}

bool Group::contains_current() const noexcept { return members_->members.contains(greenlet::getcurrent().get()); }

std::vector<AnyGreenlet> Group::greenlets() const {
  std::vector<AnyGreenlet> snapshot;
  snapshot.reserve(members_->members.size());
  for (const auto& [key, member] : members_->members) snapshot.push_back(member.greenlet);
  return snapshot;
}

bool Group::join(std::optional<std::chrono::duration<double>> timeout, bool raise_error) {
  const std::vector<AnyGreenlet> watched = raise_error ? greenlets() : std::vector<AnyGreenlet>();
  // The members stay alive while this waits, even if the Group does not.
  const std::shared_ptr<detail::GroupMembers> members = members_;
  const bool emptied = members->empty.wait(timeout);
  for (const AnyGreenlet& g : watched) {
    if (std::exception_ptr failure = g.exception()) std::rethrow_exception(failure);
  }
  return emptied;
}

void Group::kill(std::exception_ptr exception, bool block, std::optional<std::chrono::duration<double>> timeout) {
  const detail::Deadline deadline = detail::deadline_for(timeout);
  const std::shared_ptr<detail::GroupMembers> members = members_;
  while (!members->members.empty()) {
    detail::kill_caller_last(greenlets(), exception, [&members](const AnyGreenlet& g) {
      auto member = members->members.find(key_of(g));
      if (member == members->members.end() || member->second.dying) return false;
      member->second.dying = true;
      return true;
    });
    if (!block) return;
    std::optional<std::chrono::duration<double>> remaining;
    if (deadline) remaining = *deadline - detail::Deadline::value_type::clock::now();
    if (!members->empty.wait(remaining)) return;
  }
}

void Group::killone(const AnyGreenlet& g, std::exception_ptr exception, bool block,
                    std::optional<std::chrono::duration<double>> timeout) {
  auto member = members_->members.find(key_of(g));
  if (member == members_->members.end() || member->second.dying) return;
  member->second.dying = true;
  AnyGreenlet target = g;
  target.kill(std::move(exception), false);
  if (block) target.join(timeout);
}

bool Group::full() const noexcept { return members_->slots && members_->members.size() >= *members_->capacity; }

std::size_t Group::wait_available(std::optional<std::chrono::duration<double>> timeout) {
  if (!members_->slots) return std::numeric_limits<std::size_t>::max();
  const std::shared_ptr<detail::GroupMembers> members = members_;
  return static_cast<std::size_t>(std::max(0LL, members->slots->wait(timeout)));
}

std::size_t Pool::free_count() const noexcept {
  return *members_->capacity - std::min(*members_->capacity, members_->members.size());
}

}  // namespace weft::green
