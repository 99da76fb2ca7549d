// The weft::dist worker, driven through raw Redis commands as an executor
// would drive it: results and exceptions, dead letters for entries it
// cannot run (and serving on after them), tasks of lost workers claimed
// again, the delivery limit, the time limit, long tasks kept claimed,
// SIGTERM, a Redis restart; and the registry and the worker options.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "dist/redis_suite.hpp"
#include "dist/test_worker_support.hpp"
#include "mp/child_process.hpp"
#include "threading/test_support.hpp"
#include "weft/dist.hpp"

namespace dist_worker_test {

int add(int a, int b) { return a + b; }

int refuse(std::string message) { throw weft::ValueError(message); }

std::string blob(int size) { return std::string(static_cast<std::size_t>(size), 'x'); }

int sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}

// Counts its runs in `counter`, then works for `ms`.
long long count_and_sleep(std::string url, std::string counter, int ms) {
  weft::dist::RedisConnection redis(weft::dist::RedisUrl::parse(url));
  const long long runs = redis.command({"INCR", counter}).integer;
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return runs;
}

// Pushes to "<name>:started", then waits (at most 20 s) for an item on
// "<name>:go".
bool gate(std::string url, std::string name) {
  weft::dist::RedisConnection redis(weft::dist::RedisUrl::parse(url));
  redis.command({"RPUSH", name + ":started", "1"});
  return !redis.blocking_command({"BLPOP", name + ":go", "20"}, std::chrono::seconds(20)).is_nil();
}

}  // namespace dist_worker_test

WEFT_DIST_TASK(dist_worker_test::add);
WEFT_DIST_TASK(dist_worker_test::refuse);
WEFT_DIST_TASK(dist_worker_test::blob);
WEFT_DIST_TASK(dist_worker_test::sleep_ms);
WEFT_DIST_TASK(dist_worker_test::count_and_sleep);
WEFT_DIST_TASK(dist_worker_test::gate);
WEFT_DIST_TASK_NAMED("twice", +[](int x) { return 2 * x; });

namespace weft::dist {
namespace {

using namespace std::chrono_literals;
using testing::add_task;
using testing::Entry;
using testing::Fields;
using testing::task_fields;
using testing::with;
using testing::without;
using weft::test::Child;

const std::string add_name = "dist_worker_test::add";

// run_worker on a thread of this process; stopped (request_stop) and
// joined when it goes out of scope.
class WorkerThread {
 public:
  explicit WorkerThread(WorkerOptions options)
      : thread_([this, options = std::move(options)] {
          int status = -1;
          std::exception_ptr error;
          try {
            status = run_worker(options);
          } catch (...) {
            error = std::current_exception();
          }
          std::lock_guard lock(mutex_);
          status_ = status;
          error_ = error;
          done_ = true;
          ended_.notify_all();
        }) {}

  ~WorkerThread() {
    std::unique_lock lock(mutex_);
    // A request made before run_worker started serving is not seen: ask
    // again until it returns.
    while (!done_) {
      request_stop();
      ended_.wait_for(lock, 200ms, [&] { return done_; });
    }
    lock.unlock();
    thread_.join();
  }

  // Waits for run_worker to return by itself (max_tasks); its status, or
  // what it threw. -2 if it did not return within `patience`.
  int wait(std::chrono::milliseconds patience = 10s) {
    std::unique_lock lock(mutex_);
    if (!ended_.wait_for(lock, patience, [&] { return done_; })) return -2;
    if (error_) std::rethrow_exception(error_);
    return status_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ended_;
  bool done_ = false;
  int status_ = -1;
  std::exception_ptr error_;
  std::thread thread_;
};

class DistWorker : public testing::RedisSuite {
 protected:
  WorkerOptions options(std::optional<std::size_t> max_tasks = {},
                        std::chrono::milliseconds visibility = 30s) const {
    WorkerOptions o;
    o.redis_url = url();
    o.queue = queue();
    o.consumer = "tester";
    o.visibility_timeout = visibility;
    o.max_tasks = max_tasks;
    return o;
  }

  static Child start_process(const WorkerOptions& options) {
    return Child::adopt(detail::spawn_worker_process("/proc/self/exe", {}, options));
  }

