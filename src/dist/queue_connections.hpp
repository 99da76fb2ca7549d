// The connections of one dist::Queue handle: each call takes an idle
// connection (or opens a new one) and gives it back when it returns, so
// that any number of threads can block in one handle at once.
#pragma once

#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "weft/dist/redis.hpp"

namespace weft::dist::detail {

class ConnectionPool {
 public:
  // One connection taken from the pool; it goes back when the lease ends.
  class Lease {
   public:
    Lease(ConnectionPool& pool, RedisConnection connection) noexcept
        : pool_(&pool), connection_(std::move(connection)) {}
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), connection_(std::move(other.connection_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease();

    RedisConnection& operator*() noexcept { return *connection_; }
    RedisConnection* operator->() noexcept { return &*connection_; }

    // Closes the connection when the lease ends instead of giving it back:
    // for a connection left in a state other commands cannot use (such as
    // subscribed to a channel).
    void discard() noexcept { pool_ = nullptr; }

   private:
    ConnectionPool* pool_;
    std::optional<RedisConnection> connection_;
  };

  // Opens no connection yet.
  ConnectionPool(RedisUrl url, ConnectOptions options);

  // An idle connection, or a new one. A connection that broke during its
  // last command comes back as it is: its next command reconnects. Throws
  // RedisConnectionError (RedisResponseError for a refused AUTH or SELECT)
  // when a new connection cannot be made. Thread-safe.
  Lease take();

 private:
  void give_back(RedisConnection connection) noexcept;

  const RedisUrl url_;
  const ConnectOptions options_;
  std::mutex mutex_;
  std::vector<RedisConnection> idle_;
};

}  // namespace weft::dist::detail
