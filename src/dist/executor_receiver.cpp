// The executor's receiver thread: reads this executor's results stream and
// completes the futures, each from the first result that names it.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>
#include <string>

#include "executor_core.hpp"
#include "stream_entries.hpp"

namespace weft::dist::detail {
namespace {

constexpr std::chrono::milliseconds block_time{1000};
constexpr std::chrono::milliseconds first_backoff{50};
constexpr std::chrono::milliseconds last_backoff{1000};
// Results read since the stream was last trimmed, before trimming again.
constexpr std::size_t trim_every = 1024;

}  // namespace

void ExecutorCore::receive_loop() {
  std::string last_id = "0-0";
  std::size_t since_trim = 0;
  // While reads fail (the connection lost, or a read refused: BUSY,
  // LOADING), they are retried with a backoff; the waiting futures fail
  // once that has lasted connect_timeout.
  std::optional<std::chrono::steady_clock::time_point> failing_since;
  std::chrono::milliseconds backoff = first_backoff;
  for (;;) {
    std::vector<StreamEntry> entries;
    try {
      entries = parse_read_reply(receiver_connection_.blocking_command(
          Command{"XREAD", "COUNT", "1024", "BLOCK", std::to_string(block_time.count()), "STREAMS",
                  results_key_, last_id},
          block_time));
      failing_since.reset();
      backoff = first_backoff;
    } catch (const RedisError&) {
      // Results already in the stream are read again from last_id.
      const auto now = std::chrono::steady_clock::now();
      if (!failing_since) {
        failing_since = now;
      } else if (now - *failing_since >= options_.connection.connect_timeout) {
        fail_waiting(std::current_exception());
        failing_since = now;
      }
      if (stopped_within(backoff)) return;
      backoff = std::min(2 * backoff, last_backoff);
      continue;
    }
    for (const StreamEntry& entry : entries) {
      last_id = entry.id;
      ++since_trim;
      const std::string* id = entry.field("id");
      const std::string* outcome = entry.field("outcome");
      const std::string* payload = entry.field("payload");
      if (id == nullptr || outcome == nullptr || payload == nullptr) continue;
      deliver(*id, *outcome, *payload);
    }
    if (since_trim >= trim_every) {
      try {
        receiver_connection_.command({"XTRIM", results_key_, "MINID", last_id});
        since_trim = 0;
      } catch (const RedisError&) {
        // Trimmed after the next batch instead.
      }
    }
    if (stopped_within(std::chrono::milliseconds(0))) return;
  }
}

bool ExecutorCore::stopped_within(std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  return stop_requested_.wait_for(lock, wait, [&] { return stopping_; });
}

void ExecutorCore::deliver(std::string_view id, std::string_view outcome, std::string_view payload) {
  std::uint64_t number = 0;
  if (std::from_chars(id.data(), id.data() + id.size(), number).ec != std::errc()) return;
  auto sink = take(number);
  if (!sink) return;  // a duplicate (the task ran twice), or a future already failed
  if (outcome == "0") {
    sink->complete(mp::detail::Outcome::value, payload);
  } else {
    sink->complete(mp::detail::Outcome::error, payload);
  }
}

void ExecutorCore::fail_waiting(std::exception_ptr error) {
  std::unordered_map<std::uint64_t, std::shared_ptr<mp::detail::TaskSink>> failed;
  {
    std::lock_guard lock(mutex_);
    failed.swap(waiting_);
    if (idle()) all_done_.notify_all();
  }
  for (auto& [id, sink] : failed) sink->fail(error);
}

}  // namespace weft::dist::detail
