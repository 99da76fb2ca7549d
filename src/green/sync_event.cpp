// Event and AsyncResult (weft/green/event.hpp, weft/green/async_result.hpp).
#include "weft/green/async_result.hpp"
#include "weft/green/event.hpp"
#include "weft/green/greenlet_task.hpp"

namespace weft::green {

void Event::set() noexcept {
  flag_ = true;
  waiters_.notify_all();
}

bool Event::wait(std::optional<std::chrono::duration<double>> timeout) {
  if (flag_) return true;
  detail::Waiter waiter(waiters_);
  return waiter.wait("Event.wait", detail::deadline_for(timeout)) != detail::kNoNotice || flag_;
}

namespace detail {

AsyncResultBase::AsyncResultBase(SetFrom setter) {
  if (setter == SetFrom::any_thread) {
    hub_ = &Hub::current();
    anchor_ = std::make_shared<AsyncResultBase*>(this);
  }
}

AsyncResultBase::~AsyncResultBase() {
  if (anchor_) *anchor_ = nullptr;
}

void AsyncResultBase::become_ready(std::exception_ptr exception) noexcept {
  exception_ = std::move(exception);
  ready_ = true;
  waiters_.notify_all();
}

void AsyncResultBase::set_exception(std::exception_ptr exception) {
  if (!exception) throw ValueError("AsyncResult.set_exception needs an exception");
  become_ready(std::move(exception));
}

void AsyncResultBase::set_exception_threadsafe(std::exception_ptr exception) {
  if (!exception) throw ValueError("AsyncResult.set_exception needs an exception");
  post([exception](AsyncResultBase& self) { self.become_ready(exception); });
}

bool AsyncResultBase::wait_until(const char* what, const Deadline& deadline) {
  if (ready_) return true;
  // A result set from another thread keeps the hub from declaring the wait
  // hopeless while it is pending.
  std::optional<Hub::ExternalWaitGuard> expecting_delivery;
  if (hub_ != nullptr) expecting_delivery.emplace(*hub_);
  Waiter waiter(waiters_);
  waiter.wait(what, deadline);
  return ready_;
}

bool AsyncResultBase::wait(std::optional<std::chrono::duration<double>> timeout) {
  return wait_until("AsyncResult.wait", deadline_for(timeout));
}

void AsyncResultBase::wait_for_get(bool block, const std::optional<std::chrono::duration<double>>& timeout) {
  if (ready_) return;
  // The Timeout a Greenlet's get() raises: gevent's AsyncResult and
  // Greenlet share get().
  if (!block) TaskBase::throw_timeout(std::nullopt);
  if (!wait_until("AsyncResult.get", deadline_for(timeout))) TaskBase::throw_timeout(timeout);
}

bool AsyncResultBase::wait_for_try_get(std::chrono::duration<double> timeout) {
  return wait_until("AsyncResult.get", deadline_for(timeout));
}

void AsyncResultBase::throw_no_value() { throw ValueError("AsyncResult has no value: not ready or failed"); }

void AsyncResultBase::throw_not_threadsafe() {
  throw RuntimeError("AsyncResult made for SetFrom::this_thread was set from another thread");
}

void AsyncResultBase::post_callback(weft::detail::UniqueFunction<void()> callback) {
  hub_->loop().call_soon_threadsafe(std::move(callback));
}

}  // namespace detail
}  // namespace weft::green
