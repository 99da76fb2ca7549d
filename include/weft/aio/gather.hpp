// weft/aio/gather.hpp — asyncio.gather: run awaitables concurrently and
// collect their results in order.
//
//   auto [a, b] = co_await aio::gather(fetch(1), aio::create_task(fetch(2)));
//   std::vector<int> all = co_await aio::gather(std::move(tasks));
//   auto outcomes = co_await aio::gather(aio::return_exceptions, ...);
//
// Arguments are coroutines (Task<T>, scheduled as tasks), TaskHandle<T>s or
// Future<T>s (each awaited by a task of its own: ensure_future); a range is
// a std::vector of one of them. A void result appears as aio::None.
//
// Without return_exceptions the first task to fail (with an exception, or
// cancelled) makes gather throw that exception at once; the other tasks go
// on running (their later exceptions count as retrieved). With
// return_exceptions every outcome is collected as an Outcome<T>.
//
// Cancelling the task that awaits gather cancels every unfinished task;
// gather then throws CancelledError (as Python's does). Suspends; must be
// awaited inside a task. Allocates one node per task for the whole wait.
#pragma once

#include <span>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/aio/detail/task_watch.hpp"
#include "weft/aio/event_loop.hpp"
#include "weft/aio/future.hpp"
#include "weft/aio/outcome.hpp"
#include "weft/aio/task.hpp"

namespace weft::aio {

struct ReturnExceptions {
  explicit ReturnExceptions() = default;
};
inline constexpr ReturnExceptions return_exceptions{};

namespace detail {

template <class A>
struct Awaited;
template <class T>
struct Awaited<Task<T>> {
  using type = T;
};
template <class T>
struct Awaited<TaskHandle<T>> {
  using type = T;
};
template <class T>
struct Awaited<Future<T>> {
  using type = T;
};
template <class A>
using AwaitedT = typename Awaited<std::remove_cvref_t<A>>::type;

template <class T>
TaskHandle<T> as_task(Task<T>&& coro) {
  return create_task(std::move(coro));
}
template <class T>
TaskHandle<T> as_task(TaskHandle<T> task) noexcept {
  return task;
}
template <class T>
TaskHandle<T> as_task(Future<T> future) {
  return ensure_future(std::move(future));
}

// A finished task's result, as gather stores it (gather has already thrown
// if the task failed).
template <class T>
ResultOf<T> gathered([[maybe_unused]] const TaskHandle<T>& task) {
  if constexpr (std::is_void_v<T>) {
    return None;
  } else {
    return task.result();
  }
}

template <class T>
Outcome<T> gathered_outcome(const TaskHandle<T>& task) {
  if (task.state().has_exception()) return Outcome<T>(task.state().take_exception());
  if constexpr (std::is_void_v<T>) return Outcome<T>(None);
  else return Outcome<T>(task.result());
}

// Every task's exception counts as retrieved — now if it is done, else once
// it is — as gather's done callbacks retrieve them in Python.
void retrieve_all(std::span<TaskState* const> tasks);

// Suspends until every task is done or one fails; rethrows the failure.
Task<void> gather_all(std::span<TaskState* const> tasks);
// Suspends until every task is done; CancelledError if the gathering task
// was cancelled meanwhile.
Task<void> gather_outcomes(std::span<TaskState* const> tasks);

template <class T>
std::vector<TaskState*> states_of(const std::vector<TaskHandle<T>>& tasks) {
  std::vector<TaskState*> states;
  states.reserve(tasks.size());
  for (const TaskHandle<T>& task : tasks) states.push_back(&task.state());
  return states;
}

template <class A>
std::vector<TaskHandle<AwaitedT<A>>> as_tasks(std::vector<A>&& awaitables) {
  std::vector<TaskHandle<AwaitedT<A>>> tasks;
  tasks.reserve(awaitables.size());
  for (A& awaitable : awaitables) tasks.push_back(as_task(std::move(awaitable)));
  return tasks;
}

}  // namespace detail

template <class... A>
Task<std::tuple<ResultOf<detail::AwaitedT<A>>...>> gather(A... awaitables) {
  std::tuple tasks{detail::as_task(std::move(awaitables))...};
  std::array<detail::TaskState*, sizeof...(A)> states = std::apply(
      [](auto&... task) { return std::array<detail::TaskState*, sizeof...(A)>{&task.state()...}; }, tasks);
  co_await detail::gather_all(states);
  co_return std::apply([](auto&... task) { return std::tuple{detail::gathered(task)...}; }, tasks);
}

template <class... A>
Task<std::tuple<Outcome<detail::AwaitedT<A>>...>> gather(ReturnExceptions, A... awaitables) {
  std::tuple tasks{detail::as_task(std::move(awaitables))...};
  std::array<detail::TaskState*, sizeof...(A)> states = std::apply(
      [](auto&... task) { return std::array<detail::TaskState*, sizeof...(A)>{&task.state()...}; }, tasks);
  co_await detail::gather_outcomes(states);
  co_return std::apply([](auto&... task) { return std::tuple{detail::gathered_outcome(task)...}; }, tasks);
}

template <class T>
Task<std::vector<ResultOf<T>>> gather(std::vector<TaskHandle<T>> tasks) {
  const std::vector<detail::TaskState*> states = detail::states_of(tasks);
  co_await detail::gather_all(states);
  std::vector<ResultOf<T>> results;
  results.reserve(tasks.size());
  for (const TaskHandle<T>& task : tasks) results.push_back(detail::gathered(task));
  co_return results;
}

template <class T>
Task<std::vector<ResultOf<T>>> gather(std::vector<Task<T>> coros) {
  return gather(detail::as_tasks(std::move(coros)));
}

template <class T>
Task<std::vector<ResultOf<T>>> gather(std::vector<Future<T>> futures) {
  return gather(detail::as_tasks(std::move(futures)));
}

template <class T>
Task<std::vector<Outcome<T>>> gather(ReturnExceptions, std::vector<TaskHandle<T>> tasks) {
  const std::vector<detail::TaskState*> states = detail::states_of(tasks);
  co_await detail::gather_outcomes(states);
  std::vector<Outcome<T>> outcomes;
  outcomes.reserve(tasks.size());
  for (const TaskHandle<T>& task : tasks) outcomes.push_back(detail::gathered_outcome(task));
  co_return outcomes;
}

template <class T>
Task<std::vector<Outcome<T>>> gather(ReturnExceptions, std::vector<Task<T>> coros) {
  return gather(return_exceptions, detail::as_tasks(std::move(coros)));
}

template <class T>
Task<std::vector<Outcome<T>>> gather(ReturnExceptions, std::vector<Future<T>> futures) {
  return gather(return_exceptions, detail::as_tasks(std::move(futures)));
}

}  // namespace weft::aio
