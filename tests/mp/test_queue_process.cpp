// mp queues across forked processes: many producers and consumers, each item exactly once;
// maxsize blocking a producer process; delivery after the producer exits; join() across
// processes; a queue handed to a child by token as a spawn child receives it.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>
#include <weft/mp/queues.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "mp/test_queue_support.hpp"
#include "weft/mp/detail/fd_sharing.hpp"

namespace {

using namespace weft::test;
using weft::mp::JoinableQueue;
using weft::mp::Queue;
using weft::mp::QueueOptions;
using weft::mp::SimpleQueue;

std::string pattern(std::size_t size, int seed) {
  std::string text(size, '\0');
  for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return text;
}

void require(bool condition) {
  if (!condition) throw std::runtime_error("requirement failed in a child");
}

TEST(MpQueueProcess, ThreeProducersThreeConsumersEachItemExactlyOnce) {
  constexpr int kProducers = 3, kConsumers = 3;
  const int total = 100'000 / kProducers * kProducers;
  const int per_producer = total / kProducers;
  Queue<int> q(1000, QueueOptions{64 * 1024});
  SharedCounters seen(static_cast<std::size_t>(total));
  std::vector<Child> producers, consumers;
  for (int c = 0; c < kConsumers; ++c)
    consumers.push_back(Child::fork([&] {
      for (int item = q.get(); item >= 0; item = q.get()) seen[item].fetch_add(1);
    }));
  for (int p = 0; p < kProducers; ++p)
    producers.push_back(Child::fork([&, p] {
      for (int i = 0; i < per_producer; ++i) q.put(p * per_producer + i);
    }));
  for (auto& child : producers) EXPECT_EQ(child.wait(std::chrono::seconds(60)), 0);
  for (int c = 0; c < kConsumers; ++c) q.put(-1);
  for (auto& child : consumers) EXPECT_EQ(child.wait(std::chrono::seconds(60)), 0);
  int once = 0;
  for (int i = 0; i < total; ++i) once += seen[i].load() == 1;
  EXPECT_EQ(once, total);
  EXPECT_TRUE(q.empty());
}

TEST(MpQueueProcess, EncodedItemsLargeAndSmallAcrossProcesses) {
  constexpr int kItems = 60;
  Queue<std::string> q(0, QueueOptions{4096});
  SharedCounters seen(2 * kItems);
  std::vector<Child> children;
  for (int c = 0; c < 2; ++c)
    children.push_back(Child::fork([&] {
      while (true) {
        const std::string item = q.get();
        if (item.empty()) return;
        // Each item is its index (3 digits) followed by a pattern seeded by it.
        const int index = std::stoi(item.substr(0, 3));
        require(item.substr(3) == pattern(item.size() - 3, index));
        seen[index].fetch_add(1);
      }
    }));
  for (int p = 0; p < 2; ++p)
    children.push_back(Child::fork([&, p] {
      for (int i = p * kItems; i < (p + 1) * kItems; ++i) {
        char index[4];
        std::snprintf(index, sizeof index, "%03d", i);
        q.put(index + pattern(i % 5 == 0 ? 30'000 : 50 + i, i));
      }
    }));
  EXPECT_EQ(children[2].wait(std::chrono::seconds(60)), 0);
  EXPECT_EQ(children[3].wait(std::chrono::seconds(60)), 0);
  q.put("");
  q.put("");
  EXPECT_EQ(children[0].wait(std::chrono::seconds(60)), 0);
  EXPECT_EQ(children[1].wait(std::chrono::seconds(60)), 0);
  for (int i = 0; i < 2 * kItems; ++i) EXPECT_EQ(seen[i].load(), 1u) << "item " << i;
}

TEST(MpQueueProcess, MaxsizeBlocksAProducerProcessUntilThereIsRoom) {
  Queue<int> q(1);
  q.put(1);
  Child timed = Child::fork([&] {
    try {
      q.put(2, std::chrono::milliseconds(50));
    } catch (const weft::Full&) {
      return;
    }
    throw std::runtime_error("no Full");
  });
  EXPECT_EQ(timed.wait(), 0);
  Child blocked = Child::fork([&] { q.put(3); });
  ASSERT_TRUE(eventually([&] { return blocked.asleep(); }));
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(blocked.wait(), 0);
  EXPECT_EQ(q.get_nowait(), 3);
}

TEST(MpQueueProcess, AGetInAnotherProcessWakesOnPut) {
  Queue<std::string> q;
  Child consumer = Child::fork([&] { require(q.get() == "wake"); });
  ASSERT_TRUE(eventually([&] { return consumer.asleep(); }));
  q.put("wake");
  EXPECT_EQ(consumer.wait(), 0);
}

TEST(MpQueueProcess, APutIsDeliveredAfterItsProducerExits) {
  Queue<std::string> q;
  Child exits = Child::fork([&] {
    q.put("sent before _exit");
    ::_exit(0);
  });
  EXPECT_EQ(exits.wait(), 0);
  Child killed = Child::fork([&] {
    q.put("sent before SIGKILL");
    ::raise(SIGKILL);
  });
  EXPECT_EQ(killed.wait(), 128 + SIGKILL);
  EXPECT_EQ(q.get_nowait(), "sent before _exit");
  EXPECT_EQ(q.get_nowait(), "sent before SIGKILL");
}

TEST(MpQueueProcess, AStreamedPutIsDeliveredAfterItsProducerExits) {
  Queue<std::string> q(0, QueueOptions{4096});
  const std::string big = pattern(100'000, 9);
  Child producer = Child::fork([&] {
    q.put(big);
    ::_exit(0);
  });
  EXPECT_EQ(q.get(), big);
  EXPECT_EQ(producer.wait(), 0);
}

TEST(MpQueueProcess, SimpleQueueAcrossProcesses) {
  SimpleQueue<std::string> requests, replies;
  Child echo = Child::fork([&] {
    for (std::string text = requests.get(); !text.empty(); text = requests.get())
      replies.put(text + "!");
  });
  requests.put("ping");
  EXPECT_EQ(replies.get(), "ping!");
  requests.put("");
  EXPECT_EQ(echo.wait(), 0);
  EXPECT_TRUE(replies.empty());
}

TEST(MpQueueProcess, JoinReturnsExactlyWhenTheLastTaskIsDone) {
  JoinableQueue<int> tasks;
  Queue<int> release;
  SharedCounters done(1);
  std::vector<Child> workers;
  for (int w = 0; w < 2; ++w)
    workers.push_back(Child::fork([&] {
      while (true) {
        const int task = tasks.get();
        if (task < 0) {
          tasks.task_done();
          return;
        }
        if (task == 999) release.get();
        done[0].fetch_add(1);
        tasks.task_done();
      }
    }));
  for (int i = 0; i < 9; ++i) tasks.put(i);
  tasks.put(999);
  ASSERT_TRUE(eventually([&] { return done[0].load() == 9; }));
  EXPECT_FALSE(tasks.join(kTick));
  EXPECT_EQ(tasks.unfinished_tasks(), 1u);
  release.put(1);
  EXPECT_TRUE(tasks.join(kPatience));
  EXPECT_EQ(done[0].load(), 10u);
  tasks.put(-1);
  tasks.put(-1);
  for (auto& worker : workers) EXPECT_EQ(worker.wait(), 0);
  EXPECT_TRUE(tasks.join(0ms));
}

TEST(MpQueueProcess, JoinInAnotherProcessWakesOnTheLastTaskDone) {
  JoinableQueue<int> tasks;
  tasks.put(1);
  tasks.put(2);
  Child joiner = Child::fork([&] { tasks.join(); });
  ASSERT_TRUE(eventually([&] { return joiner.asleep(); }));
  tasks.get();
  tasks.task_done();
  EXPECT_EQ(joiner.wait(kTick), -1) << "join returned with a task unfinished";
  Child joiner2 = Child::fork([&] { tasks.join(); });
  ASSERT_TRUE(eventually([&] { return joiner2.asleep(); }));
  tasks.get();
  tasks.task_done();
  EXPECT_EQ(joiner2.wait(), 0);
}

TEST(MpQueueProcess, CloseIsPerProcess) {
  Queue<int> q;
  Child closer = Child::fork([&] {
    q.close();
    try {
      q.put(1);
    } catch (const weft::ValueError&) {
      return;
    }
    throw std::runtime_error("put after close");
  });
  EXPECT_EQ(closer.wait(), 0);
  q.put(2);
  q.close();
  Child forked_later = Child::fork([&] {
    require(q.get() == 2);
    q.put(3);
  });
  EXPECT_EQ(forked_later.wait(), 0);
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_THROW(q.get(), weft::ValueError);
}

TEST(MpQueueProcess, AChildReceivesTheQueuesByToken) {
  namespace mpd = weft::mp::detail;
  JoinableQueue<std::string> tasks;
  SimpleQueue<std::string> replies;
  std::string encoded;
  std::vector<int> fds;
  {
    mpd::FdSharingScope scope;
    encoded = weft::codec::encode(std::make_tuple(tasks, replies));
    fds.assign(scope.fds().begin(), scope.fds().end());
  }
  EXPECT_EQ(fds.size(), 2u);
  Child child = Child::fork([&] {
    mpd::set_inherited_fds(fds);
    auto [my_tasks, my_replies] =
        weft::codec::decode<std::tuple<JoinableQueue<std::string>, SimpleQueue<std::string>>>(
            encoded);
    mpd::set_inherited_fds({});
    my_replies.put(my_tasks.get() + " done");
    my_tasks.task_done();
  });
  tasks.put("task");
  EXPECT_EQ(replies.get(), "task done");
  EXPECT_TRUE(tasks.join(kPatience));
  EXPECT_EQ(child.wait(), 0);
}

}  // namespace
