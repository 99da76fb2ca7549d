// run_worker: the serve loop. Reads tasks one at a time (XREADGROUP COUNT
// 1), so that every task waits in the stream, where any idle worker can
// take it, rather than behind a long task in one worker's prefetch (where,
// unwatched, it would also outlive the visibility timeout and be run
// twice); the read of the next task rides in the round trip that answers
// the last. Claims the tasks of lost workers every visibility_timeout / 2.
// After the connection breaks, first runs the tasks still pending for this
// consumer: a reply lost with the connection may have delivered one.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "stream_entries.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/dist/detail/encode.hpp"
#include "weft/dist/detail/wire.hpp"
#include "weft/dist/errors.hpp"
#include "weft/dist/registry.hpp"
#include "weft/dist/worker.hpp"
#include "weft/errors.hpp"
#include "worker_answer.hpp"
#include "worker_stop.hpp"
#include "worker_task.hpp"
#include "worker_watchdog.hpp"

namespace weft::dist {
namespace {

using weft::detail::Clock;
using std::chrono::milliseconds;

// The longest a read blocks: how late a stop request may be noticed.
constexpr milliseconds longest_block{1000};

// How many times the answer of one task is sent over connections that
// break under it before the worker stops.
constexpr int most_answer_rounds = 3;

std::string default_consumer() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host) + ":" + std::to_string(::getpid());
}

// Deletes consumer ARGV[2] of group ARGV[1] of stream KEYS[1] if no entry
// is pending for it.
constexpr std::string_view leave_script = R"lua(
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) == 0 then
  return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
end
return -1
)lua";

// Deletes the consumers of group ARGV[1] of stream KEYS[1] idle for more
// than ARGV[2] ms with no entry pending; returns how many.
constexpr std::string_view forget_idle_script = R"lua(
local gone = 0
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local fields = {}
  for i = 1, #consumer, 2 do fields[consumer[i]] = consumer[i + 1] end
  if fields['pending'] == 0 and fields['idle'] > tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], fields['name'])
    gone = gone + 1
  end
end
return gone
)lua";

bool is_nogroup(const RedisResponseError& error) { return std::string_view(error.what()).starts_with("NOGROUP"); }

// The transaction that ends a task.
struct Answer {
  std::vector<Command> transaction;
  detail::TaskEntry task;
  // Connections lost while sending it.
  int rounds = 0;
  // It replaces an answer Redis could not parse.
  bool replacement = false;
};

class Server {
 public:
  Server(const WorkerOptions& options, const RedisUrl& url, std::string consumer)
      : options_(options),
        consumer_(std::move(consumer)),
        tasks_(detail::tasks_key(options.queue)),
        redis_(url, options.connection),
        watchdog_(RedisConnection(url, options.connection), options.queue, consumer_, options.visibility_timeout),
        reclaim_interval_(std::max(options.visibility_timeout / 2, milliseconds(1))) {}

  void serve() {
    detail::create_workers_group(redis_, tasks_);
    // A task read with the last answer is run even after a stop request:
    // it is this worker's already.
    while (!next_.empty() || unsent_answer_ || (!detail::stop_requested() && !quota_reached(ended_))) {
      try {
        serve_once();
      } catch (const RedisConnectionError&) {
        redis_.reconnect();  // throws when Redis stays away
        own_pending_due_ = true;
      } catch (const RedisResponseError& error) {
        if (!is_nogroup(error)) throw;
        // The stream was deleted, or Redis restarted empty.
        detail::create_workers_group(redis_, tasks_);
      }
    }
    leave_group();
  }

 private:
  bool quota_reached(std::size_t ended) const { return options_.max_tasks && ended >= *options_.max_tasks; }

