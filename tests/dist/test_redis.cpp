// The Redis client: URLs, replies of every type, pipelines, authentication,
// and connections that break and come back, against a real redis-server.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "dist/redis_server.hpp"
#include "weft/dist/redis.hpp"
#include "weft/threading/event.hpp"

namespace weft::dist {
namespace {

using namespace std::chrono_literals;
using testing::RedisServer;
using Clock = std::chrono::steady_clock;

RedisConnection connect(const RedisServer& server, ConnectOptions options = {}) {
  return RedisConnection(RedisUrl::parse(server.url()), options);
}

// A loopback port bound but not listening: connecting to it is refused,
// and no other process can take it meanwhile.
class RefusingPort {
 public:
  RefusingPort() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::system_error(errno, std::generic_category(), "bind 127.0.0.1:0");
    }
    port_ = ntohs(address.sin_port);
  }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  ~RefusingPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

// ---- URLs ------------------------------------------------------------------

// Expects `url` refused with a ValueError that shows its password ("s3c…", "…ret") as "***".
void expect_refused_with_password_hidden(const char* url) {
  try {
    RedisUrl::parse(url);
    ADD_FAILURE() << "accepted " << url;
  } catch (const ValueError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find("s3c"), std::string::npos) << what;
    EXPECT_EQ(what.find("ret"), std::string::npos) << what;
    EXPECT_NE(what.find("***@"), std::string::npos) << what;
  }
}

TEST(RedisUrlTest, ParsesEveryPart) {
  const RedisUrl url = RedisUrl::parse("redis://alice:s3cret@cache.example:6380/4");
  EXPECT_EQ(url.host, "cache.example");
  EXPECT_EQ(url.port, 6380);
  EXPECT_EQ(url.username, "alice");
  EXPECT_EQ(url.password, "s3cret");
  EXPECT_EQ(url.db, 4);
}

TEST(RedisUrlTest, FillsInDefaults) {
  const RedisUrl host_only = RedisUrl::parse("redis://localhost");
  EXPECT_EQ(host_only.host, "localhost");
  EXPECT_EQ(host_only.port, 6379);
  EXPECT_EQ(host_only.db, 0);
  EXPECT_TRUE(host_only.username.empty());
  EXPECT_TRUE(host_only.password.empty());
  const RedisUrl empty = RedisUrl::parse("redis://");
  EXPECT_EQ(empty.host, "127.0.0.1");
  EXPECT_EQ(empty.port, 6379);
  EXPECT_EQ(RedisUrl::parse("redis://h/").db, 0);
  EXPECT_EQ(RedisUrl::parse("REDIS://h:1").port, 1);
}

TEST(RedisUrlTest, PasswordWithoutUsernameAndEscapes) {
  const RedisUrl url = RedisUrl::parse("redis://:p%40ss%3Aw0rd@h");
  EXPECT_TRUE(url.username.empty());
  EXPECT_EQ(url.password, "p@ss:w0rd");
  // The credentials end at the last '@'.
  EXPECT_EQ(RedisUrl::parse("redis://:a@b@h:7/1").password, "a@b");
  EXPECT_EQ(RedisUrl::parse("redis://:a@b@h:7/1").host, "h");
}

TEST(RedisUrlTest, Ipv6InBrackets) {
  const RedisUrl url = RedisUrl::parse("redis://[::1]:6380/2");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 6380);
  EXPECT_EQ(url.db, 2);
  const RedisUrl zoned = RedisUrl::parse("redis://[fe80::1%25eth0]");
  EXPECT_EQ(zoned.host, "fe80::1%eth0");
  EXPECT_EQ(zoned.str(), "redis://[fe80::1%25eth0]:6379/0");
  EXPECT_EQ(RedisUrl::parse("redis://[2001:db8::7]").port, 6379);
  EXPECT_EQ(url.str(), "redis://[::1]:6380/2");
}

TEST(RedisUrlTest, RejectsWhatIsNotARedisUrl) {
  for (const char* bad : {"", "localhost:6379", "http://h", "rediss://h", "redis:/h", "redis://h:0",
                          "redis://h:65536", "redis://h:99999999999999999999", "redis://h:", "redis://h:abc",
                          "redis://h:6379x", "redis://h/x", "redis://h/-1", "redis://h/1/2", "redis://h?db=1",
                          "redis://[::1", "redis://[]", "redis://[::1%25]", "redis://[::g]", "redis://[::1]x", "redis://::1", "redis://u@h",
                          "redis://:%4@h", "redis://:%zz@h", "redis://h h"}) {
    EXPECT_THROW(RedisUrl::parse(bad), ValueError) << bad;
  }
}

