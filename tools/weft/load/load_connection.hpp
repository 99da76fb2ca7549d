// tools/weft/load/load_connection.hpp — one client connection of a load run:
// its socket, the request it sends over and over, the response it expects
// back, how far it has got writing requests and reading responses, and the
// send times of the requests still in flight (a FIFO ring of `pipeline`
// slots: a response always answers the oldest outstanding request).
//
// Owned and touched by exactly one client thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace weft::tool {

struct LoadConnection {
  int fd = -1;
  int id = 0;

  std::string payload;              // echo: this connection's random request bytes
  const char* request = nullptr;    // the bytes of one request
  std::size_t request_size = 0;
  const char* expected = nullptr;   // the bytes of one response
  std::size_t response_size = 0;

  std::size_t in_offset = 0;   // bytes of the current response already read
  int queued = 0;              // requests not yet completely written
  std::uint64_t measured = 0;  // responses completed in the measured window
  std::size_t out_offset = 0;  // bytes of the first queued request already written

  bool alive() const noexcept { return fd >= 0; }

  void reset_ring(int capacity) {
    sent_.assign(static_cast<std::size_t>(capacity), 0);
    head_ = 0;
    in_flight_ = 0;
  }
  std::size_t in_flight() const noexcept { return in_flight_; }

  // Notes a request sent (or queued to be sent) at `now_ns`. The caller
  // never has more than `capacity` requests in flight.
  void push_sent(std::uint64_t now_ns) noexcept {
    std::size_t slot = head_ + in_flight_;
    if (slot >= sent_.size()) slot -= sent_.size();
    sent_[slot] = now_ns;
    ++in_flight_;
  }
  // The send time of the oldest request in flight (in_flight() > 0).
  std::uint64_t oldest_sent() const noexcept { return sent_[head_]; }
  // The send time of the oldest request in flight, which is now answered.
  std::uint64_t pop_sent() noexcept {
    const std::uint64_t at = sent_[head_];
    if (++head_ == sent_.size()) head_ = 0;
    --in_flight_;
    return at;
  }

 private:
  std::vector<std::uint64_t> sent_;
  std::size_t head_ = 0;
  std::size_t in_flight_ = 0;
};

}  // namespace weft::tool
