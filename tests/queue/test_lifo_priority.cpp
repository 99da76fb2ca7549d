// LifoQueue and PriorityQueue: LIFO and lowest-first order, pairs, custom Compare, move-only.
#include <gtest/gtest.h>
#include <weft/queue.hpp>

#include <algorithm>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace {

TEST(LifoQueue, LastInFirstOut) {
  weft::LifoQueue<int> q;
  for (int i = 0; i < 10; ++i) q.put(i);
  for (int i = 9; i >= 0; --i) EXPECT_EQ(q.get(), i);
}

TEST(LifoQueue, InterleavedPutsAndGets) {
  weft::LifoQueue<int> q(3);
  q.put(1);
  q.put(2);
  EXPECT_EQ(q.get(), 2);
  q.put(3);
  q.put(4);
  EXPECT_THROW(q.put_nowait(5), weft::Full);
  EXPECT_EQ(q.get(), 4);
  EXPECT_EQ(q.get(), 3);
  EXPECT_EQ(q.get(), 1);
}

TEST(LifoQueue, MoveOnlyItems) {
  weft::LifoQueue<std::unique_ptr<int>> q;
  q.put(std::make_unique<int>(1));
  q.put(std::make_unique<int>(2));
  EXPECT_EQ(*q.get(), 2);
  EXPECT_EQ(*q.get(), 1);
}

TEST(PriorityQueue, LowestFirst) {
  std::vector<int> values(200);
  for (int i = 0; i < 200; ++i) values[i] = (i * 7919) % 200;
  weft::PriorityQueue<int> q;
  for (int v : values) q.put(v);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(q.get(), i);
  EXPECT_TRUE(q.empty());
}

TEST(PriorityQueue, PriorityDataPairsAsInPython) {
  weft::PriorityQueue<std::pair<int, std::string>> q;
  q.put({3, "low"});
  q.put({1, "urgent"});
  q.put({2, "normal"});
  q.put({1, "also urgent"});
  EXPECT_EQ(q.get(), std::make_pair(1, std::string("also urgent")));
  EXPECT_EQ(q.get(), std::make_pair(1, std::string("urgent")));
  EXPECT_EQ(q.get(), std::make_pair(2, std::string("normal")));
  EXPECT_EQ(q.get(), std::make_pair(3, std::string("low")));
}

TEST(PriorityQueue, CustomCompareGreaterGivesHighestFirst) {
  weft::PriorityQueue<int, std::greater<int>> q;
  for (int v : {5, 1, 9, 3, 7}) q.put(v);
  for (int v : {9, 7, 5, 3, 1}) EXPECT_EQ(q.get(), v);
}

struct Job {
  int priority;
  std::string name;
};

struct ByPriority {
  bool operator()(const Job& a, const Job& b) const { return a.priority < b.priority; }
};

TEST(PriorityQueue, CustomCompareOnAStruct) {
  weft::PriorityQueue<Job, ByPriority> q(3);
  q.put({20, "b"});
  q.put({10, "a"});
  q.put({30, "c"});
  EXPECT_TRUE(q.full());
  EXPECT_EQ(q.get().name, "a");
  EXPECT_EQ(q.get().name, "b");
  EXPECT_EQ(q.get().name, "c");
}

struct FirstOnly {
  bool operator()(const std::pair<int, int>& a, const std::pair<int, int>& b) const {
    return a.first < b.first;
  }
};

TEST(PriorityQueue, EqualPrioritiesAllComeOutInPriorityOrder) {
  weft::PriorityQueue<std::pair<int, int>, FirstOnly> q;
  for (int i = 0; i < 20; ++i) q.put({i % 2, i});
  std::vector<int> taken;
  for (int i = 0; i < 20; ++i) {
    const auto [priority, id] = q.get();
    EXPECT_EQ(priority, i < 10 ? 0 : 1);
    taken.push_back(id);
  }
  std::sort(taken.begin(), taken.end());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(taken[i], i);
}

struct DerefLess {
  bool operator()(const std::unique_ptr<int>& a, const std::unique_ptr<int>& b) const {
    return *a < *b;
  }
};

TEST(PriorityQueue, MoveOnlyItemsWithCustomCompare) {
  weft::PriorityQueue<std::unique_ptr<int>, DerefLess> q;
  std::mt19937 rng(42);
  std::vector<int> values{4, 8, 15, 16, 23, 42};
  std::shuffle(values.begin(), values.end(), rng);
  for (int v : values) q.put(std::make_unique<int>(v));
  for (int v : {4, 8, 15, 16, 23, 42}) EXPECT_EQ(*q.get(), v);
}

}  // namespace
