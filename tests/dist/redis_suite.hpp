// RedisSuite: a GoogleTest fixture whose tests share one redis-server
// (started for the suite, killed after it); each test works on a queue
// named after itself, so tests never see each other's keys.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "dist/redis_server.hpp"

namespace weft::dist::testing {

class RedisSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new RedisServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  static std::string url() { return server_->url(); }
  // The queue name of this test: its own name.
  static std::string queue() { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }

  inline static RedisServer* server_ = nullptr;
};

}  // namespace weft::dist::testing
