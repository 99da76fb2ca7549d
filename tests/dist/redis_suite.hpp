// RedisSuite: a GoogleTest fixture whose tests share one redis-server
// (started for the suite, killed after it); each test works on a queue
// named after itself, so tests never see each other's keys.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <exception>
#include <string>

#include "dist/redis_server.hpp"
#include "weft/dist/redis.hpp"

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

// While it lives, the server at `url` refuses values longer than 1 MiB
// (the least proto-max-bulk-len it takes; 512 MiB by default) with
// "ERR Protocol error: invalid bulk length", closing the connection.
class SmallBulkLimit {
 public:
  explicit SmallBulkLimit(const std::string& url) : redis_(RedisUrl::parse(url)) {
    redis_.command({"CONFIG", "SET", "proto-max-bulk-len", "1mb"});
  }
  ~SmallBulkLimit() {
    try {
      redis_.command({"CONFIG", "SET", "proto-max-bulk-len", "512mb"});
    } catch (const std::exception& error) {
      ADD_FAILURE() << "proto-max-bulk-len not set back: " << error.what();
    }
  }
  SmallBulkLimit(const SmallBulkLimit&) = delete;
  SmallBulkLimit& operator=(const SmallBulkLimit&) = delete;

  // A value the server refuses.
  static constexpr std::size_t too_long = 2 << 20;

 private:
  RedisConnection redis_;
};

}  // namespace weft::dist::testing
