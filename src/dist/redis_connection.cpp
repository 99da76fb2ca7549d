// RedisConnection on hiredis: a blocking socket, commands framed here and
// written with MSG_NOSIGNAL (hiredis writes with write(), which raises
// SIGPIPE on a connection the server has closed), replies read by hiredis.
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "weft/detail/deadline.hpp"
#include "weft/dist/redis.hpp"
#include "weft/errors.hpp"

namespace weft::dist {
namespace {

using detail::Clock;
using std::chrono::milliseconds;

constexpr milliseconds first_backoff{50};
constexpr milliseconds longest_backoff{1000};

std::string endpoint(const RedisUrl& url) {
  const bool ipv6 = url.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
}

std::string seconds_text(Clock::duration duration) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f s", std::chrono::duration<double>(duration).count());
  return text;
}

timeval to_timeval(milliseconds duration) {
  const auto ms = std::max<milliseconds::rep>(duration.count(), 0);
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000 * 1000)};
}

// RESP: *<count>\r\n then $<length>\r\n<bytes>\r\n per word.
template <class Words>
void append_command(std::string& out, const Words& words) {
  out += '*';
  out += std::to_string(std::size(words));
  out += "\r\n";
  for (const auto& word : words) {
    const std::string_view bytes(word);
    out += '$';
    out += std::to_string(bytes.size());
    out += "\r\n";
    out.append(bytes);
    out += "\r\n";
  }
}

Reply to_reply(const redisReply& raw) {
  Reply reply;
  switch (raw.type) {
    case REDIS_REPLY_INTEGER:
      reply.type = Reply::Type::integer;
      reply.integer = raw.integer;
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      reply.type = raw.type == REDIS_REPLY_STRING   ? Reply::Type::string
                   : raw.type == REDIS_REPLY_STATUS ? Reply::Type::status
                                                    : Reply::Type::error;
      reply.str.assign(raw.str, raw.len);
      break;
    case REDIS_REPLY_ARRAY:
      reply.type = Reply::Type::array;
      reply.elements.reserve(raw.elements);
      for (std::size_t i = 0; i < raw.elements; ++i) reply.elements.push_back(to_reply(*raw.element[i]));
      break;
    default:
      reply.type = Reply::Type::nil;
      break;
  }
  return reply;
}

[[noreturn]] void connection_lost(const RedisUrl& url, const std::string& cause) {
  throw RedisConnectionError("Redis at " + endpoint(url) + ": connection lost: " + cause);
}

template <class Words>
std::string request_of(const Words& words) {
  std::string request;
  append_command(request, words);
  return request;
}

}  // namespace

// The hiredis context while connected. A failure drops the context and
// leaves its cause in `cause`.
struct RedisConnection::Context {
  redisContext* redis = nullptr;
  milliseconds socket_timeout{0};
  std::string cause;

  Context() = default;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  ~Context() { drop(); }

  bool connected() const noexcept { return redis != nullptr; }

  void drop() noexcept {
    if (redis != nullptr) redisFree(redis);
    redis = nullptr;
  }

  bool fail(std::string why) {
    cause = std::move(why);
    drop();
    return false;
  }

  // One connection attempt, given at most `limit` to connect; then the
  // handshake. False (with `cause`) if it may be tried again; throws
  // RedisResponseError if the server refuses the credentials or database.
  bool open(const RedisUrl& url, milliseconds limit, milliseconds io_timeout) {
    drop();
    redis = redisConnectWithTimeout(url.host.c_str(), url.port, to_timeval(std::max(limit, milliseconds{1})));
    if (redis == nullptr) return fail("out of memory");
    if (redis->err != 0) return fail(redis->errstr);
    if (redisEnableKeepAlive(redis) != REDIS_OK) return fail(redis->errstr);
    // hiredis opens its socket without SOCK_CLOEXEC: a program that starts
    // another (a worker) must not hand it this connection.
    if (::fcntl(redis->fd, F_SETFD, FD_CLOEXEC) != 0) return fail(std::strerror(errno));
    return set_timeout(io_timeout) && handshake(url);
  }