TEST(RedisUrlTest, StrMasksThePassword) {
  EXPECT_EQ(RedisUrl::parse("redis://alice:s3cret@h:1/15").str(), "redis://alice:***@h:1/15");
  EXPECT_EQ(RedisUrl::parse("redis://:s3cret@h").str(), "redis://:***@h:6379/0");
  EXPECT_EQ(RedisUrl::parse("redis://h").str(), "redis://h:6379/0");
  EXPECT_EQ(RedisUrl{}.str(), "redis://127.0.0.1:6379/0");
  const std::string shown = RedisUrl::parse("redis://a%20b:pw@h").str();
  EXPECT_EQ(shown, "redis://a%20b:***@h:6379/0");
  EXPECT_EQ(RedisUrl::parse(shown).username, "a b");
  for (const char* bad : {"redis://:s3cret@h:0", "redis://u:s3cret@h/x/y", "redis://u:s3c@ret@[::1"})
    expect_refused_with_password_hidden(bad);
}

// A password holding an unencoded '/', '?' or '#' is refused, and the error shows none of it.
TEST(RedisUrlTest, ErrorsMaskAPasswordHoldingDelimiters) {
  for (const char* bad : {"redis://:s3c/ret@10.0.0.5:6379/0", "redis://app:s3c/ret/2@redis.local/1",
                          "redis://app:s3c@r/et@host:99999/0", "redis://s3c/ret@h",
                          "redis://app:s3c?ret@redis.local:99999/1", "redis://:s3c#ret@10.0.0.5:0/0",
                          "redis://app:s3c?r/et@h:0/1"})
    expect_refused_with_password_hidden(bad);
}

// ---- Commands and replies --------------------------------------------------

TEST(RedisConnectionTest, EveryReplyType) {
  RedisServer server;
  RedisConnection redis = connect(server);
  EXPECT_TRUE(redis.connected());

  const Reply status = redis.command({"SET", "k", "v"});
  EXPECT_EQ(status.type, Reply::Type::status);
  EXPECT_EQ(status.str, "OK");

  const Reply string = redis.command({"GET", "k"});
  EXPECT_EQ(string.type, Reply::Type::string);
  EXPECT_EQ(string.str, "v");

  EXPECT_TRUE(redis.command({"GET", "missing"}).is_nil());

  const Reply integer = redis.command({"INCRBY", "n", "-42"});
  EXPECT_EQ(integer.type, Reply::Type::integer);
  EXPECT_EQ(integer.integer, -42);

  const Reply empty = redis.command({"LRANGE", "nothing", "0", "-1"});
  EXPECT_EQ(empty.type, Reply::Type::array);
  EXPECT_TRUE(empty.elements.empty());

  const Reply nested = redis.command({"EVAL", "return {1, 'two', {3, false}}", "0"});
  ASSERT_EQ(nested.type, Reply::Type::array);
  ASSERT_EQ(nested.elements.size(), 3u);
  EXPECT_EQ(nested.elements[0].integer, 1);
  EXPECT_EQ(nested.elements[1].str, "two");
  ASSERT_EQ(nested.elements[2].type, Reply::Type::array);
  EXPECT_EQ(nested.elements[2].elements[0].integer, 3);
  EXPECT_TRUE(nested.elements[2].elements[1].is_nil());

  const Reply with_nil = redis.command({"MGET", "k", "missing"});
  ASSERT_EQ(with_nil.elements.size(), 2u);
  EXPECT_EQ(with_nil.elements[0].str, "v");
  EXPECT_TRUE(with_nil.elements[1].is_nil());
}

TEST(RedisConnectionTest, ValuesAreBinarySafe) {
  RedisServer server;
  RedisConnection redis = connect(server);
  const std::string key("k\0ey", 4);
  std::string value("a\0b\r\n$3\r\n*", 11);
  value += std::string(100000, '\xff');
  redis.command(Command{"SET", key, value});
  const Reply got = redis.command(Command{"GET", key});
  EXPECT_EQ(got.str, value);
  EXPECT_TRUE(redis.command({"GET", "k"}).is_nil());
  const std::string_view words[] = {"STRLEN", key};
  EXPECT_EQ(redis.command(std::span<const std::string_view>(words)).integer, static_cast<long long>(value.size()));
}

