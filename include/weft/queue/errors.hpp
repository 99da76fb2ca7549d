// weft/queue/errors.hpp — the exceptions of Python's `queue` module.
#pragma once

#include <stdexcept>

namespace weft {

// A non-blocking or timed get() found the queue empty. Python's queue.Empty.
class Empty : public std::runtime_error {
 public:
  Empty() : std::runtime_error("queue is empty") {}
};

// A non-blocking or timed put() found the queue full. Python's queue.Full.
class Full : public std::runtime_error {
 public:
  Full() : std::runtime_error("queue is full") {}
};

// put() on a queue that was shut down, or get() on one that was shut down
// and is empty. Python 3.13's queue.ShutDown.
class ShutDown : public std::runtime_error {
 public:
  ShutDown() : std::runtime_error("queue is shut down") {}
};

}  // namespace weft