  void serve_once() {
    // An answer Redis did not take before the connection was lost: sent
    // again first, once reconnected.
    if (unsent_answer_) return finish(std::move(*std::exchange(unsent_answer_, std::nullopt)));
    if (own_pending_due_ && next_.empty()) return run_own_pending();
    // Lost tasks first, even while new ones keep coming (unless the worker
    // is about to stop) — but not while a task read ahead waits in next_:
    // unwatched there, it could itself be claimed as lost and run twice.
    const bool may_take_more = !detail::stop_requested() && !quota_reached(ended_ + next_.size());
    if (may_take_more && next_.empty() && Clock::now() >= next_reclaim_) {
      reclaim();
      return;
    }
    // The task read with the last answer, if one came; else wait for one.
    std::vector<detail::StreamEntry> entries = std::exchange(next_, {});
    if (entries.empty()) {
      const auto until_reclaim = std::chrono::ceil<milliseconds>(next_reclaim_ - Clock::now());
      const milliseconds block =
          std::clamp(std::min(until_reclaim, longest_block), milliseconds(1), reclaim_interval_);
      entries = detail::parse_read_reply(redis_.blocking_command(read_command(block), block));
    }
    for (detail::StreamEntry& entry : entries) handle(std::move(entry), false);
  }

  // XREADGROUP of one new task, blocking for `block` if given.
  Command read_command(std::optional<milliseconds> block) const {
    Command read{"XREADGROUP", "GROUP", std::string(detail::workers_group), consumer_, "COUNT", "1"};
    if (block) read.insert(read.end(), {"BLOCK", std::to_string(block->count())});
    read.insert(read.end(), {"STREAMS", tasks_, ">"});
    return read;
  }

  // Runs the oldest task still pending for this consumer, if any: one
  // whose delivery reached Redis but whose reply was lost with the
  // connection (a read, a read riding on an answer, a claim), which nobody
  // would run before the visibility timeout (and, with no retries left,
  // would then be dead-lettered unrun). This worker's answers are sent
  // before, and each task it runs is acknowledged with its answer, so every
  // task found here is such a task.
  void run_own_pending() {
    std::vector<detail::StreamEntry> entries = detail::parse_read_reply(redis_.command(
        {"XREADGROUP", "GROUP", std::string(detail::workers_group), consumer_, "COUNT", "1", "STREAMS", tasks_, "0"}));
    if (entries.empty()) {
      own_pending_due_ = false;
      return;
    }
    for (detail::StreamEntry& entry : entries) handle(std::move(entry), false);
  }

  // After the last answer: this worker's consumer leaves the group, so
  // that workers coming and going do not grow it without bound. A consumer
  // with a task still pending stays, for the task to be claimed; so does
  // one that Redis cannot be told about, for another worker's reclaim to
  // delete once it is idle.
  void leave_group() {
    try {
      redis_.command({"EVAL", leave_script, "1", tasks_, detail::workers_group, consumer_});
    } catch (const RedisError&) {
    }
  }

  // Deletes the consumers idle longer than the visibility timeout with
  // nothing pending. Housekeeping only: a Redis that refuses it (a user
  // not allowed scripts, say) keeps them, and the worker serves on.
  void forget_idle_consumers() {
    try {
      redis_.command({"EVAL", forget_idle_script, "1", tasks_, detail::workers_group,
                      std::to_string(options_.visibility_timeout.count())});
    } catch (const RedisResponseError&) {
    }
  }

  // Claims one task idle longer than the visibility timeout. Goes on at
  // the next iteration while the scan of the pending entries is not done;
  // once it is, deletes the consumers of lost workers (idle longer than
  // the visibility timeout, with nothing pending). A Redis older than 7.2
  // counts idleness from a consumer's last delivery, so a live worker that
  // has had no task for that long may lose its consumer too: nothing is
  // pending for it, and its next read makes it again.
  void reclaim() {
    const Reply reply = redis_.command({"XAUTOCLAIM", tasks_, detail::workers_group, consumer_,
                                        std::to_string(options_.visibility_timeout.count()), reclaim_cursor_,
                                        "COUNT", "1"});
    if (reply.type != Reply::Type::array || reply.elements.size() < 2 ||
        reply.elements[0].type != Reply::Type::string)
      throw RedisResponseError("unexpected XAUTOCLAIM reply");
    std::vector<detail::StreamEntry> claimed = detail::parse_entries(reply.elements[1]);
    reclaim_cursor_ = reply.elements[0].str;
    if (claimed.empty() && reclaim_cursor_ == "0-0") {
      next_reclaim_ = Clock::now() + reclaim_interval_;
      forget_idle_consumers();
    }
    for (detail::StreamEntry& entry : claimed) handle(std::move(entry), true);
  }