  // AUTH and SELECT as the URL says, then PING: a server still loading its
  // data answers LOADING, which is waited for like a refused connection.
  bool handshake(const RedisUrl& url) {
    std::string request;
    if (!url.username.empty()) {
      append_command(request, std::initializer_list<std::string_view>{"AUTH", url.username, url.password});
    } else if (!url.password.empty()) {
      append_command(request, std::initializer_list<std::string_view>{"AUTH", url.password});
    }
    if (url.db != 0) {
      append_command(request, std::initializer_list<std::string_view>{"SELECT", std::to_string(url.db)});
    }
    append_command(request, std::initializer_list<std::string_view>{"PING"});
    const std::size_t count = 1 + (url.username.empty() && url.password.empty() ? 0 : 1) + (url.db != 0 ? 1 : 0);
    std::optional<std::vector<Reply>> replies = exchange(request, count);
    if (!replies) return false;
    for (const Reply& reply : *replies) {
      if (!reply.is_error()) continue;
      if (reply.str.starts_with("LOADING")) return fail("the server is loading its data");
      drop();
      throw RedisResponseError(reply.str);
    }
    return true;
  }

  bool set_timeout(milliseconds timeout) {
    if (redisSetTimeout(redis, to_timeval(timeout)) != REDIS_OK) return fail(redis->errstr);
    socket_timeout = timeout;
    return true;
  }

  // Sends `request` and reads `count` replies; nothing if the connection
  // broke on the way. A server that refuses a command as a protocol error
  // closes the connection, maybe before it read the rest of the request:
  // the replies end with that error, and the connection is dropped.
  std::optional<std::vector<Reply>> exchange(std::string_view request, std::size_t count) {
    if (!send(request) && !connected()) return std::nullopt;
    std::vector<Reply> replies;
    replies.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      std::optional<Reply> reply = receive();
      if (!reply) return std::nullopt;
      replies.push_back(std::move(*reply));
      if (replies.back().is_protocol_error()) {
        fail(replies.back().str);
        break;
      }
    }
    return replies;
  }

  // One command's reply; throws RedisConnectionError or, for an error
  // reply, RedisResponseError.
  Reply command(const RedisUrl& url, std::string_view request) {
    std::optional<std::vector<Reply>> replies = exchange(request, 1);
    if (!replies) connection_lost(url, cause);
    Reply& reply = replies->front();
    if (reply.is_error()) throw RedisResponseError(reply.str);
    return std::move(reply);
  }

  // False if not all of `bytes` went out. The connection stays open (with
  // `cause`) when the server closed it: the replies it sent before are
  // still to be read.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t sent = ::send(redis->fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent < 0) {
        if (errno == EINTR) continue;
        const int error = errno;
        if (error == EPIPE || error == ECONNRESET) {
          cause = std::strerror(error);
          return false;
        }
        return fail(error == EAGAIN || error == EWOULDBLOCK ? timed_out() : std::strerror(error));
      }
      bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
    return true;
  }

  std::optional<Reply> receive() {
    void* raw = nullptr;
    if (redisGetReply(redis, &raw) != REDIS_OK || raw == nullptr) {
      const int error = errno;
      const bool timeout = redis->err == REDIS_ERR_IO && (error == EAGAIN || error == EWOULDBLOCK);
      fail(timeout ? timed_out() : std::string(redis->errstr));
      return std::nullopt;
    }
    Reply reply = to_reply(*static_cast<redisReply*>(raw));
    freeReplyObject(raw);
    return reply;
  }

  std::string timed_out() const { return "no answer within " + seconds_text(socket_timeout); }
};

RedisConnection::RedisConnection(RedisUrl url, ConnectOptions options)
    : url_(std::move(url)), options_(options), context_(std::make_unique<Context>()) {
  if (options_.connect_timeout < milliseconds::zero()) throw ValueError("a Redis connect_timeout cannot be negative");
  if (options_.io_timeout <= milliseconds::zero()) throw ValueError("a Redis io_timeout must be positive");
  reconnect();
}

