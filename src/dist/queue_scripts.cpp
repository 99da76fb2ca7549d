// The Lua scripts of dist::Queue, and running a script by its SHA1.
#include "queue_scripts.hpp"

#include <string>
#include <vector>

namespace weft::dist::detail {
namespace {

// Frees one slot of a bounded queue (the body of free_slot; get's too).
constexpr std::string_view free_slot_lua =
    "if tonumber(ARGV[1]) > 0 then\n"
    "  redis.call('RPUSH', KEYS[2], '1')\n"
    "  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[1]) - 1)\n"
    "end\n";

// Redis does not undo a script that fails halfway: what can fail (a key of
// another type, a count that is not a number) fails before anything is
// written.
constexpr std::string_view put_lua =
    "local maxsize = tonumber(ARGV[2])\n"
    "local length = redis.call('LLEN', KEYS[1])\n"
    "if maxsize > 0 and length >= maxsize then\n"
    "  redis.call('DEL', KEYS[3])\n"
    "  return 0\n"
    "end\n"
    "redis.call('INCR', KEYS[2])\n"
    "redis.call('RPUSH', KEYS[1], ARGV[1])\n"
    "return 1\n";

constexpr std::string_view task_done_lua =
    "local left = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
    "if left <= 0 then return -1 end\n"
    "left = redis.call('DECR', KEYS[1])\n"
    "if left == 0 then redis.call('PUBLISH', ARGV[1], '0') end\n"
    "return left\n";

std::string get_lua() {
  std::string source = "local item = redis.call('LPOP', KEYS[1])\nif item then\n";
  source.append(free_slot_lua).append("end\nreturn item\n");
  return source;
}

}  // namespace

void LuaScript::load(RedisConnection& connection) {
  sha_ = connection.command({"SCRIPT", "LOAD", source_}).str;
}

Reply LuaScript::run(RedisConnection& connection, std::initializer_list<std::string_view> keys,
                     std::initializer_list<std::string_view> args) const {
  const std::string key_count = std::to_string(keys.size());
  std::vector<std::string_view> words{"EVALSHA", sha_, key_count};
  words.insert(words.end(), keys);
  words.insert(words.end(), args);
  try {
    return connection.command(std::span<const std::string_view>(words));
  } catch (const RedisResponseError& error) {
    if (!std::string_view(error.what()).starts_with("NOSCRIPT")) throw;
  }
  // The server forgot the script; EVAL runs it and caches it again.
  words[0] = "EVAL";
  words[1] = source_;
  return connection.command(std::span<const std::string_view>(words));
}

QueueScripts::QueueScripts()
    : put(std::string(put_lua)),
      get(get_lua()),
      free_slot(std::string(free_slot_lua)),
      task_done(std::string(task_done_lua)) {}

void QueueScripts::load(RedisConnection& connection) {
  for (LuaScript* script : {&put, &get, &free_slot, &task_done}) script->load(connection);
}

}  // namespace weft::dist::detail
