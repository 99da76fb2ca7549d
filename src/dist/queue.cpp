// dist::Queue's untyped core: put, get, task_done and join as Lua scripts
// and blocking commands on a Redis list and its counters (the layout is in
// include/weft/dist/detail/wire.hpp).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "queue_connections.hpp"
#include "queue_scripts.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/dist/detail/wire.hpp"
#include "weft/dist/queue.hpp"
#include "weft/errors.hpp"

namespace weft::dist::detail {
namespace {

using weft::detail::Clock;
using weft::detail::Deadline;

// The longest a blocking command waits in Redis before it is renewed, so
// that a caller waiting forever still notices a server that went away.
constexpr std::chrono::milliseconds longest_block{2000};

Deadline deadline_of(bool block, std::optional<std::chrono::nanoseconds> timeout) {
  if (!block) return Clock::now();
  if (!timeout) return std::nullopt;
  return weft::detail::deadline_after(*timeout);
}

// How long the next blocking command may wait: what is left of the
// deadline, at most longest_block; zero once the deadline has passed.
std::chrono::milliseconds next_block(const Deadline& deadline) {
  if (!deadline) return longest_block;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
  return std::clamp(left, std::chrono::milliseconds::zero(), longest_block);
}

// A blocking command's timeout as Redis takes it: seconds, with decimals.
std::string seconds(std::chrono::milliseconds wait) {
  char text[32];
  std::snprintf(text, sizeof text, "%lld.%03lld", static_cast<long long>(wait.count() / 1000),
                static_cast<long long>(wait.count() % 1000));
  return text;
}

long long integer_of(const Reply& reply) {
  if (reply.type == Reply::Type::integer) return reply.integer;
  if (reply.is_nil()) return 0;
  if (reply.type == Reply::Type::string) {
    try {
      return std::stoll(reply.str);
    } catch (const std::exception&) {
    }
  }
  throw RedisResponseError("expected an integer from Redis, got \"" + reply.str + "\"");
}

}  // namespace

struct QueueCore::State {
  State(RedisUrl url, ConnectOptions options, std::string_view name)
      : connections(std::move(url), options),
        items(key(name, "items")),
        unfinished(key(name, "unfinished")),
        space(key(name, "space")),
        joined(key(name, "joined")) {}

  ConnectionPool connections;
  QueueScripts scripts;
  const std::string items;
  const std::string unfinished;
  const std::string space;
  const std::string joined;
};

QueueCore::QueueCore(std::string_view redis_url, std::string name, std::size_t maxsize, ConnectOptions options)
    : name_(std::move(name)), maxsize_(maxsize) {
  check_queue_name(name_);
  state_ = std::make_unique<State>(RedisUrl::parse(redis_url), options, name_);
  auto connection = state_->connections.take();
  with_reconnect(*connection, [&](RedisConnection& c) { state_->scripts.load(c); });
}

QueueCore::~QueueCore() = default;

bool QueueCore::put(std::string item, bool block, std::optional<std::chrono::nanoseconds> timeout) {
  const Deadline deadline = deadline_of(block, timeout);
  const std::string maxsize = std::to_string(maxsize_);
  auto connection = state_->connections.take();
  for (;;) {
    const Reply appended = with_reconnect(*connection, [&](RedisConnection& c) {
      return state_->scripts.put.run(c, {state_->items, state_->unfinished, state_->space}, {item, maxsize});
    });
    if (integer_of(appended) == 1) return true;
    const auto wait = next_block(deadline);
    if (wait == wait.zero()) return false;
    // Woken by a get() anywhere that frees a slot; the script decides again.
    with_reconnect(*connection, [&](RedisConnection& c) {
      return c.blocking_command({"BLPOP", state_->space, seconds(wait)}, wait);
    });
  }
}

std::optional<std::string> QueueCore::get(bool block, std::optional<std::chrono::nanoseconds> timeout) {
  const Deadline deadline = deadline_of(block, timeout);
  const std::string maxsize = std::to_string(maxsize_);
  auto connection = state_->connections.take();
  for (;;) {
    const auto wait = next_block(deadline);
    if (wait == wait.zero()) {
      Reply item = with_reconnect(*connection, [&](RedisConnection& c) {
        return state_->scripts.get.run(c, {state_->items, state_->space}, {maxsize});
      });
      if (item.is_nil()) return std::nullopt;
      return std::move(item.str);
    }
    Reply popped = with_reconnect(*connection, [&](RedisConnection& c) {
      return c.blocking_command({"BLPOP", state_->items, seconds(wait)}, wait);
    });
    if (popped.is_nil()) continue;
    if (popped.elements.size() != 2)
      throw RedisResponseError("BLPOP answered with " + std::to_string(popped.elements.size()) + " elements, not 2");
    std::string item = std::move(popped.elements[1].str);
    if (maxsize_ > 0) {
      try {
        state_->scripts.free_slot.run(*connection, {state_->items, state_->space}, {maxsize});
      } catch (const RedisError&) {
        // The token only wakes a blocked put(), which also looks again after
        // longest_block; the item is this caller's already.
      }
    }
    return item;
  }
}

void QueueCore::task_done() {
  auto connection = state_->connections.take();
  const Reply left = with_reconnect(*connection, [&](RedisConnection& c) {
    return state_->scripts.task_done.run(c, {state_->unfinished}, {state_->joined});
  });
  if (integer_of(left) < 0) throw ValueError("task_done() called too many times");
}

bool QueueCore::join(std::optional<std::chrono::nanoseconds> timeout) {
  const Deadline deadline = deadline_of(true, timeout);
  auto connection = state_->connections.take();
  auto finished = [&] {
    const Reply unfinished = with_reconnect(*connection, [&](RedisConnection& c) {
      return c.command({"GET", state_->unfinished});
    });
    return integer_of(unfinished) <= 0;
  };
  if (finished()) return true;
  // A subscribed connection takes no other command: it is closed afterwards.
  auto subscriber = state_->connections.take();
  subscriber.discard();
  auto subscribe = [&](RedisConnection& c) { return c.command({"SUBSCRIBE", state_->joined}); };
  with_reconnect(*subscriber, subscribe);
  // Each look follows the subscription, so that the last task_done()
  // cannot slip between a look and the wait.
  while (!finished()) {
    const auto wait = next_block(deadline);
    if (wait == wait.zero()) return false;
    try {
      subscriber->read_reply(wait);
    } catch (const RedisConnectionError&) {
      with_reconnect(*subscriber, subscribe);
    }
  }
  return true;
}

std::size_t QueueCore::qsize() {
  auto connection = state_->connections.take();
  const Reply length = with_reconnect(*connection, [&](RedisConnection& c) {
    return c.command({"LLEN", state_->items});
  });
  return static_cast<std::size_t>(std::max(0LL, integer_of(length)));
}

void QueueCore::destroy() {
  auto connection = state_->connections.take();
  const Command remove{"DEL", state_->items, state_->unfinished, state_->space};
  const Command wake_joiners{"PUBLISH", state_->joined, "0"};
  with_reconnect(*connection, [&](RedisConnection& c) {
    c.command(remove);
    return c.command(wake_joiners);
  });
}

}  // namespace weft::dist::detail
