// The executor's sender thread: moves submitted tasks into the queue's
// stream, a batch per round trip.
#include <span>
#include <string>

#include "executor_core.hpp"
#include "weft/dist/detail/wire.hpp"

namespace weft::dist::detail {
namespace {

constexpr std::size_t max_batch = 512;

}  // namespace

void ExecutorCore::send_loop() {
  std::vector<Queued> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      outgoing_ready_.wait(lock, [&] { return stopping_ || !outgoing_.empty(); });
      if (outgoing_.empty()) return;
      while (!outgoing_.empty() && batch.size() < max_batch) {
        batch.push_back(std::move(outgoing_.front()));
        outgoing_.pop_front();
      }
      in_flight_ = batch.size();
    }
    send_batch(batch);
    batch.clear();
    std::lock_guard lock(mutex_);
    in_flight_ = 0;
    if (idle()) all_done_.notify_all();
  }
}

void ExecutorCore::send_batch(std::vector<Queued>& batch) {
  // A future cancelled meanwhile is not sent.
  std::erase_if(batch, [](Queued& queued) { return !queued.task.sink->start(); });
  if (batch.empty()) return;
  {
    // Waiting before the XADD: a fast worker's result may come first.
    std::lock_guard lock(mutex_);
    for (const Queued& queued : batch) waiting_.emplace(queued.id, queued.task.sink);
  }
  const std::string retries = std::to_string(options_.max_retries);
  const std::string timeout = std::to_string(options_.task_timeout.count());
  std::vector<Command> commands;
  commands.reserve(batch.size());
  for (const Queued& queued : batch) {
    const RegisteredTask& function = *queued.task.function;
    commands.push_back(Command{"XADD", tasks_key_, "*", "id", std::to_string(queued.id), "fn", function.name,
                               "sig", std::to_string(function.signature), "args", queued.task.args,
                               "reply", results_key_, "retries", retries, "timeout", timeout});
  }
  // A task Redis cannot parse (arguments longer than its
  // proto-max-bulk-len) ends a round: the tasks before it are in the
  // stream, those after it are sent in the next round.
  for (std::size_t sent = 0; sent < batch.size();) {
    const std::span<const Command> rest = std::span<const Command>(commands).subspan(sent);
    std::vector<Reply> replies;
    try {
      // Resent whole after a reconnect: a task may reach the stream twice,
      // and the second result for its id is ignored.
      replies = with_reconnect(sender_connection_, [&](RedisConnection& redis) { return redis.pipeline(rest); });
    } catch (const RedisError&) {
      const auto error = std::current_exception();
      for (std::size_t i = sent; i < batch.size(); ++i)
        if (auto sink = take(batch[i].id)) sink->fail(error);
      return;
    }
    for (std::size_t i = 0; i < replies.size(); ++i) {
      if (!replies[i].is_error()) continue;
      const std::string why = replies[i].is_protocol_error()
                                  ? "Redis refused the task, whose arguments are " +
                                        std::to_string(batch[sent + i].task.args.size()) +
                                        " bytes (more than its proto-max-bulk-len?): "
                                  : "XADD of the task failed: ";
      if (auto sink = take(batch[sent + i].id))
        sink->fail(std::make_exception_ptr(RedisResponseError(why + replies[i].str)));
    }
    sent += replies.size();
  }
}

}  // namespace weft::dist::detail
