// Proxies in child processes of every start method: passed as arguments,
// used concurrently by ten children (nothing lost), and the reference
// counts that keep an object while any process holds a proxy of it.
#include <signal.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "mp/child_process.hpp"
#include "weft/mp/connection.hpp"
#include "weft/mp/context.hpp"
#include "weft/mp/managers.hpp"
#include "weft/mp/queues.hpp"

namespace {

namespace mp = weft::mp;
using namespace std::chrono_literals;
using mp::StartMethod;

constexpr int kChildren = 10;
constexpr int kPerChild = 50;

void fill(int who, mp::DictProxy<std::string, int> d, mp::ListProxy<int> l) {
  for (int i = 0; i < kPerChild; ++i) {
    l.append(who * 1000 + i);
    d.setitem("child-" + std::to_string(who) + "-" + std::to_string(i), i);
  }
}

void count_up(mp::NamespaceProxy ns, mp::AcquirerProxy lock) {
  for (int i = 0; i < kPerChild; ++i) {
    std::lock_guard guard(lock);
    ns.set("n", ns.get<int>("n") + 1);
  }
}

void hold_and_report(mp::ListProxy<int> l, mp::SimpleQueue<int> ready) {
  l.append(1);  // takes this process's reference
  ready.put(1);
  while (true) ::pause();
}

class ManagerProcesses : public ::testing::TestWithParam<StartMethod> {
 protected:
  mp::Context context{GetParam()};
  mp::Manager manager{context};
};

TEST_P(ManagerProcesses, TenChildrenLoseNothing) {
  auto d = manager.dict<std::string, int>();
  auto l = manager.list<int>();
  std::vector<mp::Process> children;
  for (int who = 0; who < kChildren; ++who) children.push_back(context.Process(&fill, who, d, l));
  for (auto& child : children) child.start();
  for (auto& child : children) {
    ASSERT_TRUE(child.join(60s));
    EXPECT_EQ(child.exitcode(), 0);
  }
  EXPECT_EQ(d.len(), std::size_t{kChildren * kPerChild});
  auto values = l.copy();
  std::sort(values.begin(), values.end());
  std::vector<int> expected;
  for (int who = 0; who < kChildren; ++who)
    for (int i = 0; i < kPerChild; ++i) expected.push_back(who * 1000 + i);
  EXPECT_EQ(values, expected);
  EXPECT_EQ(d.getitem("child-7-49"), 49);
}

TEST_P(ManagerProcesses, ALockMakesReadModifyWriteAtomic) {
  auto ns = manager.Namespace();
  ns.set("n", 0);
  auto lock = manager.Lock();
  std::vector<mp::Process> children;
  for (int who = 0; who < 4; ++who) children.push_back(context.Process(&count_up, ns, lock));
  for (auto& child : children) child.start();
  for (auto& child : children) {
    ASSERT_TRUE(child.join(60s));
    EXPECT_EQ(child.exitcode(), 0);
  }
  EXPECT_EQ(ns.get<int>("n"), 4 * kPerChild);
}

TEST_P(ManagerProcesses, AKilledChildReleasesItsReferences) {
  const auto before = manager.number_of_objects();
  mp::SimpleQueue<int> ready;
  std::optional<mp::Process> child;
  {
    auto l = manager.list<int>();
    child.emplace(context.Process(&hold_and_report, l, ready));
    child->start();
    EXPECT_EQ(ready.get(), 1);
    EXPECT_EQ(manager.number_of_objects(), before + 1);
  }
  // The child's reference keeps the list after the parent dropped its own.
  EXPECT_EQ(manager.number_of_objects(), before + 1);
  child->kill();
  child->join();
  child.reset();  // the Process keeps its arguments, the proxy among them
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (manager.number_of_objects() != before && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);  // polls the server for the release
  }
  EXPECT_EQ(manager.number_of_objects(), before);
}

INSTANTIATE_TEST_SUITE_P(StartMethods, ManagerProcesses,
                         ::testing::Values(StartMethod::fork, StartMethod::spawn, StartMethod::forkserver),
                         [](const auto& info) { return std::string(mp::start_method_name(info.param)); });

TEST(ManagerRefcount, AnObjectIsDroppedWithItsLastProxy) {
  mp::Manager manager;
  EXPECT_EQ(manager.number_of_objects(), 0u);
  {
    auto d = manager.dict<int, int>();
    auto copy = d;
    auto decoded = weft::codec::decode<mp::DictProxy<int, int>>(weft::codec::encode(d));
    EXPECT_EQ(manager.number_of_objects(), 1u);
    {
      auto l = manager.list<int>();
      EXPECT_EQ(manager.number_of_objects(), 2u);
    }
    EXPECT_EQ(manager.number_of_objects(), 1u);
  }
  EXPECT_EQ(manager.number_of_objects(), 0u);
}

TEST(ManagerRefcount, AForkedChildThatNeverUsesAProxyTakesNoReference) {
  mp::Manager manager;
  {
    auto d = manager.dict<int, int>();
    auto child = weft::test::Child::fork([d] { (void)d; });
    EXPECT_EQ(child.wait(), 0);
  }
  EXPECT_EQ(manager.number_of_objects(), 0u);
}

TEST(ManagerRefcount, AForkedChildUsesItsOwnConnection) {
  mp::Manager manager;
  auto d = manager.dict<int, int>();
  d.setitem(0, 0);  // the parent's thread connection exists before the fork
  auto child = weft::test::Child::fork([d] {
    for (int i = 1; i <= 100; ++i) d.setitem(i, i);
  });
  for (int i = 0; i < 100; ++i) d.setitem(-i - 1, i);
  EXPECT_EQ(child.wait(), 0);
  EXPECT_EQ(d.len(), 201u);
}

}  // namespace

namespace {

TEST(ManagerProxies, TravelOverAConnection) {
  mp::Manager manager;
  auto d = manager.dict<std::string, int>();
  auto pipe = mp::Pipe();
  auto& ours = pipe.first;
  auto& theirs = pipe.second;
  auto child = weft::test::Child::fork([&theirs] {
    auto received = theirs.recv<mp::DictProxy<std::string, int>>();
    received.setitem("from the child", 7);
    theirs.send(true);
  });
  ours.send(d);
  EXPECT_TRUE(ours.recv<bool>());
  EXPECT_EQ(d.getitem("from the child"), 7);
  EXPECT_EQ(child.wait(), 0);
}

}  // namespace
