// Helpers for the stream tests: a fixture that runs each test on both IO
// backends and checks that no coroutine frame and no file descriptor
// outlives it, connected stream ends on loopback, and loop turns.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstddef>
#include <string>
#include <utility>

#include "io/io_support.hpp"
#include "weft/aio/streams.hpp"
#include "weft/asyncio.hpp"
#include "weft/net.hpp"

namespace weft::test {

class StreamTest : public ::testing::TestWithParam<io::Backend> {
 protected:
  void SetUp() override {
    frames_at_start_ = aio::detail::live_frames();
    fds_at_start_ = open_fd_count();
  }
  void TearDown() override {
    EXPECT_EQ(aio::detail::live_frames(), frames_at_start_) << "coroutine frames leaked";
    EXPECT_EQ(open_fd_count(), fds_at_start_) << "file descriptors leaked";
  }
  template <class T>
  T run(aio::Task<T> coro) {
    return aio::run(std::move(coro), io::LoopOptions{.backend = GetParam()});
  }

 private:
  long frames_at_start_ = 0;
  int fds_at_start_ = 0;
};

inline std::string backend_name(const ::testing::TestParamInfo<io::Backend>& info) {
  return std::string(io::to_string(info.param));
}

#define WEFT_STREAM_TEST_SUITE(Suite) \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::Values(io::Backend::epoll, io::Backend::io_uring), backend_name)

// Both ends of a loopback TCP connection as streams: `near` from
// open_connection(host, port), `far` from the accepted socket.
struct StreamEnds {
  aio::StreamPair near;
  aio::StreamPair far;
};

// `near` as streams, the accepted end as a plain blocking socket, for peers
// that misbehave (reset, never read).
struct StreamAndSocket {
  aio::StreamPair near;
  net::Socket far;
};

inline aio::Task<StreamAndSocket> stream_and_socket(std::size_t limit = aio::kDefaultStreamLimit) {
  net::Socket listener = net::create_server(net::Address::ipv4("127.0.0.1", 0));
  aio::StreamPair near = co_await aio::open_connection("127.0.0.1", listener.getsockname().port(), limit);
  auto accepted = listener.accept();  // the handshake is done: it returns at once
  co_return StreamAndSocket{std::move(near), std::move(accepted.first)};
}

inline aio::Task<StreamEnds> stream_ends(std::size_t limit = aio::kDefaultStreamLimit) {
  StreamAndSocket ends = co_await stream_and_socket(limit);
  aio::StreamPair far = co_await aio::open_connection(std::move(ends.far), limit);
  co_return StreamEnds{std::move(ends.near), std::move(far)};
}

// Lets the loop turn n times (each sleep(0) waits for one IO poll).
inline aio::Task<void> turns(int n) {
  for (int i = 0; i < n; ++i) co_await aio::sleep(0);
}

// n bytes of a pattern that differs with `seed` and does not repeat soon.
inline std::string pattern(std::size_t n, unsigned seed) {
  std::string bytes(n, '\0');
  std::uint32_t state = seed * 2654435761u + 1;
  for (char& c : bytes) {
    state = state * 1664525u + 1013904223u;
    c = static_cast<char>(state >> 24);
  }
  return bytes;
}

// Fixed kernel buffers of 128 KiB (the kernel doubles them; no
// autotuning), so that a peer that does not read holds a writer back after
// well under a MiB instead of tens. Much smaller ones would make loopback
// TCP crawl: a window under one segment waits for the persist timer.
inline void limit_socket_buffers(int fd) {
  const int size = 128 * 1024;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

}  // namespace weft::test
