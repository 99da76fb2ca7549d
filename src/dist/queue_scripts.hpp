// The Lua scripts that make each operation of a dist::Queue atomic in
// Redis, and how they are run: EVALSHA, falling back to EVAL when the
// server has forgotten the script (it restarted, or SCRIPT FLUSH).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "weft/dist/redis.hpp"

namespace weft::dist::detail {

class LuaScript {
 public:
  explicit LuaScript(std::string source) : source_(std::move(source)) {}

  // SCRIPT LOAD: learns the script's SHA1. Throws as RedisConnection::command.
  void load(RedisConnection& connection);

  // Runs the script with its KEYS and ARGV; its reply. Throws as
  // RedisConnection::command (RedisResponseError for an error the script
  // raised). Thread-safe once loaded.
  Reply run(RedisConnection& connection, std::initializer_list<std::string_view> keys,
            std::initializer_list<std::string_view> args) const;

 private:
  std::string source_;
  std::string sha_;
};

// The queue's scripts. Their keys are named in include/weft/dist/detail/wire.hpp.
struct QueueScripts {
  // KEYS items, unfinished, space; ARGV item, maxsize. 1 if the item was
  // appended (and counted unfinished), 0 if the queue was full; a full
  // queue also drops the wake-up tokens left over on `space` (none is owed
  // while no slot is free), so that a put() about to block waits for the
  // next get().
  LuaScript put;
  // KEYS items, space; ARGV maxsize. Pops the first item (nil if none) and
  // frees its slot as free_slot does.
  LuaScript get;
  // KEYS items, space; ARGV maxsize. Frees the slot of an item taken with
  // BLPOP: when maxsize > 0, one wake-up token onto `space`, which keeps at
  // most maxsize of them.
  LuaScript free_slot;
  // KEYS unfinished; ARGV the joined channel. -1 (and no change) when
  // nothing is unfinished; otherwise the count after decrementing it,
  // publishing on the channel when that is 0.
  LuaScript task_done;

  QueueScripts();
  // Loads every script. Throws as RedisConnection::command.
  void load(RedisConnection& connection);
};

}  // namespace weft::dist::detail
