// Every kind of weft::mp object handed to a child as an argument, under
// every start method: the child must get the very same object (the same
// queue, lock, shared memory and pipe), not a copy. Under spawn and
// forkserver each object crosses as a descriptor token (fd_sharing.hpp);
// under fork the child keeps the parent's. A net::Socket crosses the same way.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "weft/multiprocessing.hpp"
#include "weft/net.hpp"

namespace {

namespace mp = weft::mp;
using namespace std::chrono_literals;

constexpr int kIncrements = 1000;

// What the child does with each object it was given.
void use_everything(mp::Queue<std::string> queue, mp::JoinableQueue<int> tasks,
                    mp::SimpleQueue<std::vector<int>> simple, mp::Connection conn, mp::Lock lock,
                    mp::RLock rlock, mp::Semaphore semaphore, mp::Event event,
                    mp::Condition condition, mp::Value<std::int64_t> counter,
                    mp::Array<int> array, mp::RawValue<double> raw) {
  queue.put("from " + mp::current_process().name());
  tasks.get();
  tasks.task_done();
  simple.put({1, 2, 3});
  conn.send(conn.recv<int>() + 1);
  for (int i = 0; i < kIncrements; ++i) {
    std::lock_guard guard(counter);
    counter.get_obj() += 1;
  }
  lock.acquire();
  array[0] = 42;
  lock.release();
  rlock.acquire();
  rlock.acquire();
  array[1] = 43;
  rlock.release();
  rlock.release();
  raw.value(2.5);
  semaphore.release();
  {
    std::lock_guard guard(condition);
    condition.wait_for([&] { return event.is_set(); });
  }
}

class ObjectsAcrossStarts : public ::testing::TestWithParam<const char*> {};

TEST_P(ObjectsAcrossStarts, ChildUsesTheSameObjects) {
  mp::Queue<std::string> queue;
  mp::JoinableQueue<int> tasks;
  mp::SimpleQueue<std::vector<int>> simple;
  auto [parent_end, child_end] = mp::Pipe();
  mp::Lock lock;
  mp::RLock rlock;
  mp::Semaphore semaphore(0);
  mp::Event event;
  mp::Condition condition;
  mp::Value<std::int64_t> counter(0);
  mp::Array<int> array({0, 0});
  mp::RawValue<double> raw(0.0);

  auto child = mp::get_context(GetParam())
                   .Process(use_everything, queue, tasks, simple, std::move(child_end), lock,
                            rlock, semaphore, event, condition, counter, array, raw);
  child.start();

  EXPECT_EQ(queue.get(20s), "from " + child.name());
  tasks.put(7);
  EXPECT_TRUE(tasks.join(20s));
  EXPECT_EQ(simple.get(), (std::vector<int>{1, 2, 3}));
  parent_end.send(41);
  ASSERT_TRUE(parent_end.poll(20s));
  EXPECT_EQ(parent_end.recv<int>(), 42);
  for (int i = 0; i < kIncrements; ++i) {
    std::lock_guard guard(counter);
    counter.get_obj() += 1;
  }
  ASSERT_TRUE(semaphore.acquire(20s));  // the child is done with the locks
  EXPECT_EQ(counter.value(), 2 * kIncrements);
  EXPECT_EQ(array.get(0), 42);
  EXPECT_EQ(array.get(1), 43);
  EXPECT_EQ(raw.value(), 2.5);
  {
    std::lock_guard guard(condition);
    event.set();
    condition.notify_all();
  }
  ASSERT_TRUE(child.join(20s));
  EXPECT_EQ(child.exitcode(), 0);
}

// A socket connected in the parent (weft/mp/reduction.hpp): the child answers on it.
void answer_on(weft::net::Socket sock) { sock.sendall("pong to " + sock.recv(64)); }

TEST_P(ObjectsAcrossStarts, ChildAnswersOnTheParentsSocket) {
  auto [mine, theirs] = weft::net::socketpair();
  mine.settimeout(20s);
  auto child = mp::get_context(GetParam()).Process(answer_on, std::move(theirs));
  child.start();
  mine.sendall("ping");
  EXPECT_EQ(mine.recv(64), "pong to ping");
  ASSERT_TRUE(child.join(20s));
  EXPECT_EQ(child.exitcode(), 0);
}

INSTANTIATE_TEST_SUITE_P(StartMethods, ObjectsAcrossStarts,
                         ::testing::Values("fork", "spawn", "forkserver"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