RedisConnection::RedisConnection(RedisConnection&&) noexcept = default;
RedisConnection& RedisConnection::operator=(RedisConnection&&) noexcept = default;
RedisConnection::~RedisConnection() = default;

bool RedisConnection::connected() const noexcept { return context_ && context_->connected(); }

void RedisConnection::ensure_connected() {
  if (!connected()) reconnect();
}

void RedisConnection::reconnect() {
  if (!context_) context_ = std::make_unique<Context>();
  const auto start = Clock::now();
  const auto deadline = start + options_.connect_timeout;
  milliseconds backoff = first_backoff;
  for (;;) {
    const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now());
    if (context_->open(url_, left, options_.io_timeout)) return;
    const auto now = Clock::now();
    if (now >= deadline) {
      throw RedisConnectionError("Redis at " + endpoint(url_) + " unreachable for " + seconds_text(now - start) +
                                 ": " + context_->cause);
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(backoff, deadline - now));
    backoff = std::min(backoff * 2, longest_backoff);
  }
}

Reply RedisConnection::command(std::initializer_list<std::string_view> words) {
  return command(std::span<const std::string_view>(words.begin(), words.size()));
}

Reply RedisConnection::command(std::span<const std::string_view> words) {
  ensure_connected();
  return context_->command(url_, request_of(words));
}

Reply RedisConnection::command(const Command& words) {
  ensure_connected();
  return context_->command(url_, request_of(words));
}

Reply RedisConnection::blocking_command(const Command& words, milliseconds blocks_for) {
  ensure_connected();
  if (!context_->set_timeout(blocks_for + options_.io_timeout)) connection_lost(url_, context_->cause);
  // Back to io_timeout however the command ends; a connection that cannot
  // take it back is dropped, and the next command reconnects.
  struct RestoreTimeout {
    Context& context;
    milliseconds timeout;
    ~RestoreTimeout() {
      if (context.connected()) context.set_timeout(timeout);
    }
  } restore{*context_, options_.io_timeout};
  return context_->command(url_, request_of(words));
}

std::vector<Reply> RedisConnection::pipeline(std::span<const Command> commands) {
  if (commands.empty()) return {};
  std::string request;
  for (const Command& words : commands) append_command(request, words);
  ensure_connected();
  std::optional<std::vector<Reply>> replies = context_->exchange(request, commands.size());
  if (!replies) connection_lost(url_, context_->cause);
  return std::move(*replies);
}

std::optional<Reply> RedisConnection::read_reply(milliseconds timeout) {
  if (!connected()) connection_lost(url_, context_ && !context_->cause.empty() ? context_->cause : "not connected");
  redisContext* redis = context_->redis;
  void* raw = nullptr;
  // A reply read along with an earlier one waits in hiredis's buffer.
  if (redisGetReplyFromReader(redis, &raw) != REDIS_OK) {
    context_->fail(redis->errstr);
    connection_lost(url_, context_->cause);
  }
  if (raw != nullptr) {
    Reply reply = to_reply(*static_cast<redisReply*>(raw));
    freeReplyObject(raw);
    return reply;
  }
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto left = std::clamp(std::chrono::ceil<milliseconds>(deadline - Clock::now()), milliseconds{0},
                                 milliseconds{std::numeric_limits<int>::max()});
    pollfd readable{redis->fd, POLLIN, 0};
    const int ready = ::poll(&readable, 1, static_cast<int>(left.count()));
    if (ready > 0) break;
    if (ready == 0) return std::nullopt;
    if (errno != EINTR) {
      context_->fail(std::strerror(errno));
      connection_lost(url_, context_->cause);
    }
  }
  std::optional<Reply> reply = context_->receive();
  if (!reply) connection_lost(url_, context_->cause);
  return reply;
}

}  // namespace weft::dist
