// dist::Executor and the lifecycle of its engine: ids, submission,
// shutdown. The two threads' loops are in executor_sender.cpp and
// executor_receiver.cpp.
#include "weft/dist/executor.hpp"

#include <random>
#include <string>

#include "executor_core.hpp"
#include "stream_entries.hpp"
#include "weft/dist/detail/wire.hpp"
#include "weft/errors.hpp"

namespace weft::dist {
namespace detail {
namespace {

// 16 hex digits: unique enough among the executors of one queue.
std::string random_executor_id() {
  std::random_device device;
  const std::uint64_t bits = (static_cast<std::uint64_t>(device()) << 32) ^ device();
  static constexpr char digits[] = "0123456789abcdef";
  std::string id(16, '0');
  for (int i = 0; i < 16; ++i) id[static_cast<std::size_t>(i)] = digits[(bits >> (4 * i)) & 0xf];
  return id;
}

}  // namespace

ExecutorCore::ExecutorCore(const RedisUrl& url, std::string queue, ExecutorOptions options)
    : url_(url),
      queue_(std::move(queue)),
      options_(options),
      id_(random_executor_id()),
      tasks_key_(tasks_key(queue_)),
      results_key_(results_key(queue_, id_)),
      sender_connection_(url_, options_.connection),
      receiver_connection_(url_, options_.connection) {
  create_workers_group(sender_connection_, tasks_key_);
  sender_ = std::thread([this] { send_loop(); });
  receiver_ = std::thread([this] { receive_loop(); });
}

ExecutorCore::~ExecutorCore() {
  stop_threads();
  std::deque<Queued> unsent;
  std::unordered_map<std::uint64_t, std::shared_ptr<mp::detail::TaskSink>> unanswered;
  {
    std::lock_guard lock(mutex_);
    unsent.swap(outgoing_);
    unanswered.swap(waiting_);
  }
  const auto error =
      std::make_exception_ptr(RuntimeError("the dist::Executor was destroyed before the task's result arrived"));
  for (Queued& queued : unsent) queued.task.sink->fail(error);
  for (auto& [id, sink] : unanswered) sink->fail(error);
}

void ExecutorCore::submit(OutgoingTask task) {
  {
    std::lock_guard lock(mutex_);
    if (shut_down_) throw RuntimeError("cannot schedule new futures after shutdown");
    outgoing_.push_back(Queued{++next_id_, std::move(task)});
  }
  outgoing_ready_.notify_one();
}

void ExecutorCore::shutdown(bool wait, bool cancel_futures) {
  std::deque<Queued> cancelled;
  {
    std::lock_guard lock(mutex_);
    shut_down_ = true;
    if (cancel_futures) cancelled.swap(outgoing_);
  }
  for (Queued& queued : cancelled) queued.task.sink->cancel();
  if (!wait) return;
  {
    std::unique_lock lock(mutex_);
    all_done_.wait(lock, [&] { return idle(); });
  }
  stop_threads();
}

std::shared_ptr<mp::detail::TaskSink> ExecutorCore::take(std::uint64_t id) {
  std::shared_ptr<mp::detail::TaskSink> sink;
  std::lock_guard lock(mutex_);
  const auto found = waiting_.find(id);
  if (found == waiting_.end()) return sink;
  sink = std::move(found->second);
  waiting_.erase(found);
  if (idle()) all_done_.notify_all();
  return sink;
}

void ExecutorCore::stop_threads() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  outgoing_ready_.notify_all();
  stop_requested_.notify_all();
  if (sender_.joinable()) sender_.join();
  // The receiver blocks in XREAD on the results stream: an empty entry
  // wakes it at once (else it notices within its block time).
  try {
    sender_connection_.command({"XADD", results_key_, "*", "id", ""});
  } catch (const RedisError&) {
  }
  if (receiver_.joinable()) receiver_.join();
  try {
    sender_connection_.command({"DEL", results_key_});
  } catch (const RedisError&) {
  }
}

}  // namespace detail

Executor::Executor(std::string_view redis_url, std::string queue, ExecutorOptions options) {
  detail::check_queue_name(queue);
  if (options.task_timeout < std::chrono::milliseconds::zero())
    throw ValueError("a dist::Executor's task_timeout cannot be negative (zero is no time limit)");
  detail::register_dist_exceptions();
  core_ = std::make_unique<detail::ExecutorCore>(RedisUrl::parse(redis_url), std::move(queue), options);
}

Executor::~Executor() {
  if (core_) core_->shutdown(true, false);
}

void Executor::shutdown(bool wait, bool cancel_futures) { core_->shutdown(wait, cancel_futures); }

const std::string& Executor::queue() const noexcept { return core_->queue(); }
const std::string& Executor::id() const noexcept { return core_->id(); }

const detail::RegisteredTask* Executor::registered(const void* fn, std::uint64_t signature) {
  const detail::RegisteredTask* task = detail::find_task(fn, signature);
  if (task == nullptr)
    throw ValueError(
        "this function is not registered for weft::dist: register it with WEFT_DIST_TASK(fn) or "
        "WEFT_DIST_TASK_NAMED(\"name\", fn) at namespace scope, so that workers know it by name");
  return task;
}

void Executor::send(detail::OutgoingTask task) { core_->submit(std::move(task)); }

}  // namespace weft::dist
