// Reading Redis Stream replies: the entries of XREAD / XREADGROUP /
// XAUTOCLAIM as ids with their fields, and the workers' consumer group.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "weft/dist/redis.hpp"

namespace weft::dist::detail {

struct StreamEntry {
  std::string id;
  // Field-value pairs in order. Empty for an entry deleted meanwhile
  // (XAUTOCLAIM of Redis 6 reports those with nil fields).
  std::vector<std::pair<std::string, std::string>> fields;
  bool deleted = false;

  // The value of `name`, or nullptr.
  const std::string* field(std::string_view name) const noexcept;
};

// The entries of an array of [id, [field, value, ...]] (one stream of an
// XREAD reply, or XAUTOCLAIM's second element). Throws RedisResponseError
// for a reply of another shape.
std::vector<StreamEntry> parse_entries(const Reply& entries);

// The entries of the first stream of an XREAD / XREADGROUP reply (nil,
// when the block timed out: none).
std::vector<StreamEntry> parse_read_reply(const Reply& reply);

// XGROUP CREATE <tasks_key> workers 0 MKSTREAM; a group that exists
// already is fine. Group id 0: tasks added before the group existed are
// delivered too.
void create_workers_group(RedisConnection& connection, const std::string& tasks_key);

}  // namespace weft::dist::detail
