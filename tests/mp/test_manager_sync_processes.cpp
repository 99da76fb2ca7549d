// A Manager's locks, queues, events, conditions and barriers shared by
// child processes of the fork and spawn start methods.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "weft/mp/managers.hpp"

namespace {

namespace mp = weft::mp;
using namespace std::chrono_literals;

constexpr auto kPatience = 20s;
constexpr int kChildren = 3;
constexpr int kIncrements = 100;
constexpr int kItemsPerProducer = 300;

void add_under_lock(mp::AcquirerProxy lock, mp::ValueProxy<int> counter) {
  for (int i = 0; i < kIncrements; ++i) {
    std::lock_guard guard(lock);
    counter.set(counter.get() + 1);
  }
}

void produce(mp::QueueProxy<int> queue, int producer) {
  for (int i = 0; i < kItemsPerProducer; ++i) queue.put(producer * kItemsPerProducer + i);
}

void relay(mp::QueueProxy<int> in, mp::QueueProxy<int> out, int count) {
  for (int i = 0; i < count; ++i) out.put(in.get(true, kPatience));
}

void work_off(mp::QueueProxy<int> tasks, mp::ValueProxy<int> done) {
  for (;;) {
    const int task = tasks.get(true, kPatience);
    if (task < 0) {
      tasks.task_done();
      return;
    }
    done.set(done.get() + task);
    tasks.task_done();
  }
}

void answer_event(mp::EventProxy asked, mp::EventProxy answered) {
  if (asked.wait(kPatience)) answered.set();
}

void wait_for_flag(mp::ConditionProxy condition, mp::ValueProxy<int> flag, mp::QueueProxy<int> out) {
  std::unique_lock guard(condition);
  const bool woke = condition.wait_for([&] { return flag.get() == 1; }, kPatience);
  out.put(woke ? 1 : 0);
}

void meet(mp::BarrierProxy barrier, mp::QueueProxy<int> out) {
  out.put(static_cast<int>(barrier.wait(kPatience)));
}

class ManagerSyncProcesses : public ::testing::TestWithParam<const char*> {
 protected:
  // A child still running (a test that stopped at a failed assertion) is
  // killed, so that destroying it does not wait for it forever.
  ~ManagerSyncProcesses() override {
    for (auto& child : children_) {
      if (child.is_alive()) child.kill();
    }
  }

  template <class... A>
  mp::Process& start(void (*fn)(A...), const std::decay_t<A>&... args) {
    children_.push_back(mp::get_context(GetParam()).Process(fn, args...));
    children_.back().start();
    return children_.back();
  }
  void join_all() {
    for (auto& child : children_) {
      ASSERT_TRUE(child.join(kPatience));
      EXPECT_EQ(child.exitcode(), 0);
    }
  }

  mp::Manager manager;
  std::vector<mp::Process> children_;
};

TEST_P(ManagerSyncProcesses, ALockGuardsACounterFromSeveralChildren) {
  auto lock = manager.Lock();
  auto counter = manager.Value<int>(0);
  for (int i = 0; i < kChildren; ++i) start(add_under_lock, lock, counter);
  join_all();
  EXPECT_EQ(counter.get(), kChildren * kIncrements);
}

TEST_P(ManagerSyncProcesses, ABoundedSemaphoreGuardsACounterFromSeveralChildren) {
  auto semaphore = manager.BoundedSemaphore(1);
  auto counter = manager.Value<int>(0);
  for (int i = 0; i < kChildren; ++i) start(add_under_lock, semaphore, counter);
  join_all();
  EXPECT_EQ(counter.get(), kChildren * kIncrements);
  EXPECT_TRUE(semaphore.acquire(false));
}

TEST_P(ManagerSyncProcesses, AQueueCarriesEveryItemOnceFromProducersThroughARelay) {
  auto queue = manager.Queue<int>(16);
  auto relayed = manager.Queue<int>();
  start(produce, queue, 0);
  start(produce, queue, 1);
  start(relay, queue, relayed, 2 * kItemsPerProducer);
  std::multiset<int> seen;
  for (int i = 0; i < 2 * kItemsPerProducer; ++i) seen.insert(relayed.get(true, kPatience));
  join_all();
  std::multiset<int> expected;
  for (int i = 0; i < 2 * kItemsPerProducer; ++i) expected.insert(i);
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(relayed.try_get(), std::nullopt);
  EXPECT_TRUE(queue.empty());
}

TEST_P(ManagerSyncProcesses, JoinableQueueJoinReturnsOnceAChildDidEveryTask) {
  auto tasks = manager.JoinableQueue<int>();
  auto done = manager.Value<int>(0);
  start(work_off, tasks, done);
  int expected = 0;
  for (int task = 1; task <= 20; ++task) {
    tasks.put(task);
    expected += task;
  }
  tasks.put(-1);
  EXPECT_TRUE(tasks.join(kPatience));
  EXPECT_EQ(done.get(), expected);
  join_all();
}

TEST_P(ManagerSyncProcesses, AnEventSetInOneProcessWakesAnother) {
  auto asked = manager.Event();
  auto answered = manager.Event();
  start(answer_event, asked, answered);
  EXPECT_FALSE(answered.is_set());
  asked.set();
  EXPECT_TRUE(answered.wait(kPatience));
  join_all();
}

TEST_P(ManagerSyncProcesses, AConditionNotifiesAChildWaitingForAFlag) {
  auto condition = manager.Condition();
  auto flag = manager.Value<int>(0);
  auto out = manager.Queue<int>();
  start(wait_for_flag, condition, flag, out);
  {
    std::lock_guard guard(condition);
    flag.set(1);
    condition.notify_all();
  }
  EXPECT_EQ(out.get(true, kPatience), 1);
  join_all();
}

TEST_P(ManagerSyncProcesses, ABarrierReleasesChildrenAndParentTogether) {
  auto barrier = manager.Barrier(kChildren + 1);
  auto out = manager.Queue<int>();
  EXPECT_EQ(barrier.parties(), static_cast<std::size_t>(kChildren + 1));
  for (int i = 0; i < kChildren; ++i) start(meet, barrier, out);
  std::set<int> indices{static_cast<int>(barrier.wait(kPatience))};
  for (int i = 0; i < kChildren; ++i) indices.insert(out.get(true, kPatience));
  EXPECT_EQ(indices, (std::set<int>{0, 1, 2, 3}));
  EXPECT_FALSE(barrier.broken());
  join_all();
}

INSTANTIATE_TEST_SUITE_P(StartMethods, ManagerSyncProcesses, ::testing::Values("fork", "spawn"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
