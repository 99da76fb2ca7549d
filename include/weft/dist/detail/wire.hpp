// weft/dist/detail/wire.hpp — how weft::dist lays its state out in Redis.
// Every key of a queue NAME starts with "weft:{NAME}:" (the braces make
// one Redis Cluster hash slot of a queue's keys).
//
// Executor (a Redis Stream per queue, one consumer group of workers):
//   weft:{NAME}:tasks      stream of tasks; group "workers". Entry fields:
//       id       the task's id: unique within its reply stream
//       fn       the registered function's name
//       sig      the function type's signature hash, decimal
//       args     the encoded argument tuple (MessagePack)
//       reply    the key of the stream its result goes to
//       retries  deliveries allowed after the first, decimal
//       timeout  the time limit in milliseconds, decimal; 0 for none
//   weft:{NAME}:results:EXECUTOR   one stream per Executor. Entry fields:
//       id       the task's id
//       outcome  mp::detail::Outcome as a decimal digit: 0 value, 1 error
//                (payload is an encoded [type, message] exception)
//       payload  the encoded result or exception
//     An entry with id "" and no other field is the executor's own
//     wake-up at shutdown. Each answer sets the stream to expire
//     results_ttl later: the executor deletes its stream at shutdown, and
//     one left by an executor that died, or made again by a late answer,
//     goes away by itself.
//   weft:{NAME}:dead       the dead-letter stream: a dead task's fields as
//       they were, plus "reason" (text) and "consumer" (who gave up).
// A worker answers a task with one MULTI/EXEC: XADD to the reply stream,
// XACK and XDEL of the task. A worker that dies before EXEC leaves the
// entry pending; after the visibility timeout another worker claims it
// (XAUTOCLAIM) and runs it again (at-least-once); the executor completes a
// future from the first result for its id and ignores the others.
//
// Queue (a list plus counters):
//   weft:{NAME}:items      list: RPUSH to put, LPOP/BLPOP to get
//   weft:{NAME}:unfinished counter: +1 per put, -1 per task_done
//   weft:{NAME}:space      list of wake-up tokens for blocked putters
//   weft:{NAME}:joined     pub/sub channel: published when unfinished hits 0
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace weft::dist::detail {

inline constexpr std::string_view workers_group = "workers";
inline constexpr std::chrono::milliseconds results_ttl = std::chrono::hours(24);

inline std::string key(std::string_view queue, std::string_view part) {
  std::string k;
  k.reserve(queue.size() + part.size() + 8);
  k.append("weft:{").append(queue).append("}:").append(part);
  return k;
}

inline std::string tasks_key(std::string_view queue) { return key(queue, "tasks"); }
inline std::string dead_key(std::string_view queue) { return key(queue, "dead"); }
inline std::string results_key(std::string_view queue, std::string_view executor) {
  return key(queue, std::string("results:").append(executor));
}

// Throws ValueError unless `name` is a usable queue name: 1 to 200
// characters, none of them '{', '}' or a control character.
void check_queue_name(std::string_view name);

}  // namespace weft::dist::detail
