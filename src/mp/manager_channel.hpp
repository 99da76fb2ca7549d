// The shared-memory call channel of a local connection to a manager's
// server: requests and replies that skip the socket.
//
// A client's call connection over AF_UNIX, once authenticated, offers a
// channel (Op::upgrade, then the block's descriptor as SCM_RIGHTS data);
// the server maps it, acknowledges over the socket, and from then on both
// sides exchange the connection's frames through the block:
//
//   page 0     the lanes' words: request lane, reply lane (a cache line each)
//   page 1...  the request payload (kCapacity bytes), then the reply payload
//
// A lane carries one message at a time from its writer to its reader:
//   seq       the futex word; the writer bumps it once the message is in place
//   sleeping  set by the reader before it parks on seq, so that the writer
//             calls futex_wake only then (no syscall on the hot path)
//   length    the message's length, or kOnSocket: the message (larger than
//             the lane) follows the bump over the socket instead
//
// A reader spins on seq (see Spinner), then parks on it in slices, checking
// between slices that its peer still holds the socket: a peer that died
// or hung up, even mid-write, is seen as EOFError. The server never trusts
// the block: lengths are checked against the lane and the message is
// copied out before it is decoded, as a socket frame is.
//
// Thread-safety: one thread per side, as the connection itself.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "manager_protocol.hpp"
#include "weft/mp/connection.hpp"
#include "weft/mp/detail/shared_block.hpp"
#include "weft/net/socket.hpp"

namespace weft::mp::manager::detail {

// Whether the peer of the socket `fd` still holds it (no hang-up).
bool peer_connected(int fd) noexcept;

// Runs use(sock) on a socket view of `conn`'s descriptor, which `conn`
// keeps owning; returns what it returns, throws what it throws.
template <class Use>
auto with_socket(Connection& conn, Use use) {
  auto sock = net::Socket::from_fd(conn.fileno());
  struct Release {
    net::Socket& sock;
    ~Release() { sock.detach(); }
  } release{sock};
  return use(sock);
}

// The words of one lane, in the block.
struct alignas(64) LaneWords {
  std::atomic<std::uint32_t> seq;
  std::atomic<std::uint32_t> sleeping;
  std::atomic<std::uint32_t> length;
};

// The words of both lanes: page 0 of the block.
struct ChannelWords {
  LaneWords requests;
  LaneWords replies;
};

// One direction of a channel, as one side sees it.
class Lane {
 public:
  static constexpr std::uint32_t kOnSocket = 0xffffffff;

  Lane(LaneWords& words, std::byte* payload, std::size_t capacity) noexcept
      : words_(&words), payload_(payload), capacity_(capacity) {}

  // Writer: puts `frame` in the lane, or sends it over `conn` when it does
  // not fit; wakes the reader if it sleeps. Throws what send_bytes throws.
  void post(std::string_view frame, Connection& conn);

  // Reader: waits for the next message and returns it; reads it from
  // `conn` (at most `max_on_socket` bytes) when the lane says so. Throws
  // EOFError once `connected()` says the peer hung up, net::OSError
  // ("bad message length", EMSGSIZE) for a length the lane cannot hold, and
  // what recv_bytes throws.
  std::string take(Connection& conn, Spinner& spinner, const std::function<bool()>& connected,
                   std::size_t max_on_socket);

  // Wakes the reader if it sleeps, to check its peer now.
  void interrupt() noexcept;

 private:
  LaneWords* words_;
  std::byte* payload_;
  std::size_t capacity_;
  std::uint32_t posted_ = 0;  // writer: the last seq it posted
  std::uint32_t seen_ = 0;    // reader: the last seq it took
};

// A channel: its block and both of its lanes.
class CallChannel {
 public:
  static constexpr std::size_t kCapacity = std::size_t{64} << 10;
  // Where the request payload starts; the reply payload follows it.
  static constexpr std::size_t kPayloadOffset = 4096;

  // A new channel (the client makes it). Throws std::system_error.
  static std::unique_ptr<CallChannel> create();
  // The channel in the block behind `fd`, which the caller keeps owning.
  // Throws ValueError when it is not a channel's block, std::system_error.
  static std::unique_ptr<CallChannel> attach(int fd);

  int fd() const noexcept { return block_->fd(); }
  // Client to server.
  Lane& requests() noexcept { return requests_; }
  // Server to client.
  Lane& replies() noexcept { return replies_; }

 private:
  explicit CallChannel(std::shared_ptr<mp::detail::SharedBlock> block) noexcept;

  std::shared_ptr<mp::detail::SharedBlock> block_;
  Lane requests_;
  Lane replies_;
};

// Client: sends the descriptor of `channel` over `conn` (after the upgrade
// request). Throws net::OSError.
void send_channel(Connection& conn, const CallChannel& channel);

// Server: receives the descriptor the client sent and maps its channel.
// Throws ValueError (not a local connection, no descriptor, not a channel),
// net::OSError, EOFError.
std::unique_ptr<CallChannel> receive_channel(Connection& conn);

}  // namespace weft::mp::manager::detail
