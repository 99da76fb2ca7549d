// The shared-memory call channel of a local manager connection.
#include "manager_channel.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <new>

#include "weft/detail/futex.hpp"
#include "weft/errors.hpp"
#include "weft/net/errors.hpp"
#include "weft/net/fds.hpp"

namespace weft::mp::manager::detail {
namespace {

using weft::detail::FutexScope;

constexpr std::size_t kPayloadOffset = CallChannel::kPayloadOffset;
constexpr std::size_t kBlockSize = kPayloadOffset + 2 * CallChannel::kCapacity;
// How long a reader parks before it checks its peer again.
constexpr auto kSlice = std::chrono::milliseconds(50);

static_assert(sizeof(ChannelWords) <= kPayloadOffset);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

}  // namespace

bool peer_connected(int fd) noexcept {
  pollfd entry{fd, POLLRDHUP, 0};
  return ::poll(&entry, 1, 0) == 0 || (entry.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) == 0;
}

void Lane::post(std::string_view frame, Connection& conn) {
  const bool fits = frame.size() <= capacity_;
  if (fits) std::memcpy(payload_, frame.data(), frame.size());
  words_->length.store(fits ? static_cast<std::uint32_t>(frame.size()) : kOnSocket,
                       std::memory_order_relaxed);
  // seq_cst store, then seq_cst load of the flag: with the reader's store
  // of the flag before its futex_wait, one of the two sees the other.
  words_->seq.store(++posted_, std::memory_order_seq_cst);
  if (words_->sleeping.load(std::memory_order_seq_cst) != 0) {
    weft::detail::futex_wake(words_->seq, 1, FutexScope::process_shared);
  }
  // After the bump: the reader must be reading while a frame larger than
  // the socket's buffer goes in.
  if (!fits) conn.send_bytes(frame);
}

std::string Lane::take(Connection& conn, Spinner& spinner, const std::function<bool()>& connected,
                       std::size_t max_on_socket) {
  std::uint32_t now = 0;
  const auto arrived = [&] {
    now = words_->seq.load(std::memory_order_acquire);
    return now != seen_;
  };
  if (!spinner.spin(arrived)) {
    while (!arrived()) {
      words_->sleeping.store(1, std::memory_order_seq_cst);
      weft::detail::futex_wait(words_->seq, seen_, weft::detail::deadline_after(kSlice),
                               FutexScope::process_shared);
      words_->sleeping.store(0, std::memory_order_relaxed);
      if (!arrived() && !connected()) throw EOFError("the peer of a manager connection hung up");
    }
  }
  seen_ = now;
  const std::uint32_t length = words_->length.load(std::memory_order_relaxed);
  if (length == kOnSocket) return conn.recv_bytes(max_on_socket);
  if (length > capacity_) {
    throw net::OSError(std::error_code(EMSGSIZE, std::generic_category()), "bad message length");
  }
  return std::string(reinterpret_cast<const char*>(payload_), length);
}

void Lane::interrupt() noexcept { weft::detail::futex_wake_all(words_->seq, FutexScope::process_shared); }

CallChannel::CallChannel(std::shared_ptr<mp::detail::SharedBlock> block) noexcept
    : block_(std::move(block)),
      requests_(std::launder(block_->as<ChannelWords>())->requests,
                static_cast<std::byte*>(block_->data()) + kPayloadOffset, kCapacity),
      replies_(std::launder(block_->as<ChannelWords>())->replies,
               static_cast<std::byte*>(block_->data()) + kPayloadOffset + kCapacity, kCapacity) {}

std::unique_ptr<CallChannel> CallChannel::create() {
  auto block = mp::detail::SharedBlock::create(kBlockSize, "manager-channel");
  new (block->data()) ChannelWords{};
  return std::unique_ptr<CallChannel>(new CallChannel(std::move(block)));
}

std::unique_ptr<CallChannel> CallChannel::attach(int fd) {
  std::shared_ptr<mp::detail::SharedBlock> block;
  try {
    block = mp::detail::SharedBlock::attach(fd);
  } catch (const codec::DecodeError& e) {
    throw ValueError(std::string("not a manager channel: ") + e.what());
  }
  if (block->size() != kBlockSize) {
    throw ValueError("not a manager channel: a block of " + std::to_string(block->size()) + " bytes");
  }
  return std::unique_ptr<CallChannel>(new CallChannel(std::move(block)));
}

void send_channel(Connection& conn, const CallChannel& channel) {
  const int fd = channel.fd();
  with_socket(conn, [&](net::Socket& sock) {
    return net::send_fds(sock, std::string_view("C", 1), std::span<const int>(&fd, 1));
  });
}

std::unique_ptr<CallChannel> receive_channel(Connection& conn) {
  auto received = with_socket(conn, [](net::Socket& sock) {
    if (sock.family() != AF_UNIX) throw ValueError("a manager channel needs a local (AF_UNIX) connection");
    return net::recv_fds(sock, 1, 1);
  });
  struct Close {
    std::vector<int>& fds;
    ~Close() {
      for (const int fd : fds) ::close(fd);
    }
  } close{received.fds};
  if (received.data.empty()) throw EOFError("the client hung up while offering a channel");
  if (received.fds.size() != 1) throw ValueError("a channel offer without its descriptor");
  return CallChannel::attach(received.fds.front());
}

}  // namespace weft::mp::manager::detail
