// weft/net/fds.hpp — Python's socket.send_fds and socket.recv_fds: handing
// open file descriptors to another process over an AF_UNIX socket
// (SCM_RIGHTS ancillary data), riding along with some bytes of data.
//
// Thread-safety: as the Socket's own sends and receives.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "weft/net/address.hpp"
#include "weft/net/socket.hpp"

namespace weft::net {

// Sends `data` with duplicates of `fds` attached (to `address` on an
// unconnected datagram socket); returns the bytes of `data` sent. Send at
// least one byte: a stream peer cannot tell an empty message from end of
// stream. Blocks according to the socket's mode; throws OSError.
std::size_t send_fds(Socket& sock, std::span<const std::byte> data, std::span<const int> fds,
                     int flags = 0, const std::optional<Address>& address = std::nullopt);
std::size_t send_fds(Socket& sock, std::string_view data, std::span<const int> fds, int flags = 0,
                     const std::optional<Address>& address = std::nullopt);

// What recv_fds() received, Python's (data, fds, msg_flags, address).
struct ReceivedFds {
  std::string data;
  // New descriptors, close-on-exec, owned by the caller.
  std::vector<int> fds;
  // MSG_CTRUNC here means more than `maxfds` descriptors came; the rest were
  // closed.
  int msg_flags = 0;
  Address address;
};

// Receives up to `bufsize` bytes and up to `maxfds` descriptors. Blocks
// according to the socket's mode; throws OSError.
ReceivedFds recv_fds(Socket& sock, std::size_t bufsize, std::size_t maxfds, int flags = 0);

}  // namespace weft::net