  std::string add(const Fields& fields) { return add_task(redis_, queue(), fields); }
  Entry next_result() {
    std::optional<Entry> result = results_.next();
    if (!result) throw std::runtime_error("no result within 10 s");
    return *result;
  }
  long long pending() {
    return redis_.command({"XPENDING", detail::tasks_key(queue()), "workers"}).elements.at(0).integer;
  }
  long long length(const std::string& key) { return redis_.command({"XLEN", key}).integer; }
  // The names of the consumers in the workers' group.
  std::set<std::string> consumers() {
    std::set<std::string> names;
    for (const Reply& consumer : redis_.command({"XINFO", "CONSUMERS", detail::tasks_key(queue()), "workers"}).elements)
      for (std::size_t i = 0; i + 1 < consumer.elements.size(); i += 2)
        if (consumer.elements[i].str == "name") names.insert(consumer.elements[i + 1].str);
    return names;
  }
  // A consumer that takes the next task and never answers it.
  void take_as_lost_worker() {
    try {
      redis_.command({"XGROUP", "CREATE", detail::tasks_key(queue()), "workers", "0", "MKSTREAM"});
    } catch (const RedisResponseError&) {
      // BUSYGROUP: there already
    }
    const Reply taken =
        redis_.command({"XREADGROUP", "GROUP", "workers", "lost", "COUNT", "1", "STREAMS", detail::tasks_key(queue()), ">"});
    ASSERT_FALSE(taken.is_nil());
  }

