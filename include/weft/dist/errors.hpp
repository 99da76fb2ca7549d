// weft/dist/errors.hpp — the exceptions of weft::dist, the Redis-backed
// executor and queue. Named as redis-py and Celery name theirs where they
// have one.
#pragma once

#include <string>

#include "weft/errors.hpp"

namespace weft::dist {

// The base of every error that comes from talking to Redis.
class RedisError : public weft::RuntimeError {
 public:
  using weft::RuntimeError::RuntimeError;
};

// Redis cannot be reached, or the connection was lost and could not be
// re-established in time. what() names the server and the last cause, e.g.
// "Redis at 127.0.0.1:6379 unreachable for 5.0 s: Connection refused".
// redis-py's ConnectionError.
class RedisConnectionError : public RedisError {
 public:
  using RedisError::RedisError;
};

// Redis answered a command with an error reply ("WRONGTYPE ...", "NOAUTH
// ..."). what() is the reply's text. redis-py's ResponseError.
class RedisResponseError : public RedisError {
 public:
  using RedisError::RedisError;
};

// A task was moved to its queue's dead-letter stream instead of being run
// to the end: it was delivered more times than its retry limit allows (the
// workers that took it kept dying), it named a function no worker
// registered, or its entry was malformed. The task's future fails with it;
// what() says which.
class DeadLetterError : public RedisError {
 public:
  using RedisError::RedisError;
};

// A task ran longer than its time limit: the worker stopped it (its process
// exits and is replaced) and the future fails with this. Celery's
// TimeLimitExceeded.
class TaskTimeoutError : public weft::TimeoutError {
 public:
  using weft::TimeoutError::TimeoutError;
};

}  // namespace weft::dist
