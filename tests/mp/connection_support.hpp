// Helpers of the Connection and Listener tests: child processes that are always reaped (Child, a
// forked function or a program with its standard output piped back), raw frames written past the
// Connection's own framing, and fixtures that catch descriptor leaks.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <weft/mp/detail/resource_sharer.hpp>
#include <weft/net.hpp>

#include "mp/child_process.hpp"
#include "net/net_support.hpp"
#include "threading/test_support.hpp"

namespace weft::test {

// The fixture of tests that lend descriptors (weft/mp/detail/resource_sharer.hpp): the first loan
// of the process opens the sharer's listening socket for good, so it lends one before the
// descriptor count of each test.
class LendingTest : public NetTest {
 protected:
  static void SetUpTestSuite() {
    auto [a, b] = net::socketpair();
    ::close(mp::detail::take_lent_fd(mp::detail::lend_fd(a.fileno())));
  }
};

// Writes all of `bytes` to `fd`, past any framing.
inline void write_raw(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::write(fd, bytes.data(), bytes.size());
    if (sent <= 0) throw std::runtime_error("write failed");
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
}

// A frame header as Python writes it: 4 big-endian bytes, or -1 and 8 big-endian bytes.
inline std::string be32(std::uint32_t value) {
  std::string out(4, '\0');
  for (int i = 3; i >= 0; --i, value >>= 8) out[i] = static_cast<char>(value & 0xff);
  return out;
}

inline std::string be64(std::uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, value >>= 8) out[i] = static_cast<char>(value & 0xff);
  return out;
}

inline std::string large_header(std::uint64_t size) { return be32(0xffffffffu) + be64(size); }

}  // namespace weft::test
