// weft/selectors/detail/checks.hpp — the argument checks and errors every
// selector shares, worded as Python's selectors module words them.
#pragma once

namespace weft::selectors::detail {

// Throws ValueError("Invalid events: N") unless `events` is a non-empty
// combination of EVENT_READ and EVENT_WRITE.
void check_events(int events);

// Throws ValueError("Invalid file descriptor: N") for a negative descriptor.
void check_fd(int fd);

// What a lookup of an unregistered file raises: ValueError for a negative
// descriptor, else KeyError("N is not registered").
[[noreturn]] void throw_not_registered(int fd);

// KeyError("N (FD N) is already registered").
[[noreturn]] void throw_already_registered(int fd);

// RuntimeError("Selector is closed").
[[noreturn]] void throw_closed();

}  // namespace weft::selectors::detail
