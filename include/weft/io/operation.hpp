// weft/io/operation.hpp — one asynchronous IO operation carried out by an
// io::Loop: the unit of the proactor, whichever backend runs it.
//
// An Operation is caller-owned storage (an awaiter's frame, a connection
// object, a greenlet's stack) that the loop links into its queues; starting
// one allocates nothing. The loop reports each result by calling the
// operation's handler on the loop's thread:
//
//   result  what the system call returned: >= 0 on success (bytes moved,
//           the accepted fd, the readiness mask of a watch), -errno on
//           failure, -ECANCELED once the operation was cancelled;
//   flags   kMore while a multishot operation or a watch will report again;
//           kBuffer when the data sits in a BufferPool buffer, whose id is
//           buffer_id(flags) — the handler owns that buffer until it calls
//           BufferPool::release.
//
// A multishot operation cancelled while the kernel had results of it under
// way (io_uring) still reports those, with kMore, before its final call:
// they hold bytes or connections already taken from the socket. Once its
// fd is closed with Loop::close, only the final call comes.
//
// An operation is pending from its start until the handler's call without
// kMore; the storage must outlive that call and may be reused from inside
// the handler. Not thread-safe: only the loop's thread touches it.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

namespace weft::io {

namespace detail {
class BackendBase;
class EpollBackend;
class UringBackend;
class OpQueue;
}  // namespace detail

class Loop;

// The data of this result is in a pool buffer (multishot receive).
inline constexpr std::uint32_t kBuffer = 1u << 0;
// More results of the same operation will follow.
inline constexpr std::uint32_t kMore = 1u << 1;

inline constexpr std::uint16_t buffer_id(std::uint32_t flags) noexcept {
  return static_cast<std::uint16_t>(flags >> 16);
}

enum class OpKind : std::uint8_t {
  accept,            // one connection; result is the new (non-blocking, close-on-exec) fd
  accept_multishot,  // every connection until cancelled or an error
  connect,           // result 0 once connected
  recv,              // into the caller's buffer; result 0 at end of stream
  recv_multishot,    // into pool buffers, one result per arrival, until EOF, error or cancel
  send,              // from the caller's buffer; may send fewer bytes than asked
  watch,             // readiness of fd for `events` (EPOLLIN/EPOLLOUT), reported while it holds
};

class Operation {
 public:
  using Handler = void (*)(Operation& op, int result, std::uint32_t flags) noexcept;

  explicit Operation(Handler handler) noexcept : handler_(handler) {}
  Operation(const Operation&) = delete;
  Operation& operator=(const Operation&) = delete;

  bool pending() const noexcept { return pending_; }
  OpKind kind() const noexcept { return kind_; }
  int fd() const noexcept { return fd_; }

 private:
  friend class Loop;
  friend class detail::BackendBase;
  friend class detail::EpollBackend;
  friend class detail::UringBackend;
  friend class detail::OpQueue;

  void complete(int result, std::uint32_t flags) noexcept { handler_(*this, result, flags); }

  Handler handler_;
  Operation* next_ = nullptr;  // intrusive link: the epoll backend's per-fd and done queues
  void* buffer_ = nullptr;
  std::size_t length_ = 0;
  const sockaddr* address_ = nullptr;
  socklen_t address_length_ = 0;
  int fd_ = -1;
  std::uint32_t events_ = 0;  // a watch's events; a send's flags
  int done_result_ = 0;  // the result the epoll backend delivers from its done queue
  std::uint64_t forget_epoch_ = 0;  // the io_uring backend's forget() count when it started
  std::uint16_t pool_ = 0;
  OpKind kind_ = OpKind::recv;
  bool pending_ = false;
  bool cancelling_ = false;
};

}  // namespace weft::io
