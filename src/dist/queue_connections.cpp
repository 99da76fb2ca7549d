// The connection pool of a dist::Queue handle.
#include "queue_connections.hpp"

#include <utility>

namespace weft::dist::detail {

ConnectionPool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->give_back(std::move(*connection_));
}

ConnectionPool::ConnectionPool(RedisUrl url, ConnectOptions options)
    : url_(std::move(url)), options_(options) {}

ConnectionPool::Lease ConnectionPool::take() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      Lease lease(*this, std::move(idle_.back()));
      idle_.pop_back();
      return lease;
    }
  }
  return Lease(*this, RedisConnection(url_, options_));
}

void ConnectionPool::give_back(RedisConnection connection) noexcept {
  try {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(connection));
  } catch (...) {
    // Out of memory: the connection closes instead of waiting in the pool.
  }
}

}  // namespace weft::dist::detail
