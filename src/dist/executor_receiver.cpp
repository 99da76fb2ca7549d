// The executor's receiver thread: reads this executor's results stream and
// completes the futures, each from the first result that names it.
#include <charconv>
#include <chrono>
#include <string>

#include "executor_core.hpp"
#include "stream_entries.hpp"

namespace weft::dist::detail {
namespace {

constexpr std::chrono::milliseconds block_time{1000};
// Results read since the stream was last trimmed, before trimming again.
constexpr std::size_t trim_every = 1024;

}  // namespace

void ExecutorCore::receive_loop() {
  std::string last_id = "0-0";
  std::size_t since_trim = 0;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    std::vector<StreamEntry> entries;
    try {
      entries = parse_read_reply(receiver_connection_.blocking_command(
          Command{"XREAD", "COUNT", "1024", "BLOCK", std::to_string(block_time.count()), "STREAMS",
                  results_key_, last_id},
          block_time));
      if (since_trim >= trim_every) {
        receiver_connection_.command({"XTRIM", results_key_, "MINID", last_id});
        since_trim = 0;
      }
    } catch (const RedisConnectionError&) {
      // Results already in the stream are read again from last_id after
      // the reconnect; if Redis stays away, nothing will come.
      try {
        receiver_connection_.reconnect();
      } catch (const RedisError&) {
        fail_waiting(std::current_exception());
      }
      continue;
    } catch (const RedisError&) {
      fail_waiting(std::current_exception());
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
  }
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