  // How many times the entry was delivered; nullopt if it is no longer
  // pending (another worker answered it meanwhile).
  std::optional<long long> deliveries(const std::string& entry_id) {
    const Reply reply = redis_.command({"XPENDING", tasks_, detail::workers_group, entry_id, entry_id, "1"});
    if (reply.type != Reply::Type::array || reply.elements.empty()) return std::nullopt;
    const Reply& pending = reply.elements[0];
    if (pending.type != Reply::Type::array || pending.elements.size() < 4 ||
        pending.elements[3].type != Reply::Type::integer)
      throw RedisResponseError("unexpected XPENDING reply");
    return pending.elements[3].integer;
  }

  void handle(detail::StreamEntry entry, bool reclaimed) {
    if (entry.deleted) {
      redis_.command({"XACK", tasks_, detail::workers_group, entry.id});
      return;
    }
    const detail::TaskEntry task = detail::read_task(std::move(entry), options_.queue);
    if (!task.malformed.empty()) return give_up(task, "malformed task entry: " + task.malformed);
    if (reclaimed) {
      const std::optional<long long> count = deliveries(task.entry.id);
      if (!count) return;
      if (static_cast<unsigned long long>(*count) > 1 + task.retries)
        return give_up(task, "delivered " + std::to_string(*count) + " times: its workers were lost (retry limit " +
                                 std::to_string(task.retries) + ")");
    }
    const detail::RegisteredTask* function = detail::find_task(task.fn);
    if (function == nullptr) return give_up(task, "no function registered as '" + task.fn + "' in this worker");
    if (function->signature != task.signature)
      return give_up(task, "the function registered as '" + task.fn +
                               "' in this worker has another signature (is the worker built from other sources?)");
    run(task, *function);
  }

  void run(const detail::TaskEntry& task, const detail::RegisteredTask& function) {
    std::string payload;
    mp::detail::Outcome outcome;
    watchdog_.watch(task);
    try {
      const mp::detail::DescriptorsRefused refused(detail::kNoOtherMachine);  // in the result
      outcome = function.make_runner(function.function)->run(task.args, payload);
    } catch (...) {
      outcome = mp::detail::Outcome::error;
      payload = detail::encode_error(std::current_exception());
    }
    watchdog_.release();
    finish({detail::answer_commands(options_.queue, task, outcome, payload), task});
  }

  void give_up(const detail::TaskEntry& task, const std::string& reason) {
    finish({detail::dead_letter_commands(options_.queue, consumer_, task, reason), task});
  }

  // The transaction ending `task` with a RedisResponseError saying why
  // Redis refused `refused` (a value in it longer than the server's
  // proto-max-bulk-len).
  std::vector<Command> refusal_commands(const detail::TaskEntry& task, const std::vector<Command>& refused,
                                        const std::string& why) const {
    std::size_t largest = 0;
    for (const Command& command : refused)
      for (const std::string& word : command) largest = std::max(largest, word.size());
    const std::string reason = "Redis refused the answer of " + task.description() + ", whose largest value is " +
                               std::to_string(largest) + " bytes (more than its proto-max-bulk-len?): " + why;
    if (!task.answerable) return detail::dead_letter_commands(options_.queue, consumer_, task, reason);
    return detail::answer_commands(options_.queue, task, mp::detail::Outcome::error,
                                   detail::encode_error(std::make_exception_ptr(RedisResponseError(reason))));
  }