TEST(RedisConnectionTest, ErrorReplyThrowsResponseError) {
  RedisServer server;
  RedisConnection redis = connect(server);
  redis.command({"SET", "k", "not a number"});
  try {
    redis.command({"INCR", "k"});
    FAIL() << "INCR of a string succeeded";
  } catch (const RedisResponseError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("ERR", 0), 0u) << e.what();
  }
  EXPECT_THROW(redis.command({"LPUSH", "k", "x"}), RedisResponseError);  // WRONGTYPE
  EXPECT_THROW(redis.command({"NOSUCHCOMMAND"}), RedisResponseError);
  // The connection is still good.
  EXPECT_TRUE(redis.connected());
  EXPECT_EQ(redis.command({"GET", "k"}).str, "not a number");
}

TEST(RedisConnectionTest, PipelineReturnsAnErrorInTheMiddle) {
  RedisServer server;
  RedisConnection redis = connect(server);
  const std::vector<Command> commands = {
      {"SET", "k", "v"}, {"INCR", "k"}, {"GET", "k"}, {"RPUSH", "list", "a", "b"}};
  const std::vector<Reply> replies = redis.pipeline(commands);
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_EQ(replies[0].str, "OK");
  EXPECT_TRUE(replies[1].is_error());
  EXPECT_NE(replies[1].str.find("not an integer"), std::string::npos) << replies[1].str;
  EXPECT_EQ(replies[2].str, "v");
  EXPECT_EQ(replies[3].integer, 2);
  EXPECT_TRUE(redis.pipeline({}).empty());
}

TEST(RedisConnectionTest, LargePipeline) {
  RedisServer server;
  RedisConnection redis = connect(server);
  std::vector<Command> commands;
  for (int i = 0; i < 5000; ++i) commands.push_back({"RPUSH", "list", std::string(100, 'x')});
  const std::vector<Reply> replies = redis.pipeline(commands);
  ASSERT_EQ(replies.size(), commands.size());
  EXPECT_EQ(replies.back().integer, 5000);
}

TEST(RedisConnectionTest, SelectsTheDatabaseOfTheUrl) {
  RedisServer server;
  RedisConnection db0 = connect(server);
  RedisConnection db3(RedisUrl::parse("redis://127.0.0.1:" + std::to_string(server.port()) + "/3"));
  db3.command({"SET", "k", "three"});
  EXPECT_TRUE(db0.command({"GET", "k"}).is_nil());
  EXPECT_EQ(db3.command({"GET", "k"}).str, "three");
  EXPECT_THROW(RedisConnection(RedisUrl::parse("redis://127.0.0.1:" + std::to_string(server.port()) + "/99")),
               RedisResponseError);
}

TEST(RedisConnectionTest, MovesKeepTheConnection) {
  RedisServer server;
  RedisConnection first = connect(server);
  first.command({"SET", "k", "v"});
  RedisConnection second = std::move(first);
  EXPECT_EQ(second.command({"GET", "k"}).str, "v");
  RedisConnection third = connect(server);
  third = std::move(second);
  EXPECT_EQ(third.command({"GET", "k"}).str, "v");
  EXPECT_EQ(third.url().port, server.port());
}

// ---- Authentication --------------------------------------------------------

TEST(RedisAuthTest, PasswordAndUsername) {
  RedisServer server({.password = "s3cret"});
  const std::string port = std::to_string(server.port());
  RedisConnection plain(RedisUrl::parse("redis://:s3cret@127.0.0.1:" + port));
  EXPECT_EQ(plain.command({"PING"}).str, "PONG");
  RedisConnection named(RedisUrl::parse("redis://default:s3cret@127.0.0.1:" + port + "/2"));
  EXPECT_EQ(named.command({"PING"}).str, "PONG");
}

