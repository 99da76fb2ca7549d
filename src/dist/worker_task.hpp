// A task as a worker reads it from the tasks stream: the entry's fields
// (weft/dist/detail/wire.hpp) checked and converted.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "stream_entries.hpp"

namespace weft::dist::detail {

struct TaskEntry {
  StreamEntry entry;
  std::string id;
  std::string fn;
  std::string args;
  std::string reply;
  std::uint64_t signature = 0;
  std::uint64_t retries = 0;
  std::chrono::milliseconds timeout{0};
  // Why the entry is not a task (fields missing or malformed), or empty.
  std::string malformed;
  // The executor can be told what became of the task: the entry has an id
  // and a reply stream of this queue.
  bool answerable = false;

  // "task fib (id 7)", for messages.
  std::string description() const;
};

// The task `entry` of `queue`'s tasks stream describes; never throws for
// a bad entry (see TaskEntry::malformed).
TaskEntry read_task(StreamEntry entry, std::string_view queue);

}  // namespace weft::dist::detail
