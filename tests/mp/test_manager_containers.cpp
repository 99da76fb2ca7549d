// The containers of a Manager, used from the process that made it: every
// method with Python's semantics.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "weft/mp/managers.hpp"

namespace {

namespace mp = weft::mp;
using Pairs = std::vector<std::pair<std::string, int>>;

class ManagerContainers : public ::testing::Test {
 protected:
  mp::Manager manager;
};

TEST_F(ManagerContainers, DictItemsKeepInsertionOrder) {
  auto d = manager.dict<std::string, int>();
  d.setitem("b", 1);
  d.setitem("a", 2);
  d.setitem("c", 3);
  d.setitem("b", 10);  // an existing key keeps its place
  EXPECT_EQ(d.items(), (Pairs{{"b", 10}, {"a", 2}, {"c", 3}}));
  EXPECT_EQ(d.keys(), (std::vector<std::string>{"b", "a", "c"}));
  EXPECT_EQ(d.values(), (std::vector<int>{10, 2, 3}));
  EXPECT_EQ(d.len(), 3u);
  EXPECT_EQ(d.copy(), d.items());
}

TEST_F(ManagerContainers, DictLookups) {
  auto d = manager.dict<std::string, int>({{"x", 1}});
  EXPECT_EQ(d.getitem("x"), 1);
  EXPECT_THROW(d.getitem("y"), weft::KeyError);
  EXPECT_EQ(d.get("y"), std::nullopt);
  EXPECT_EQ(d.get("y", 7), 7);
  EXPECT_EQ(d.get("x", 7), 1);
  EXPECT_TRUE(d.contains("x"));
  EXPECT_FALSE(d.contains("y"));
}

TEST_F(ManagerContainers, DictRemovals) {
  auto d = manager.dict<std::string, int>({{"x", 1}, {"y", 2}, {"z", 3}});
  d.delitem("y");
  EXPECT_THROW(d.delitem("y"), weft::KeyError);
  EXPECT_EQ(d.pop("x"), 1);
  EXPECT_THROW(d.pop("x"), weft::KeyError);
  EXPECT_EQ(d.pop("x", -1), -1);
  d.setitem("w", 4);
  EXPECT_EQ(d.popitem(), (std::pair<std::string, int>("w", 4)));  // the last inserted
  EXPECT_EQ(d.popitem(), (std::pair<std::string, int>("z", 3)));
  EXPECT_THROW(d.popitem(), weft::KeyError);
}

TEST_F(ManagerContainers, DictSetdefaultUpdateClear) {
  auto d = manager.dict<std::string, int>();
  EXPECT_EQ(d.setdefault("a", 5), 5);
  EXPECT_EQ(d.setdefault("a", 6), 5);
  EXPECT_EQ(d.setdefault("z"), 0);
  d.update({{"a", 1}, {"b", 2}});
  EXPECT_EQ(d.items(), (Pairs{{"a", 1}, {"z", 0}, {"b", 2}}));
  d.clear();
  EXPECT_EQ(d.len(), 0u);
}

TEST_F(ManagerContainers, DictOfStructuredKeysAndValues) {
  auto d = manager.dict<std::tuple<int, std::string>, std::vector<double>>();
  d.setitem({1, "one"}, {1.5, 2.5});
  EXPECT_EQ(d.getitem({1, "one"}), (std::vector<double>{1.5, 2.5}));
  EXPECT_FALSE(d.contains({1, "two"}));
}

// As the header says: keys and searched values match by encoding, so the
// two zeros, equal as doubles, are two keys and two values.
TEST_F(ManagerContainers, KeysAndValuesMatchByEncodingSoTheTwoZerosDiffer) {
  auto d = manager.dict<double, int>();
  d.setitem(0.0, 1);
  d.setitem(-0.0, 2);
  EXPECT_EQ(d.len(), 2u);
  EXPECT_EQ(d.getitem(0.0), 1);
  EXPECT_EQ(d.getitem(-0.0), 2);
  auto l = manager.list<double>();
  l.append(0.0);
  EXPECT_TRUE(l.contains(0.0));
  EXPECT_FALSE(l.contains(-0.0));
  EXPECT_THROW(l.remove(-0.0), weft::ValueError);
}

TEST_F(ManagerContainers, ListBasics) {
  auto l = manager.list<int>({3, 1, 2});
  l.append(5);
  l.extend({7, 1});
  EXPECT_EQ(l.copy(), (std::vector<int>{3, 1, 2, 5, 7, 1}));
  EXPECT_EQ(l.len(), 6u);
  EXPECT_EQ(l.getitem(0), 3);
  EXPECT_EQ(l.getitem(-1), 1);
  EXPECT_THROW(l.getitem(6), weft::IndexError);
  EXPECT_THROW(l.getitem(-7), weft::IndexError);
  l.setitem(-2, 8);
  EXPECT_EQ(l.getitem(4), 8);
  EXPECT_THROW(l.setitem(10, 0), weft::IndexError);
  EXPECT_EQ(l.count(1), 2u);
  EXPECT_EQ(l.index(1), 1u);
  EXPECT_THROW(l.index(42), weft::ValueError);
  EXPECT_TRUE(l.contains(8));
  EXPECT_FALSE(l.contains(42));
}

TEST_F(ManagerContainers, ListInsertClampsAsPython) {
  auto l = manager.list<int>({1, 2});
  l.insert(1, 9);
  l.insert(100, 10);
  l.insert(-100, 0);
  l.insert(-1, 7);
  EXPECT_EQ(l.copy(), (std::vector<int>{0, 1, 9, 2, 7, 10}));
}

TEST_F(ManagerContainers, ListRemovals) {
  auto l = manager.list<std::string>({"a", "b", "c", "b"});
  EXPECT_EQ(l.pop(), "b");
  EXPECT_EQ(l.pop(0), "a");
  EXPECT_THROW(l.pop(5), weft::IndexError);
  l.remove("b");
  EXPECT_THROW(l.remove("b"), weft::ValueError);
  l.delitem(0);
  EXPECT_THROW(l.delitem(0), weft::IndexError);
  try {
    l.pop();
    FAIL() << "no IndexError";
  } catch (const weft::IndexError& e) {
    EXPECT_STREQ(e.what(), "pop from empty list");
  }
}

TEST_F(ManagerContainers, ListSortsByValueNotByEncoding) {
  auto numbers = manager.list<int>({300, -5, 2, 70000, -70000, 0});
  numbers.sort();
  EXPECT_EQ(numbers.copy(), (std::vector<int>{-70000, -5, 0, 2, 300, 70000}));
  numbers.sort(true);
  EXPECT_EQ(numbers.copy(), (std::vector<int>{70000, 300, 2, 0, -5, -70000}));
  auto doubles = manager.list<double>({2.5, -1.0, 1e10, 0.25});
  doubles.sort();
  EXPECT_EQ(doubles.copy(), (std::vector<double>{-1.0, 0.25, 2.5, 1e10}));
  auto words = manager.list<std::string>({"pear", "apple", "fig", "applesauce"});
  words.sort();
  EXPECT_EQ(words.copy(), (std::vector<std::string>{"apple", "applesauce", "fig", "pear"}));
  using Row = std::tuple<int, std::string>;
  auto rows = manager.list<Row>({{2, "b"}, {1, "z"}, {2, "a"}});
  rows.sort();
  EXPECT_EQ(rows.copy(), (std::vector<Row>{{1, "z"}, {2, "a"}, {2, "b"}}));
  rows.reverse();
  EXPECT_EQ(rows.getitem(0), (Row{2, "b"}));
}

TEST_F(ManagerContainers, Namespace) {
  auto ns = manager.Namespace();
  ns.set("x", 10);
  ns.set("name", std::string("weft"));
  EXPECT_EQ(ns.get<int>("x"), 10);
  EXPECT_EQ(ns.get<std::string>("name"), "weft");
  EXPECT_TRUE(ns.has("x"));
  EXPECT_EQ(ns.names(), (std::vector<std::string>{"name", "x"}));
  ns.del("x");
  EXPECT_FALSE(ns.has("x"));
  try {
    ns.get<int>("x");
    FAIL() << "no AttributeError";
  } catch (const weft::AttributeError& e) {
    EXPECT_STREQ(e.what(), "'Namespace' object has no attribute 'x'");
  }
  EXPECT_THROW(ns.del("x"), weft::AttributeError);
  EXPECT_THROW(ns.get<int>("name"), weft::codec::DecodeError);
}

TEST_F(ManagerContainers, ValueAndArray) {
  auto v = manager.Value<double>(1.5);
  EXPECT_EQ(v.value(), 1.5);
  v.set_value(2.5);
  EXPECT_EQ(v.get(), 2.5);
  auto a = manager.Array<int>({1, 2, 3});
  EXPECT_EQ(a.len(), 3u);
  a.setitem(-1, 30);
  EXPECT_EQ(a.getitem(2), 30);
  EXPECT_THROW(a.getitem(3), weft::IndexError);
  EXPECT_THROW(a.setitem(-4, 0), weft::IndexError);
  EXPECT_EQ(a.copy(), (std::vector<int>{1, 2, 30}));
}

TEST_F(ManagerContainers, ProxiesOfOneObjectShareIt) {
  auto d = manager.dict<int, int>();
  auto copy = d;
  copy.setitem(1, 2);
  EXPECT_EQ(d.getitem(1), 2);
  // A proxy decoded in this process refers to the same object.
  auto decoded = weft::codec::decode<mp::DictProxy<int, int>>(weft::codec::encode(d));
  decoded.setitem(3, 4);
  EXPECT_EQ(d.len(), 2u);
  EXPECT_EQ(decoded.type_id(), "dict");
}

TEST_F(ManagerContainers, ListSortsValuesNestedTooDeeplyForAStack) {
  // Arrays of one element nested a million deep, around an int and a nil:
  // equal but for their innermost values.
  const std::string nesting(1'000'000, '\x91');
  const std::string around_int = nesting + '\x01';
  const std::string around_nil = nesting + '\xc0';
  auto nested = manager.list<int>();
  nested.callmethod("append", around_int);
  nested.callmethod("append", around_nil);
  nested.sort();
  EXPECT_EQ(nested.callmethod<std::string>("getitem", std::int64_t{0}), around_nil);
  EXPECT_EQ(nested.callmethod<std::string>("getitem", std::int64_t{1}), around_int);
}

TEST_F(ManagerContainers, UnknownMethodIsAnAttributeError) {
  auto d = manager.dict<int, int>();
  try {
    d.callmethod("frobnicate");
    FAIL() << "no AttributeError";
  } catch (const weft::AttributeError& e) {
    EXPECT_STREQ(e.what(), "'dict' object has no attribute 'frobnicate'");
  }
  EXPECT_THROW(d.callmethod("setitem", 1), weft::codec::DecodeError);
  EXPECT_EQ(d.len(), 0u);  // the object, and the connection, still serve
}

TEST_F(ManagerContainers, UnknownTypeidIsAKeyError) {
  EXPECT_THROW(manager.create("NoSuchType"), weft::KeyError);
}

TEST_F(ManagerContainers, WrongValueTypeIsADecodeError) {
  auto d = manager.dict<int, std::string>();
  d.setitem(1, "text");
  mp::DictProxy<int, int> wrong(d);
  EXPECT_THROW(wrong.getitem(1), weft::codec::DecodeError);
}

TEST_F(ManagerContainers, ManyThreadsOfOneProcess) {
  auto l = manager.list<int>();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([l, t] {
      for (int i = 0; i < 100; ++i) l.append(t * 1000 + i);
    });
  }
  for (auto& thread : threads) thread.join();
  auto all = l.copy();
  std::sort(all.begin(), all.end());
  std::vector<int> expected;
  for (int t = 0; t < 4; ++t)
    for (int i = 0; i < 100; ++i) expected.push_back(t * 1000 + i);
  EXPECT_EQ(all, expected);
}

}  // namespace

