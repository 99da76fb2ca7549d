// A BaseManager served by one program and used by others over TCP
// loopback: they share nothing but the address and the key.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

#include "mp/child_process.hpp"
#include "mp/manager_test_types.hpp"
#include "weft/mp/managers.hpp"

namespace {

namespace mp = weft::mp;
using namespace std::chrono_literals;
using weft::test::Child;

class RemoteManager : public ::testing::Test {
 protected:
  void SetUp() override {
    auto line = server.read_line();
    ASSERT_TRUE(line) << "the serving program printed no address";
    address = weft::net::Address::parse(*line);
  }

  Child server = Child::exec({WEFT_MANAGER_PEER, "serve", "the key"});
  weft::net::Address address;
};

TEST_F(RemoteManager, ProgramsShareRegisteredObjects) {
  mp::BaseManager manager(address, "the key");
  manager.connect();
  auto queue = manager.create<mp::QueueProxy<std::string>>("get_queue");
  auto dict = manager.create<mp::DictProxy<std::string, int>>("get_dict");
  auto peer = Child::exec({WEFT_MANAGER_PEER, "use", address.to_string(), "the key"});
  EXPECT_EQ(peer.read_line(), "done");
  EXPECT_EQ(peer.wait(), 0);
  EXPECT_EQ(queue.get(20s), "hello from the peer");
  EXPECT_EQ(dict.getitem("peer"), 42);
  // A user type the serving program registered too.
  auto counter = manager.create("Counter", 1);
  EXPECT_EQ(counter.callmethod<int>("increment", 2), 3);
}

TEST_F(RemoteManager, AWrongKeyIsAnAuthenticationErrorAndTheServerServesOn) {
  mp::BaseManager intruder(address, "not the key");
  EXPECT_THROW(intruder.connect(), mp::AuthenticationError);
  auto peer = Child::exec({WEFT_MANAGER_PEER, "use", address.to_string(), "wrong"});
  auto line = peer.read_line();
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("AuthenticationError"), std::string::npos) << *line;
  mp::BaseManager manager(address, "the key");
  manager.connect();
  manager.create<mp::DictProxy<std::string, int>>("get_dict").setitem("after", 1);
}

TEST_F(RemoteManager, AKilledServerMakesProxiesRaiseManagerGoneError) {
  mp::BaseManager manager(address, "the key");
  manager.connect();
  auto dict = manager.create<mp::DictProxy<std::string, int>>("get_dict");
  dict.setitem("x", 1);
  server.kill();
  EXPECT_THROW(dict.getitem("x"), mp::ManagerGoneError);
  EXPECT_THROW(dict.getitem("x"), mp::ManagerGoneError);  // reconnecting is refused
  EXPECT_THROW(manager.create("get_dict"), mp::ManagerGoneError);
}

TEST(RemoteManagerAbsent, ConnectingToNothingIsManagerGoneError) {
  mp::BaseManager manager(weft::net::Address::parse("unix:@weft-test-no-such-manager"), "key");
  EXPECT_THROW(manager.connect(), mp::ManagerGoneError);
}

}  // namespace