  // Sends the transaction that ends a task and, in the same round trip
  // while the worker goes on, reads the next task without blocking.
  // Not while a task read earlier waits in next_ (a task reclaimed before
  // it): that one is run first. If the connection is lost before Redis
  // takes it, it waits in unsent_answer_ to be sent again, at most
  // most_answer_rounds times in all; then RedisError is thrown. A
  // transaction Redis cannot parse (a result longer than its
  // proto-max-bulk-len) is replaced by one that fails the task with a
  // RedisResponseError saying so. Throws RedisResponseError if Redis
  // refused the transaction (EXECABORT under OOM or MISCONF), or its
  // replacement: the task stays pending and is claimed again, and the
  // worker stops loudly rather than serve on without answering.
  void finish(Answer answer) {
    std::vector<Command>& transaction = answer.transaction;
    const detail::TaskEntry& task = answer.task;
    // No task is read ahead when a reclaim is due, or this consumer's
    // pending tasks are to be looked at: those come first.
    const bool read_next = next_.empty() && !own_pending_due_ && !detail::stop_requested() &&
                           !quota_reached(ended_ + 1) && Clock::now() < next_reclaim_;
    const std::size_t exec = transaction.size() - 1;
    if (read_next) transaction.push_back(read_command(std::nullopt));
    std::vector<Reply> replies;
    int attempts = 0;
    try {
      replies = with_reconnect(redis_, [&](RedisConnection& connection) {
        ++attempts;
        return connection.pipeline(transaction);
      });
    } catch (const RedisConnectionError& error) {
      if (++answer.rounds >= most_answer_rounds)
        throw RedisError("Redis took no answer of " + task.description() + " in " +
                         std::to_string(most_answer_rounds) + " rounds of sending it: " + error.what());
      if (read_next) transaction.pop_back();
      unsent_answer_ = std::move(answer);
      throw;
    }
    // Sent again after a reconnect: what an earlier read delivered is found
    // among this consumer's pending tasks, and so is what this one read.
    if (attempts > 1) own_pending_due_ = true;
    if (replies.size() <= exec) {
      // Redis closed the connection at a command it could not parse: none
      // of the transaction took effect.
      const std::string& why = replies.back().str;
      if (answer.replacement)
        throw RedisResponseError("Redis refused the answer of " + task.description() + ": " + why);
      return finish({refusal_commands(task, transaction, why), task, 0, true});
    }
    if (replies[exec].is_error() || replies[exec].is_nil())
      throw RedisResponseError("Redis refused the answer of a task: " + replies[exec].str);
    ++ended_;
    if (read_next && !own_pending_due_ && !replies.back().is_error())
      next_ = detail::parse_read_reply(replies.back());
  }

  const WorkerOptions& options_;
  const std::string consumer_;
  const std::string tasks_;
  RedisConnection redis_;
  detail::Watchdog watchdog_;
  const milliseconds reclaim_interval_;
  Clock::time_point next_reclaim_ = Clock::now();
  std::string reclaim_cursor_ = "0-0";
  // The task read with the last answer.
  std::vector<detail::StreamEntry> next_;
  // The transaction ending a task, while Redis has not taken it.
  std::optional<Answer> unsent_answer_;
  // The connection broke since this consumer's pending tasks were last
  // looked at (run_own_pending).
  bool own_pending_due_ = false;
  std::size_t ended_ = 0;
};

}  // namespace

int run_worker(const WorkerOptions& options) {
  detail::check_queue_name(options.queue);
  const RedisUrl url = RedisUrl::parse(options.redis_url);
  if (options.visibility_timeout <= milliseconds::zero())
    throw ValueError("a worker's visibility timeout must be positive");
  if (options.threads == 0) throw ValueError("a worker needs at least one serving thread");
  detail::register_dist_exceptions();
  detail::StopSignals signals;
  const std::string consumer = options.consumer.empty() ? default_consumer() : options.consumer;
  if (options.threads == 1) {
    Server(options, url, consumer).serve();
    return 0;
  }
  // The first error stops the other threads after their current task, and
  // is thrown.
  std::mutex mutex;
  std::exception_ptr first_error;
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < options.threads; ++i) {
    threads.emplace_back([&, i] {
      try {
        Server(options, url, i == 0 ? consumer : consumer + "#" + std::to_string(i)).serve();
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!first_error) first_error = std::current_exception();
        request_stop();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  if (first_error) std::rethrow_exception(first_error);
  return 0;
}

}  // namespace weft::dist