namespace {

// The synchronisation objects a Manager makes (their semantics are tested
// with their proxies): each maker gives a working proxy of its typeid.
TEST_F(ManagerContainers, TheSynchronisationMakers) {
  auto lock = manager.Lock();
  EXPECT_EQ(lock.type_id(), "Lock");
  EXPECT_TRUE(lock.acquire());
  EXPECT_FALSE(lock.acquire(false));
  lock.release();
  auto rlock = manager.RLock();
  EXPECT_TRUE(rlock.acquire());
  EXPECT_TRUE(rlock.acquire());
  rlock.release();
  rlock.release();
  auto semaphore = manager.Semaphore(2);
  EXPECT_TRUE(semaphore.acquire(false));
  EXPECT_TRUE(semaphore.acquire(false));
  EXPECT_FALSE(semaphore.acquire(false));
  auto bounded = manager.BoundedSemaphore(1);
  EXPECT_THROW(bounded.release(), weft::ValueError);
  auto event = manager.Event();
  event.set();
  EXPECT_TRUE(event.is_set());
  auto condition = manager.Condition();
  EXPECT_EQ(condition.type_id(), "Condition");
  auto barrier = manager.Barrier(1);
  EXPECT_EQ(barrier.wait(), 0u);
  auto queue = manager.Queue<std::string>(1);
  queue.put("item");
  EXPECT_TRUE(queue.full());
  EXPECT_EQ(queue.get(), "item");
  auto joinable = manager.JoinableQueue<int>();
  joinable.put(1);
  EXPECT_EQ(joinable.get(), 1);
  joinable.task_done();
  joinable.join();
}

}  // namespace