  RedisConnection redis_{RedisUrl::parse(url())};
  testing::StreamReader results_ = testing::results_of(url(), queue());
};


TEST_F(DistWorker, AnswersValuesAndExceptionsOfTasksSentBeforeItStarted) {
  add(task_fields(queue(), "1", add_name, 2, 3));
  add(task_fields(queue(), "2", "dist_worker_test::refuse", std::string("no thanks")));
  add(task_fields(queue(), "3", "twice", 21));
  WorkerThread worker(options(3));

  const Entry sum = next_result();
  EXPECT_EQ(sum.field("id"), "1");
  EXPECT_EQ(testing::value_of<int>(sum), 5);
  const Entry refused = next_result();
  EXPECT_EQ(refused.field("id"), "2");
  EXPECT_EQ(testing::error_text<ValueError>(refused), "no thanks");
  const Entry twice = next_result();
  EXPECT_EQ(twice.field("id"), "3");
  EXPECT_EQ(testing::value_of<int>(twice), 42);

  EXPECT_EQ(worker.wait(), 0);
  EXPECT_EQ(length(detail::tasks_key(queue())), 0) << "answered tasks are deleted";
  EXPECT_EQ(pending(), 0) << "answered tasks are acknowledged";
}

TEST_F(DistWorker, RequestStopEndsItAfterItsTask) {
  WorkerThread worker(options());
  add(task_fields(queue(), "1", add_name, 1, 2));
  EXPECT_EQ(testing::value_of<int>(next_result()), 3);
  request_stop();
  EXPECT_EQ(worker.wait(), 0);
}

TEST_F(DistWorker, DeadLettersWhatItCannotRunAndServesOn) {
  WorkerThread worker(options(6));
  const Fields good = task_fields(queue(), "ok", add_name, 1, 1);
  add(with(with(good, "fn", "nowhere"), "id", "unknown"));
  add(with(with(good, "sig", "12345"), "id", "signature"));
  add(with(without(good, "args"), "id", "missing"));
  add(with(with(good, "retries", "many"), "id", "number"));
  add({{"foo", "bar"}});
  add(good);

  const std::pair<const char*, const char*> expected[] = {
      {"unknown", "no function registered as 'nowhere' in this worker"},
      {"signature", "the function registered as 'dist_worker_test::add' in this worker has another signature"},
      {"missing", "malformed task entry: missing args"},
      {"number", "malformed task entry: retries is not a decimal number: \"many\""},
  };
  for (const auto& [id, reason] : expected) {
    const Entry result = next_result();
    EXPECT_EQ(result.field("id"), id);
    EXPECT_NE(testing::error_text<DeadLetterError>(result).find(reason), std::string::npos)
        << testing::error_text<DeadLetterError>(result);
  }
  const Entry sum = next_result();
  EXPECT_EQ(sum.field("id"), "ok");
  EXPECT_EQ(testing::value_of<int>(sum), 2);
  EXPECT_EQ(worker.wait(), 0);

  testing::StreamReader dead = testing::dead_letters_of(url(), queue());
  for (const auto& [id, reason] : expected) {
    const std::optional<Entry> letter = dead.next();
    ASSERT_TRUE(letter);
    if (std::string_view(id) != "missing") {
      EXPECT_EQ(letter->field("args"), good[3].second) << "original fields kept";
    }
    EXPECT_EQ(letter->field("id"), id);
    EXPECT_NE(letter->field("reason").find(reason), std::string::npos) << letter->field("reason");
    EXPECT_EQ(letter->field("consumer"), "tester");
  }
  const std::optional<Entry> garbage = dead.next();
  ASSERT_TRUE(garbage);
  EXPECT_EQ(garbage->field("foo"), "bar");
  EXPECT_EQ(garbage->field("reason"), "malformed task entry: missing id, fn, sig, args, reply, retries, timeout");
  EXPECT_EQ(length(detail::tasks_key(queue())), 0);
  EXPECT_EQ(pending(), 0);
}

TEST_F(DistWorker, ArgumentsThatDoNotDecodeFailTheTaskWithDecodeError) {
  WorkerThread worker(options(2));
  add(with(task_fields(queue(), "garbage", add_name, 1, 2), "args", "\xc1"));
  add(task_fields(queue(), "strings", add_name, std::string("one"), std::string("two")));
  for (const char* id : {"garbage", "strings"}) {
    const Entry result = next_result();
    EXPECT_EQ(result.field("id"), id);
    testing::error_text<codec::DecodeError>(result);
  }
  EXPECT_EQ(worker.wait(), 0);
  EXPECT_EQ(length(detail::dead_key(queue())), 0) << "a task whose arguments do not decode is answered, not dead";
}

TEST_F(DistWorker, AResultLongerThanRedisTakesFailsItsTaskAndTheWorkerServesOn) {
  const testing::SmallBulkLimit limit(url());
  add(task_fields(queue(), "big", "dist_worker_test::blob", static_cast<int>(testing::SmallBulkLimit::too_long)));
  add(task_fields(queue(), "small", add_name, 1, 2));
  WorkerThread worker(options(2));
  const Entry big = next_result();
  EXPECT_EQ(big.field("id"), "big");
  const std::string what = testing::error_text<RedisResponseError>(big);
  EXPECT_NE(what.find("proto-max-bulk-len"), std::string::npos) << what;
  EXPECT_NE(what.find("task dist_worker_test::blob"), std::string::npos) << what;
  const Entry small = next_result();
  EXPECT_EQ(small.field("id"), "small");
  EXPECT_EQ(testing::value_of<int>(small), 3);
  EXPECT_EQ(worker.wait(), 0);
  EXPECT_EQ(pending(), 0);
}

TEST_F(DistWorker, ItsConsumerLeavesTheGroupWhenItStops) {
  add(task_fields(queue(), "1", add_name, 1, 2));
  WorkerThread worker(options(1));
  EXPECT_EQ(testing::value_of<int>(next_result()), 3);
  EXPECT_EQ(worker.wait(), 0);
  EXPECT_EQ(consumers(), std::set<std::string>{});
}

TEST_F(DistWorker, ConsumersIdlePastTheVisibilityTimeoutWithNothingPendingAreDeleted) {
  const std::string tasks = detail::tasks_key(queue());
  redis_.command({"XGROUP", "CREATE", tasks, "workers", "0", "MKSTREAM"});
  redis_.command({"XGROUP", "CREATECONSUMER", tasks, "workers", "gone"});
  WorkerThread worker(options({}, 300ms));
  EXPECT_TRUE(weft::test::eventually([&] { return !consumers().contains("gone"); }));
  add(task_fields(queue(), "1", add_name, 1, 2));
  EXPECT_EQ(testing::value_of<int>(next_result()), 3);
}

TEST_F(DistWorker, AWorkerNotAllowedScriptsServesOnPastItsReclaimScan) {
  redis_.command({"ACL", "SETUSER", "noscript", "reset", "on", ">pw", "~*", "&*", "+@all", "-@scripting"});
  const auto rejected_scripts = [&] {
    const std::string stats = redis_.command({"INFO", "commandstats"}).str;
    const std::size_t line = stats.find("cmdstat_eval:");
    if (line == std::string::npos) return 0L;
    const std::size_t field = stats.find("rejected_calls=", line);
    return field == std::string::npos ? 0L : std::stol(stats.substr(field + 15));
  };
  const long rejected_before = rejected_scripts();
  WorkerOptions o = options({}, 300ms);
  o.redis_url = "redis://noscript:pw@" + url().substr(std::string("redis://").size());
  WorkerThread worker(o);
  EXPECT_TRUE(weft::test::eventually([&] { return rejected_scripts() > rejected_before; }));
  add(task_fields(queue(), "1", add_name, 1, 2));
  EXPECT_EQ(testing::value_of<int>(next_result()), 3);
  redis_.command({"ACL", "DELUSER", "noscript"});
}

TEST_F(DistWorker, ClaimsTheTaskOfALostWorkerAfterTheVisibilityTimeout) {
  add(task_fields(queue(), "lost", add_name, 20, 22));
  take_as_lost_worker();
  WorkerThread worker(options(1, 300ms));
  const Entry sum = next_result();
  EXPECT_EQ(sum.field("id"), "lost");
  EXPECT_EQ(testing::value_of<int>(sum), 42);
  EXPECT_EQ(worker.wait(), 0);
  EXPECT_EQ(pending(), 0);
}

TEST_F(DistWorker, ATaskReadAheadIsNotDroppedWhenALostOneIsClaimedMeanwhile) {
  add(with(task_fields(queue(), "lost", add_name, 1, 1), "retries", "1"));
  take_as_lost_worker();
  // A stream of tasks longer than the visibility timeout, each allowed one
  // delivery only: the lost task is claimed while the next one is read.
  constexpr int n = 150;
  for (int i = 0; i < n; ++i)
    add(with(task_fields(queue(), std::to_string(i), "dist_worker_test::sleep_ms", 4), "retries", "0"));
  WorkerThread worker(options(n + 1, 300ms));
  std::set<std::string> answered;
  for (int i = 0; i <= n; ++i) {
    const Entry result = next_result();
    EXPECT_EQ(result.field("outcome"), "0") << "task " << result.field("id");
    answered.insert(result.field("id"));
  }
  EXPECT_EQ(answered.size(), static_cast<std::size_t>(n + 1));
  EXPECT_EQ(worker.wait(), 0);
  EXPECT_EQ(length(detail::dead_key(queue())), 0);
  EXPECT_EQ(pending(), 0);
}

// No task is read ahead while a reclaim is due: read ahead and left waiting behind a lost task
// that runs longer than the visibility timeout, it would itself be claimed as lost and run twice.
TEST_F(DistWorker, ATaskIsNotReadAheadToWaitBehindALongLostOne) {
  const std::string counter = "runs:" + queue();
  add(with(task_fields(queue(), "lost", "dist_worker_test::sleep_ms", 900), "retries", "1"));
  take_as_lost_worker();
  add(task_fields(queue(), "first", "dist_worker_test::sleep_ms", 450));
  add(with(task_fields(queue(), "counted", "dist_worker_test::count_and_sleep", url(), counter, 0), "retries", "1"));
  add(task_fields(queue(), "last", "dist_worker_test::sleep_ms", 0));
  WorkerThread worker(options(4, 300ms));
  std::set<std::string> answered;
  for (int i = 0; i < 4; ++i) answered.insert(next_result().field("id"));
  EXPECT_EQ(answered, (std::set<std::string>{"lost", "first", "counted", "last"}));
  EXPECT_EQ(worker.wait(), 0);
  EXPECT_EQ(redis_.command({"GET", counter}).str, "1") << "the task read ahead ran twice";
}

TEST_F(DistWorker, ServingThreadsRunTasksAtTheSameTimeInOneProcess) {
  const std::string gate = "gate:" + queue();
  for (int i = 0; i < 3; ++i) add(task_fields(queue(), std::to_string(i), "dist_worker_test::gate", url(), gate));
  WorkerOptions three = options(1);
  three.threads = 3;
  WorkerThread worker(three);
  // All three tasks started before any may end: three threads serve.
  for (int i = 0; i < 3; ++i)
    ASSERT_FALSE(redis_.blocking_command({"BLPOP", gate + ":started", "10"}, 10s).is_nil()) << "task " << i;
  redis_.command({"RPUSH", gate + ":go", "1", "1", "1"});
  std::set<std::string> answered;
  for (int i = 0; i < 3; ++i) {
    const Entry result = next_result();
    EXPECT_TRUE(testing::value_of<bool>(result));
    answered.insert(result.field("id"));
  }
  EXPECT_EQ(answered.size(), 3u);
  EXPECT_EQ(worker.wait(), 0);
  EXPECT_EQ(pending(), 0);
}

TEST_F(DistWorker, NoServingThreadIsAValueError) {
  WorkerOptions none = options(1);
  none.threads = 0;
  EXPECT_THROW(run_worker(none), ValueError);
}

TEST_F(DistWorker, DeadLettersATaskDeliveredMoreTimesThanItsRetriesAllow) {
  add(with(task_fields(queue(), "doomed", add_name, 1, 2), "retries", "0"));
  take_as_lost_worker();
  WorkerThread worker(options(1, 300ms));
  const Entry result = next_result();
  EXPECT_EQ(result.field("id"), "doomed");
  EXPECT_EQ(testing::error_text<DeadLetterError>(result),
            "delivered 2 times: its workers were lost (retry limit 0)");
  EXPECT_EQ(worker.wait(), 0);
  EXPECT_EQ(length(detail::dead_key(queue())), 1);
  EXPECT_EQ(pending(), 0);
}

TEST_F(DistWorker, ATaskPastItsTimeLimitFailsWithTaskTimeoutErrorAndEndsTheProcess) {
  Child worker = start_process(options());
  add(with(task_fields(queue(), "slow", "dist_worker_test::sleep_ms", 20000), "timeout", "300"));
  const Entry result = next_result();
  EXPECT_EQ(result.field("id"), "slow");
  EXPECT_EQ(testing::error_text<TaskTimeoutError>(result),
            "task dist_worker_test::sleep_ms (id slow) exceeded its time limit of 300 ms");
  EXPECT_EQ(worker.wait(), 70);
  EXPECT_EQ(length(detail::tasks_key(queue())), 0);
  EXPECT_EQ(pending(), 0);
}

TEST_F(DistWorker, ALongTaskStaysWithItsWorkerPastTheVisibilityTimeout) {
  Child first = start_process(options({}, 300ms));
  Child second = start_process(options({}, 300ms));
  const std::string counter = "runs:" + queue();
  add(task_fields(queue(), "long", "dist_worker_test::count_and_sleep", url(), counter, 1200));
  const Entry result = next_result();
  EXPECT_EQ(result.field("id"), "long");
  EXPECT_EQ(testing::value_of<long long>(result), 1);
  EXPECT_EQ(redis_.command({"GET", counter}).str, "1") << "the task ran on both workers";
  EXPECT_EQ(first.kill(SIGTERM), 0);
  EXPECT_EQ(second.kill(SIGTERM), 0);
  EXPECT_EQ(length(detail::results_key(queue(), "test")), 1) << "answered more than once";
}

TEST_F(DistWorker, SigtermStopsTheWorkerAfterItsCurrentTask) {
  Child worker = start_process(options());
  const std::string name = "gate:" + queue();
  add(task_fields(queue(), "gated", "dist_worker_test::gate", url(), name));
  ASSERT_FALSE(redis_.blocking_command({"BLPOP", name + ":started", "10"}, 10s).is_nil()) << "the task never started";
  ::kill(worker.pid(), SIGTERM);
  redis_.command({"RPUSH", name + ":go", "1"});
  const Entry result = next_result();
  EXPECT_EQ(result.field("id"), "gated");
  EXPECT_TRUE(testing::value_of<bool>(result));
  EXPECT_EQ(worker.wait(), 0);
}

TEST_F(DistWorker, SurvivesARedisRestart) {
  testing::RedisServer own;
  WorkerOptions o = options(2);
  o.redis_url = own.url();
  WorkerThread worker(o);
  {
    RedisConnection redis(RedisUrl::parse(own.url()));
    testing::StreamReader results = testing::results_of(own.url(), queue());
    add_task(redis, queue(), task_fields(queue(), "before", add_name, 1, 2));
    const std::optional<Entry> before = results.next();
    ASSERT_TRUE(before);
    EXPECT_EQ(testing::value_of<int>(*before), 3);
  }
  own.kill();
  own.start();
  RedisConnection redis(RedisUrl::parse(own.url()));
  testing::StreamReader results = testing::results_of(own.url(), queue());
  add_task(redis, queue(), task_fields(queue(), "after", add_name, 2, 2));
  // The answer of "before" may come again: the worker sends an answer
  // again when the connection broke before it read Redis's reply.
  std::optional<Entry> after = results.next();
  if (after && after->field("id") == "before") after = results.next();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->field("id"), "after");
  EXPECT_EQ(testing::value_of<int>(*after), 4);
  EXPECT_EQ(worker.wait(), 0);
}

// A reply lost with the connection can deliver a task to the worker that nobody runs: the worker
// looks at its own pending tasks after reconnecting, rather than leaving the task to be claimed
// after the visibility timeout (and, allowed no retries, dead-lettered unrun).
TEST_F(DistWorker, RunsATaskDeliveredToItWhoseReplyWasLost) {
  testing::RedisServer own;
  WorkerOptions o = options(1);
  o.redis_url = own.url();
  RedisConnection redis(RedisUrl::parse(own.url()));
  testing::StreamReader results = testing::results_of(own.url(), queue());
  add_task(redis, queue(), with(task_fields(queue(), "orphan", add_name, 1, 2), "retries", "0"));
  // What a read whose reply was lost leaves: the task delivered to the worker's consumer.
  const std::string tasks = detail::tasks_key(queue());
  redis.command({"XGROUP", "CREATE", tasks, "workers", "0", "MKSTREAM"});
  ASSERT_FALSE(redis.command({"XREADGROUP", "GROUP", "workers", o.consumer, "COUNT", "1", "STREAMS", tasks, ">"})
                   .is_nil());
  WorkerThread worker(o);
  // Once the worker waits for new tasks, its connection breaks.
  std::string blocked_id;
  for (const auto give_up = std::chrono::steady_clock::now() + 10s;
       blocked_id.empty() && std::chrono::steady_clock::now() < give_up;) {
    const std::string clients = redis.command({"CLIENT", "LIST"}).str;
    for (std::size_t at = 0, end; at < clients.size(); at = end + 1) {
      end = std::min(clients.find('\n', at), clients.size());
      const std::string line = clients.substr(at, end - at);
      if (line.find("cmd=xreadgroup") != std::string::npos && line.find("flags=b") != std::string::npos)
        blocked_id = line.substr(3, line.find(' ') - 3);
    }
  }
  ASSERT_FALSE(blocked_id.empty()) << "the worker never waited for a task";
  redis.command({"CLIENT", "KILL", "ID", blocked_id});
  const std::optional<Entry> result = results.next();
  ASSERT_TRUE(result) << "the orphaned task was not run";
  EXPECT_EQ(result->field("id"), "orphan");
  EXPECT_EQ(testing::value_of<int>(*result), 3);
  EXPECT_EQ(worker.wait(), 0);
}

TEST_F(DistWorker, RefusesBadOptionsAndAnUnreachableRedis) {
  WorkerOptions bad_queue = options(1);
  bad_queue.queue = "a{b}";
  EXPECT_THROW(run_worker(bad_queue), ValueError);
  WorkerOptions bad_url = options(1);
  bad_url.redis_url = "http://127.0.0.1";
  EXPECT_THROW(run_worker(bad_url), ValueError);
  WorkerOptions unreachable = options(1);
  unreachable.redis_url = "redis://127.0.0.1:1/0";
  unreachable.connection.connect_timeout = 200ms;
  EXPECT_THROW(run_worker(unreachable), RedisConnectionError);
}

TEST(DistWorkerOptions, SurviveTheirEncoding) {
  WorkerOptions options;
  options.redis_url = "redis://:secret@10.0.0.5:6380/2";
  options.queue = "jobs";
  options.consumer = "host:1";
  options.visibility_timeout = 1234ms;
  options.threads = 3;
  options.max_tasks = 7;
  options.connection.connect_timeout = 321ms;
  options.connection.io_timeout = 4321ms;
  const std::string text = detail::encode_worker_options(options);
  EXPECT_EQ(text.find_first_not_of("0123456789abcdef"), std::string::npos);
  const WorkerOptions back = detail::decode_worker_options(text);
  EXPECT_EQ(back.redis_url, options.redis_url);
  EXPECT_EQ(back.queue, options.queue);
  EXPECT_EQ(back.consumer, options.consumer);
  EXPECT_EQ(back.visibility_timeout, options.visibility_timeout);
  EXPECT_EQ(back.threads, options.threads);
  EXPECT_EQ(back.max_tasks, options.max_tasks);
  EXPECT_EQ(back.connection.connect_timeout, options.connection.connect_timeout);
  EXPECT_EQ(back.connection.io_timeout, options.connection.io_timeout);
  EXPECT_FALSE(detail::decode_worker_options(detail::encode_worker_options(WorkerOptions{})).max_tasks);
  EXPECT_THROW(detail::decode_worker_options("abc"), ValueError);
  EXPECT_THROW(detail::decode_worker_options("zz"), ValueError);
  EXPECT_THROW(detail::decode_worker_options("c1"), ValueError);
}

TEST(DistWorkerSpawn, ThrowsForAProgramThatCannotRun) {
  EXPECT_THROW(detail::spawn_worker_process("/nonexistent/program", {}, WorkerOptions{}), std::system_error);
  EXPECT_THROW(detail::spawn_worker_process("no-such-program-anywhere", {}, WorkerOptions{}), std::system_error);
}

int other_add(int a, int b) { return a - b; }

TEST(DistRegistry, NamesFunctionsByTheirSpelling) {
  EXPECT_EQ(detail::task_name_from_expression("fib"), "fib");
  EXPECT_EQ(detail::task_name_from_expression("&fib"), "fib");
  EXPECT_EQ(detail::task_name_from_expression(" ::app::fib "), "app::fib");
  EXPECT_EQ(detail::task_name_from_expression("& app :: fib"), "app::fib");
}

TEST(DistRegistry, FindsTasksByNameAndByFunction) {
  const detail::RegisteredTask* by_name = detail::find_task(add_name);
  ASSERT_NE(by_name, nullptr);
  const auto fn = &dist_worker_test::add;
  EXPECT_EQ(by_name->function, reinterpret_cast<const void*>(fn));
  EXPECT_EQ(detail::find_task(reinterpret_cast<const void*>(fn), codec::detail::signature_hash(typeid(fn))), by_name);
  EXPECT_EQ(detail::find_task(reinterpret_cast<const void*>(fn), 1), nullptr);
  EXPECT_EQ(detail::find_task("nowhere"), nullptr);
}

TEST(DistRegistry, RefusesANameTakenByAnotherFunction) {
  EXPECT_NO_THROW(register_task(add_name, &dist_worker_test::add)) << "the same function again is fine";
  EXPECT_THROW(register_task(add_name, &other_add), ValueError);
  EXPECT_THROW(register_task("", &other_add), ValueError);
  register_task("dist_worker_test::other_add", &other_add);
  // Sent under its first name; both names run it.
  register_task("dist_worker_test::other_add_again", &other_add);
  const auto fn = &other_add;
  EXPECT_EQ(detail::find_task(reinterpret_cast<const void*>(fn), codec::detail::signature_hash(typeid(fn)))->name,
            "dist_worker_test::other_add");
  EXPECT_NE(detail::find_task("dist_worker_test::other_add_again"), nullptr);
}

}  // namespace
}  // namespace weft::dist
