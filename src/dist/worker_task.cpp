// Checking a task entry's fields.
#include "worker_task.hpp"

#include <charconv>
#include <limits>
#include <utility>

#include "weft/dist/detail/wire.hpp"

namespace weft::dist::detail {
namespace {

bool parse_decimal(const std::string& text, std::uint64_t& value) {
  const char* end = text.data() + text.size();
  const auto [at, error] = std::from_chars(text.data(), end, value);
  return !text.empty() && error == std::errc{} && at == end;
}

void add_problem(std::string& problems, std::string_view problem) {
  if (!problems.empty()) problems += "; ";
  problems += problem;
}

}  // namespace

std::string TaskEntry::description() const {
  return "task " + (fn.empty() ? std::string("(unnamed)") : fn) + " (id " + (id.empty() ? entry.id : id) + ")";
}

TaskEntry read_task(StreamEntry entry, std::string_view queue) {
  TaskEntry task;
  task.entry = std::move(entry);
  std::string missing;
  std::string problems;
  const auto text = [&](const char* name, std::string& out) {
    const std::string* value = task.entry.field(name);
    if (value == nullptr) {
      missing += missing.empty() ? "" : ", ";
      missing += name;
      return false;
    }
    out = *value;
    return true;
  };
  const auto number = [&](const char* name, std::uint64_t& out) {
    std::string value;
    if (text(name, value) && !parse_decimal(value, out))
      add_problem(problems, std::string(name) + " is not a decimal number: \"" + value + "\"");
  };

  const bool has_id = text("id", task.id);
  text("fn", task.fn);
  number("sig", task.signature);
  text("args", task.args);
  const bool has_reply = text("reply", task.reply);
  number("retries", task.retries);
  std::uint64_t timeout = 0;
  number("timeout", timeout);
  constexpr auto longest = static_cast<std::uint64_t>(std::chrono::milliseconds::max().count());
  task.timeout = std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(std::min(timeout, longest)));

  const std::string results_prefix = key(queue, "results:");
  const bool reply_usable = has_reply && task.reply.size() > results_prefix.size() &&
                            task.reply.starts_with(results_prefix);
  if (has_reply && !reply_usable)
    add_problem(problems, "reply \"" + task.reply + "\" is not a results stream of this queue");
  if (!missing.empty()) task.malformed = "missing " + missing;
  if (!problems.empty()) add_problem(task.malformed, problems);
  task.answerable = has_id && reply_usable;
  return task;
}

}  // namespace weft::dist::detail
