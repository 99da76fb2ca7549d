// BaseManager with user types (register_), shared instances
// (register_shared), and a server run in this process (get_server).
#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

#include "mp/manager_test_types.hpp"
#include "weft/mp/context.hpp"
#include "weft/mp/managers.hpp"
#include "weft/net/errors.hpp"

namespace {

namespace mp = weft::mp;
using namespace std::chrono_literals;
using manager_test::Counter;

// A type whose methods take the caller first.
struct Visits {
  int visit(weft::mp::manager::Caller& caller, int times) {
    if (!caller.connected()) throw std::logic_error("a caller that is not connected");
    return count += times;
  }
  std::uint64_t connection(weft::mp::manager::Caller& caller) const { return caller.connection(); }
  int count = 0;
};

const bool visits_registered = [] {
  mp::BaseManager::register_<Visits>("Visits", mp::method("visit", &Visits::visit),
                                     mp::method("connection", &Visits::connection));
  return true;
}();

void put_from_child(mp::QueueProxy<std::string> queue, mp::BaseProxy counter) {
  queue.put("from the child");
  counter.callmethod<int>("increment", 1);
}

TEST(ManagerRegister, AUserTypeIsMadeFromItsArgumentsAndCalledByName) {
  mp::BaseManager manager;
  manager.start();
  auto counter = manager.create("Counter", 5);
  EXPECT_EQ(counter.type_id(), "Counter");
  EXPECT_EQ(counter.callmethod<int>("increment", 3), 8);
  EXPECT_EQ(counter.callmethod<int>("value"), 8);
}

TEST(ManagerRegister, AMethodTakingTheCallerReceivesIt) {
  mp::BaseManager manager;
  manager.start();
  auto visits = manager.create("Visits");
  EXPECT_EQ(visits.callmethod<int>("visit", 2), 2);
  EXPECT_EQ(visits.callmethod<int>("visit", 3), 5);
  const auto connection = visits.callmethod<std::uint64_t>("connection");
  EXPECT_EQ(visits.callmethod<std::uint64_t>("connection"), connection);
}

TEST(ManagerRegister, ErrorsOfAUserType) {
  mp::BaseManager manager;
  manager.start();
  auto counter = manager.create("Counter", 5);
  try {
    counter.callmethod("decrement");
    FAIL() << "no AttributeError";
  } catch (const weft::AttributeError& e) {
    EXPECT_STREQ(e.what(), "'Counter' object has no attribute 'decrement'");
  }
  try {
    counter.callmethod("fail", std::string("bad input"));
    FAIL() << "no invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "bad input");
  }
  EXPECT_THROW(counter.callmethod("increment", std::string("x")), weft::codec::DecodeError);
  EXPECT_THROW(manager.create("Counter", std::string("not an int")), weft::codec::DecodeError);
  EXPECT_THROW(manager.create("Counter"), weft::codec::DecodeError);
  EXPECT_EQ(counter.callmethod<int>("value"), 5);
}

TEST(ManagerRegister, ASharedInstanceIsOneObjectForEveryone) {
  mp::BaseManager manager;
  manager.start();
  auto first = manager.create("get_counter");
  auto second = manager.create("get_counter");
  EXPECT_EQ(first.id(), second.id());
  first.callmethod<int>("increment", 1);
  EXPECT_EQ(second.callmethod<int>("value"), 101);
  const auto id = first.id();
  first = second = manager.create("get_dict");
  // The server keeps a shared instance even with no proxy of it left.
  EXPECT_EQ(manager.create("get_counter").id(), id);
  EXPECT_EQ(manager.create("get_counter").callmethod<int>("value"), 101);
}

TEST(ManagerRegister, ChildrenOfEveryStartMethodUseRegisteredObjects) {
  for (auto method : {mp::StartMethod::fork, mp::StartMethod::spawn, mp::StartMethod::forkserver}) {
    mp::Context context(method);
    mp::BaseManager manager(std::nullopt, std::nullopt, context);
    manager.start();
    auto queue = manager.create<mp::QueueProxy<std::string>>("get_queue");
    auto counter = manager.create("Counter", 0);
    auto child = context.Process(&put_from_child, queue, counter);
    child.start();
    EXPECT_EQ(queue.get(20s), "from the child");
    ASSERT_TRUE(child.join(20s));
    EXPECT_EQ(child.exitcode(), 0);
    EXPECT_EQ(counter.callmethod<int>("value"), 1);
  }
}

TEST(ManagerRegister, AServerInThisProcess) {
  mp::BaseManager serving(weft::net::Address::ipv4("127.0.0.1", 0), "key");
  auto server = serving.get_server();
  EXPECT_NE(server->address().port(), 0);
  std::thread thread([&] { server->serve_forever(); });
  {
    mp::BaseManager client(server->address(), "key");
    client.connect();
    auto dict = client.create<mp::DictProxy<std::string, std::string>>("get_dict");
    dict.setitem("k", "v");
    using Dict = mp::DictProxy<std::string, std::string>;
    EXPECT_EQ(client.create<Dict>("get_dict").getitem("k"), "v");
    server->stop();
    thread.join();
    EXPECT_THROW(dict.getitem("k"), mp::ManagerGoneError);
  }
}

TEST(ManagerRegister, AManagerAtASocketPathRemovesTheFileSoThePathServesAgain) {
  char directory[] = "/tmp/weft-manager-test-XXXXXX";
  ASSERT_NE(::mkdtemp(directory), nullptr);
  const std::string path = std::string(directory) + "/manager.sock";
  for (int round = 0; round < 2; ++round) {
    mp::BaseManager manager(weft::net::Address::unix_path(path), std::string("key"));
    manager.start();
    EXPECT_EQ(manager.create("Counter", round).callmethod<int>("value"), round);
    manager.shutdown();
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(path))) << "round " << round;
  }
  {
    mp::BaseManager serving(weft::net::Address::unix_path(path), "key");
    auto server = serving.get_server();
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::symlink_status(path)));
    // Another server cannot bind there, and leaves the first one's file.
    EXPECT_THROW(serving.get_server(), weft::net::OSError);
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::symlink_status(path)));
  }
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(path)));
  ::rmdir(directory);
}

TEST(ManagerRegister, StartOrConnectTwiceIsAnError) {
  mp::BaseManager manager;
  manager.start();
  EXPECT_THROW(manager.start(), mp::ProcessError);
  EXPECT_THROW(manager.connect(), mp::ProcessError);
}

}  // namespace
