// How a worker ends a task, in one MULTI/EXEC each (see
// weft/dist/detail/wire.hpp): answered (the result to the executor's
// stream) or dead-lettered (the entry to the dead-letter stream, and a
// DeadLetterError to the executor when the entry says where), and in both
// cases acknowledged and deleted from the tasks stream.
//
// A transaction whose reply was lost is sent again after a reconnect
// (send_until_delivered, or the worker's own retry): a duplicate result is
// ignored by the executor, and acknowledging twice is harmless.
#pragma once

#include <exception>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "weft/dist/redis.hpp"
#include "weft/mp/detail/worker_pool.hpp"
#include "worker_task.hpp"

namespace weft::dist::detail {

// The payload of an error outcome: the encoded [type, message].
std::string encode_error(std::exception_ptr error) noexcept;

// MULTI, the result, PEXPIRE of the results stream, XACK, XDEL, EXEC.
std::vector<Command> answer_commands(std::string_view queue, const TaskEntry& task, mp::detail::Outcome outcome,
                                     std::string_view payload);

// MULTI, the dead letter, the DeadLetterError result (and PEXPIRE) if the
// task is answerable, XACK, XDEL, EXEC.
std::vector<Command> dead_letter_commands(std::string_view queue, std::string_view consumer, const TaskEntry& task,
                                          std::string_view reason);

// Pipelines `commands`, again after each reconnect until Redis answers;
// returns the replies. Throws RedisConnectionError when Redis stays
// unreachable longer than the connection's connect_timeout.
std::vector<Reply> send_until_delivered(RedisConnection& redis, std::span<const Command> commands);

}  // namespace weft::dist::detail