TEST(RedisAuthTest, WrongOrMissingPasswordIsAResponseError) {
  RedisServer server({.password = "s3cret"});
  const std::string port = std::to_string(server.port());
  const ConnectOptions quick{.connect_timeout = 300ms};
  try {
    RedisConnection wrong(RedisUrl::parse("redis://:nope@127.0.0.1:" + port), quick);
    FAIL() << "a wrong password was accepted";
  } catch (const RedisResponseError& e) {
    EXPECT_NE(std::string(e.what()).find("WRONGPASS"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("nope"), std::string::npos) << e.what();
  }
  EXPECT_THROW(RedisConnection(RedisUrl::parse("redis://127.0.0.1:" + port), quick), RedisResponseError);
}

// ---- Failures ---------------------------------------------------------------

TEST(RedisFailureTest, UnreachableServerFailsWithinConnectTimeout) {
  const RefusingPort refusing;
  const int port = refusing.port();
  const auto start = Clock::now();
  try {
    RedisConnection redis(RedisUrl::parse("redis://127.0.0.1:" + std::to_string(port)), {.connect_timeout = 300ms});
    FAIL() << "connected to a closed port";
  } catch (const RedisConnectionError& e) {
    const auto took = Clock::now() - start;
    EXPECT_GE(took, 300ms);
    EXPECT_LT(took, 3s);
    const std::string what = e.what();
    EXPECT_NE(what.find("Redis at 127.0.0.1:" + std::to_string(port) + " unreachable for 0."), std::string::npos)
        << what;
    EXPECT_NE(what.find("refused"), std::string::npos) << what;
  }
}

TEST(RedisFailureTest, KilledServerBreaksOneCommandThenReconnects) {
  RedisServer server({.aof = true});
  RedisConnection redis = connect(server, {.connect_timeout = 5s});
  redis.command({"SET", "k", "kept"});
  server.kill();
  server.start();
  EXPECT_THROW(redis.command({"GET", "k"}), RedisConnectionError);
  EXPECT_FALSE(redis.connected());
  EXPECT_EQ(redis.command({"GET", "k"}).str, "kept");
  EXPECT_TRUE(redis.connected());
}

TEST(RedisFailureTest, BrokenCommandNamesTheServer) {
  RedisServer server;
  RedisConnection redis = connect(server, {.connect_timeout = 200ms});
  server.kill();
  try {
    redis.command({"PING"});
    FAIL() << "a command to a killed server succeeded";
  } catch (const RedisConnectionError& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(server.port())), std::string::npos)
        << e.what();
  }
  // With the server still down, the next command fails to reconnect.
  EXPECT_THROW(redis.command({"PING"}), RedisConnectionError);
  EXPECT_THROW(redis.pipeline(std::vector<Command>{{"PING"}}), RedisConnectionError);
}

TEST(RedisFailureTest, ServerThatStopsAnsweringTimesOut) {
  RedisServer server;
  RedisConnection redis = connect(server, {.connect_timeout = 5s, .io_timeout = 200ms});
  ASSERT_EQ(::kill(server.pid(), SIGSTOP), 0);
  const auto start = Clock::now();
  try {
    redis.command({"PING"});
    FAIL() << "a stopped server answered";
  } catch (const RedisConnectionError& e) {
    EXPECT_NE(std::string(e.what()).find("no answer within 0.2 s"), std::string::npos) << e.what();
  }
  EXPECT_GE(Clock::now() - start, 200ms);
  ASSERT_EQ(::kill(server.pid(), SIGCONT), 0);
  EXPECT_EQ(redis.command({"PING"}).str, "PONG");
}

TEST(RedisFailureTest, WithReconnectWaitsForTheServerToComeBack) {
  RedisServer server({.aof = true});
  RedisConnection redis = connect(server, {.connect_timeout = 10s});
  redis.command({"SET", "k", "v"});
  server.kill();

  Event first_attempt_failed;
  std::thread restarter([&] {
    ASSERT_TRUE(first_attempt_failed.wait(30s));
    server.start();
  });
  int attempts = 0;
  const Reply reply = with_reconnect(redis, [&](RedisConnection& connection) {
    ++attempts;
    try {
      return connection.command({"GET", "k"});
    } catch (const RedisConnectionError&) {
      first_attempt_failed.set();
      throw;
    }
  });
  restarter.join();
  EXPECT_EQ(reply.str, "v");
  EXPECT_EQ(attempts, 2);
}

TEST(RedisFailureTest, WithReconnectGivesUpAfterConnectTimeout) {
  RedisServer server;
  RedisConnection redis = connect(server, {.connect_timeout = 200ms});
  server.kill();
  int attempts = 0;
  EXPECT_THROW(with_reconnect(redis,
                              [&](RedisConnection& connection) {
                                ++attempts;
                                return connection.command({"PING"});
                              }),
               RedisConnectionError);
  EXPECT_EQ(attempts, 1);
}

// ---- Blocking commands -----------------------------------------------------

TEST(RedisBlockingTest, BlpopTimesOutWithNil) {
  RedisServer server;
  // A socket timeout shorter than BLPOP's own: blocking_command stretches it.
  RedisConnection redis = connect(server, {.connect_timeout = 5s, .io_timeout = 300ms});
  const auto start = Clock::now();
  const Reply reply = redis.blocking_command({"BLPOP", "empty", "1"}, 1000ms);
  const auto took = Clock::now() - start;
  EXPECT_TRUE(reply.is_nil());
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 5s);
  EXPECT_TRUE(redis.connected());
  // And the short timeout is back for ordinary commands.
  ASSERT_EQ(::kill(server.pid(), SIGSTOP), 0);
  EXPECT_THROW(redis.command({"PING"}), RedisConnectionError);
  ASSERT_EQ(::kill(server.pid(), SIGCONT), 0);
}

