// The transactions that end a task.
#include "worker_answer.hpp"

#include <utility>

#include "weft/codec.hpp"
#include "weft/dist/detail/wire.hpp"
#include "weft/dist/errors.hpp"
#include "weft/mp/remote_error.hpp"

namespace weft::dist::detail {
namespace {

Command result_entry(const TaskEntry& task, mp::detail::Outcome outcome, std::string_view payload) {
  return {"XADD",
          task.reply,
          "*",
          "id",
          task.id,
          "outcome",
          std::to_string(static_cast<int>(outcome)),
          "payload",
          std::string(payload)};
}

// The results stream lives on a day after its last answer: one whose
// executor is gone, or that a late answer made again after the executor
// deleted it, does not stay forever.
Command results_expiry(const TaskEntry& task) {
  return {"PEXPIRE", task.reply, std::to_string(results_ttl.count())};
}

// MULTI, `commands`, XACK and XDEL of the task's entry, EXEC.
std::vector<Command> transaction(std::string_view queue, const std::string& entry_id, std::vector<Command> commands) {
  const std::string tasks = tasks_key(queue);
  commands.insert(commands.begin(), Command{"MULTI"});
  commands.push_back({"XACK", tasks, std::string(workers_group), entry_id});
  commands.push_back({"XDEL", tasks, entry_id});
  commands.push_back({"EXEC"});
  return commands;
}

}  // namespace

std::string encode_error(std::exception_ptr error) noexcept {
  try {
    return codec::encode(mp::encode_exception(std::move(error)));
  } catch (...) {
    return {};  // out of memory: the executor reports an undecodable payload
  }
}

std::vector<Command> answer_commands(std::string_view queue, const TaskEntry& task, mp::detail::Outcome outcome,
                                     std::string_view payload) {
  return transaction(queue, task.entry.id, {result_entry(task, outcome, payload), results_expiry(task)});
}

std::vector<Command> dead_letter_commands(std::string_view queue, std::string_view consumer, const TaskEntry& task,
                                          std::string_view reason) {
  Command dead{"XADD", dead_key(queue), "*"};
  for (const auto& [name, value] : task.entry.fields) {
    dead.push_back(name);
    dead.push_back(value);
  }
  dead.insert(dead.end(), {"reason", std::string(reason), "consumer", std::string(consumer)});
  std::vector<Command> commands{std::move(dead)};
  if (task.answerable) {
    commands.push_back(result_entry(task, mp::detail::Outcome::error,
                                    encode_error(std::make_exception_ptr(DeadLetterError(std::string(reason))))));
    commands.push_back(results_expiry(task));
  }
  return transaction(queue, task.entry.id, std::move(commands));
}

std::vector<Reply> send_until_delivered(RedisConnection& redis, std::span<const Command> commands) {
  return with_reconnect(redis, [&](RedisConnection& connection) { return connection.pipeline(commands); });
}

}  // namespace weft::dist::detail
