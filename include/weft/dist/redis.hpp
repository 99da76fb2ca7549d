// weft/dist/redis.hpp — the Redis client under weft::dist: a URL, a reply,
// and one blocking connection (hiredis) that reconnects with backoff.
//
//   dist::RedisConnection redis(dist::RedisUrl::parse("redis://127.0.0.1:6379/0"));
//   redis.command({"SET", "k", "v"});
//   dist::Reply r = redis.command({"GET", "k"});   // r.str == "v"
//
// Connecting retries with exponential backoff (50 ms doubling to 1 s)
// until ConnectOptions::connect_timeout has passed, then throws
// RedisConnectionError naming the server and the last cause. A command
// whose connection breaks (the server restarted, the socket timed out)
// throws RedisConnectionError; the next command reconnects first (with the
// same backoff). Whether a broken command took effect is unknown: retrying
// is the caller's decision (see with_reconnect).
//
// Thread-safety: a RedisConnection is used by one thread at a time; make
// one per thread. Commands block the calling thread for one round trip,
// or, for a blocking command (XREADGROUP BLOCK, BLPOP), up to its own
// timeout plus ConnectOptions::io_timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "weft/dist/errors.hpp"

namespace weft::dist {

// Where a Redis server is: redis://[[username]:password@]host[:port][/db].
// IPv6 hosts in brackets ("redis://[::1]:6380"). Defaults: 127.0.0.1,
// 6379, db 0, no authentication.
struct RedisUrl {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string username;
  std::string password;
  int db = 0;

  // Throws ValueError for anything that is not such a URL ("redis" scheme
  // only; the port in 1..65535; db a non-negative number).
  static RedisUrl parse(std::string_view url);
  // The URL back, with the password (if any) shown as "***".
  std::string str() const;
};

// One reply, as RESP2 carries it.
struct Reply {
  enum class Type : std::uint8_t { nil, integer, string, status, error, array };
  Type type = Type::nil;
  long long integer = 0;
  std::string str;  // string, status and error replies
  std::vector<Reply> elements;

  bool is_nil() const noexcept { return type == Type::nil; }
  bool is_error() const noexcept { return type == Type::error; }
  // Redis could not take the command (a value longer than its
  // proto-max-bulk-len, say) and closed the connection.
  bool is_protocol_error() const noexcept { return is_error() && str.starts_with("ERR Protocol error"); }
};

// A connection refuses (ValueError) a negative connect_timeout and an
// io_timeout that is not positive.
struct ConnectOptions {
  // How long (re)connecting keeps trying before RedisConnectionError; zero
  // makes one attempt.
  std::chrono::milliseconds connect_timeout{5000};
  // The socket's read/write timeout beyond a blocking command's own
  // timeout: a server that stops answering breaks the connection after it.
  std::chrono::milliseconds io_timeout{10000};
};

// A command's words: binary-safe.
using Command = std::vector<std::string>;

class RedisConnection {
 public:
  // Connects (AUTH and SELECT as the URL says, then a PING), retrying as
  // described at the top; a server still loading its data is waited for
  // like an unreachable one. Throws ValueError for bad `options` (see
  // ConnectOptions); RedisConnectionError; RedisResponseError when the
  // server refuses AUTH or SELECT, or wants a password the URL does not
  // give (NOAUTH).
  explicit RedisConnection(RedisUrl url, ConnectOptions options = {});
  RedisConnection(RedisConnection&&) noexcept;
  RedisConnection& operator=(RedisConnection&&) noexcept;
  ~RedisConnection();

  // Sends one command and waits for its reply. Throws RedisResponseError
  // for an error reply (for a protocol error too: the next command
  // reconnects), RedisConnectionError if the connection breaks (or cannot
  // be re-established first).
  Reply command(std::initializer_list<std::string_view> words);
  Reply command(std::span<const std::string_view> words);
  Reply command(const Command& words);

  // A blocking command whose server-side timeout is `blocks_for` (BLPOP's
  // timeout, XREADGROUP's BLOCK): the socket timeout is stretched to
  // blocks_for + io_timeout for this call. Throws as command().
  Reply blocking_command(const Command& words, std::chrono::milliseconds blocks_for);

  // Sends every command at once and reads every reply (one round trip).
  // Error replies are returned as Reply::Type::error, not thrown; throws
  // RedisConnectionError if the connection breaks (then none, some or all
  // of the commands took effect). A command Redis refuses as a protocol
  // error (Reply::is_protocol_error) ends the replies: the commands before
  // it took effect, it and those after did not, and the next command
  // reconnects.
  std::vector<Reply> pipeline(std::span<const Command> commands);

  // Waits at most `timeout` for a reply the server sends unasked (a
  // message on a channel this connection SUBSCRIBEd to) and returns it;
  // nullopt if none came by then (the connection stays usable). Does not
  // reconnect: throws RedisConnectionError if the connection is broken or
  // breaks.
  std::optional<Reply> read_reply(std::chrono::milliseconds timeout);

  // Drops the connection and connects again (with backoff). Throws as the
  // constructor.
  void reconnect();
  // False after a broken command until the next command reconnects.
  bool connected() const noexcept;
  const RedisUrl& url() const noexcept { return url_; }
  const ConnectOptions& options() const noexcept { return options_; }

 private:
  struct Context;
  void ensure_connected();
  RedisUrl url_;
  ConnectOptions options_;
  std::unique_ptr<Context> context_;
};

// Calls body(connection) and, if it throws RedisConnectionError, reconnects
// (with backoff) and calls it again, until it succeeds, reconnecting fails,
// or connect_timeout has passed since the first failure (a server that
// accepts connections and then drops them, say); the last error is thrown.
// For commands that are safe to repeat.
template <class Body>
auto with_reconnect(RedisConnection& connection, Body&& body) {
  std::optional<std::chrono::steady_clock::time_point> give_up;
  for (;;) {
    try {
      return body(connection);
    } catch (const RedisConnectionError&) {
      const auto now = std::chrono::steady_clock::now();
      if (!give_up) {
        give_up = now + connection.options().connect_timeout;
      } else if (now >= *give_up) {
        throw;
      }
      connection.reconnect();
    }
  }
}

}  // namespace weft::dist