TEST(RedisBlockingTest, BlpopWokenByAnotherConnection) {
  RedisServer server;
  RedisConnection waiter = connect(server);
  RedisConnection pusher = connect(server);
  Reply popped;
  std::thread blocked([&] { popped = waiter.blocking_command({"BLPOP", "jobs", "30"}, 30s); });
  // Push once the server reports the waiter blocked.
  const auto deadline = Clock::now() + 30s;
  while (pusher.command({"INFO", "clients"}).str.find("blocked_clients:1") == std::string::npos) {
    ASSERT_LT(Clock::now(), deadline) << "BLPOP never blocked";
  }
  pusher.command({"RPUSH", "jobs", "job-1"});
  blocked.join();
  ASSERT_EQ(popped.type, Reply::Type::array);
  ASSERT_EQ(popped.elements.size(), 2u);
  EXPECT_EQ(popped.elements[0].str, "jobs");
  EXPECT_EQ(popped.elements[1].str, "job-1");
}

TEST(RedisBlockingTest, BlockingCommandErrorKeepsTheConnection) {
  RedisServer server;
  RedisConnection redis = connect(server, {.connect_timeout = 5s, .io_timeout = 300ms});
  redis.command({"SET", "s", "x"});
  EXPECT_THROW(redis.blocking_command({"BLPOP", "s", "1"}, 1000ms), RedisResponseError);
  EXPECT_TRUE(redis.connected());
  EXPECT_EQ(redis.command({"GET", "s"}).str, "x");
}

// ---- Replies the server sends unasked ----------------------------------------

TEST(RedisSubscribeTest, ReadReplyReturnsAPublishedMessage) {
  RedisServer server;
  RedisConnection subscriber = connect(server);
  RedisConnection publisher = connect(server);
  const Reply subscribed = subscriber.command({"SUBSCRIBE", "news"});
  ASSERT_EQ(subscribed.elements.size(), 3u);
  EXPECT_EQ(subscribed.elements[0].str, "subscribe");
  EXPECT_EQ(publisher.command({"PUBLISH", "news", "one"}).integer, 1);
  EXPECT_EQ(publisher.command({"PUBLISH", "news", "two"}).integer, 1);
  for (const char* expected : {"one", "two"}) {
    const std::optional<Reply> message = subscriber.read_reply(10s);
    ASSERT_TRUE(message.has_value());
    ASSERT_EQ(message->elements.size(), 3u);
    EXPECT_EQ(message->elements[0].str, "message");
    EXPECT_EQ(message->elements[1].str, "news");
    EXPECT_EQ(message->elements[2].str, expected);
  }
}

TEST(RedisSubscribeTest, ReadReplyTimesOutAndStaysUsable) {
  RedisServer server;
  RedisConnection subscriber = connect(server);
  subscriber.command({"SUBSCRIBE", "quiet"});
  const auto start = Clock::now();
  EXPECT_FALSE(subscriber.read_reply(100ms).has_value());
  EXPECT_GE(Clock::now() - start, 100ms);
  EXPECT_TRUE(subscriber.connected());
  connect(server).command({"PUBLISH", "quiet", "late"});
  const std::optional<Reply> message = subscriber.read_reply(10s);
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->elements[2].str, "late");
}

TEST(RedisSubscribeTest, ReadReplyDoesNotReconnect) {
  RedisServer server;
  RedisConnection subscriber = connect(server, {.connect_timeout = 200ms});
  subscriber.command({"SUBSCRIBE", "news"});
  server.kill();
  EXPECT_THROW(subscriber.read_reply(10s), RedisConnectionError);
  EXPECT_FALSE(subscriber.connected());
  EXPECT_THROW(subscriber.read_reply(10s), RedisConnectionError);
}

// ---- The fixture itself ----------------------------------------------------

TEST(RedisServerTest, StopAndStartKeepTheAppendOnlyFile) {
  RedisServer server({.aof = true});
  const int port = server.port();
  {
    RedisConnection redis = connect(server);
    redis.command({"SET", "k", "v"});
  }
  server.stop();
  EXPECT_FALSE(server.running());
  EXPECT_EQ(server.pid(), 0);
  server.start();
  EXPECT_TRUE(server.running());
  EXPECT_EQ(server.port(), port);
  EXPECT_EQ(connect(server).command({"GET", "k"}).str, "v");
}

TEST(RedisServerTest, ServerStartedFromAnEndedThreadKeepsRunning) {
  RedisServer server;
  server.kill();
  std::thread([&] { server.start(); }).join();
  EXPECT_TRUE(server.running());
  EXPECT_EQ(connect(server).command({"PING"}).str, "PONG");
}

}  // namespace
}  // namespace weft::dist
