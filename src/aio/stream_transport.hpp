// src/aio/stream_transport.hpp — the connection under a StreamReader and a
// StreamWriter: Python's socket transport and StreamReaderProtocol in one,
// on the loop's io::Loop.
//
// Receiving: one multishot receive into the loop's receive_buffers(); each
// arrival is copied into the read buffer and its pool buffer given back at
// once, in the completion handler. The reading task is woken only when its
// read can complete (ReadRequest). Flow control stops the receive (cancels
// it) while the buffer holds more than twice the limit and no read waits,
// and starts it again once reads bring the buffer down to the limit.
//
// Sending: one send at a time, from `sending_`, which nothing touches while
// the send is in flight (io_uring's kernel reads it until the send ends);
// writes made meanwhile collect in `queued_` and go out next, in one send.
//
// The end: close() stops receiving and closes the socket once the write
// buffer is empty; force_close(error) closes it now, drops the buffer and
// gives the reader the end of the stream (or the error). Loop::close(fd)
// cancels both operations; the connection is *lost* — wait_closed()
// returns, the server stops counting it — once the socket is closed and
// both operations have ended, and the transport frees itself once it is
// lost and no handle refers to it (the operations' storage is its own).
//
// Not thread-safe: the loop's thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "byte_buffer.hpp"
#include "weft/aio/detail/wait_list.hpp"
#include "weft/aio/event_loop.hpp"
#include "weft/aio/stream_reader.hpp"
#include "weft/io/operation.hpp"
#include "weft/net/address.hpp"

namespace weft::aio::detail {

class ServerState;

// What a read waits for; the connection wakes the reading task only once
// it can complete.
struct ReadRequest {
  enum class Kind : std::uint8_t {
    some,     // read(n): up to `count` bytes, as soon as there are any
    all,      // read(-1): everything up to the end of the stream
    exactly,  // readexactly(n): `count` bytes
    until,    // readuntil(separator)
    line,     // readline(): readuntil("\n") with readline's endings
  };
  Kind kind = Kind::some;
  std::size_t count = 0;
  std::string separator;
  std::size_t scanned = 0;  // until/line: where the separator search resumes
};

// Throws ValueError("Limit cannot be <= 0") for a stream buffer limit of 0,
// as Python's StreamReader does. Every stream's limit passes here: the
// public entry points call it before they create a socket or a child.
void check_stream_limit(std::size_t limit);

class StreamTransport {
 public:
  // A transport for the connected socket `fd` (non-blocking), receiving at
  // once; `tcp` sets TCP_NODELAY, as Python does for every TCP transport.
  // `server`, if any, counts it among its connections. Takes `fd` even when
  // it throws (ValueError for a limit of 0, std::system_error if the loop's
  // receive buffers cannot be set up): the socket is closed then.
  static StreamTransport* open(EventLoop& loop, int fd, std::size_t limit, bool tcp, ServerState* server);
  StreamTransport(const StreamTransport&) = delete;
  StreamTransport& operator=(const StreamTransport&) = delete;

  EventLoop& loop() const noexcept { return loop_; }
  std::size_t limit() const noexcept { return limit_; }
  int fd() const noexcept { return fd_; }

  // ---- handles (StreamReader, StreamWriter, their awaiters) ---------------
  void add_ref() noexcept { ++refs_; }
  // The last handle gone closes the connection (as close() does).
  void release() noexcept;

  // ---- reading --------------------------------------------------------------
  // Whether `request` can complete now. Throws RuntimeError if it cannot and
  // another read already waits.
  bool read_ready(ReadRequest& request);
  // Makes `request` the waiting read (receiving again if flow control had
  // stopped it); the caller then waits on the returned list.
  WaitList& begin_read_wait(ReadRequest& request);
  // Completes a read that is ready: returns its bytes or throws what it
  // must (the connection's error, IncompleteReadError, LimitOverrunError,
  // ValueError for readline).
  std::string complete_read(ReadRequest& request);
  bool at_eof() const noexcept { return eof_ && buffer_.empty(); }
  std::exception_ptr error() const noexcept { return error_; }

  // ---- writing --------------------------------------------------------------
  void write(std::span<const std::byte> data);
  void write_eof();
  void close() noexcept;
  void force_close(std::exception_ptr error) noexcept;
  bool is_closing() const noexcept { return closing_; }
  // drain(): whether it can return at once (throws the connection's error,
  // or ConnectionResetError once closed); the list to wait on; what it does
  // once woken.
  bool drain_ready() const;
  WaitList& drain_waiters() noexcept { return drain_waiters_; }
  void finish_drain() const;
  // wait_closed(): the same three.
  bool closed_ready() const noexcept { return lost_; }
  WaitList& close_waiters() noexcept { return close_waiters_; }
  void finish_closed() const;
  std::size_t write_buffer_size() const noexcept { return (sending_.size() - sent_) + queued_.size(); }
  void set_write_buffer_limits(std::size_t high, std::size_t low) noexcept;
  std::pair<std::size_t, std::size_t> write_buffer_limits() const noexcept { return {low_water_, high_water_}; }

  // ---- addresses --------------------------------------------------------------
  // Throws net::OSError(EBADF) once closed, unless asked before.
  const net::Address& peername();
  const net::Address& sockname();

 private:
  friend class ServerState;
  struct Op : io::Operation {
    Op(StreamTransport* owner, Handler handler) noexcept : io::Operation(handler), transport(owner) {}
    StreamTransport* transport;
  };

  StreamTransport(EventLoop& loop, io::BufferPool& pool, int fd, std::size_t limit, ServerState* server);
  ~StreamTransport();

  static void on_received(io::Operation& op, int result, std::uint32_t flags) noexcept;
  static void on_sent(io::Operation& op, int result, std::uint32_t flags) noexcept;

  void received(std::span<const std::byte> bytes);
  void received_eof() noexcept;
  // Starts or stops the receive as the state wants it.
  void update_reading() noexcept;
  void start_sending() noexcept;
  // After a send: wakes drain(), half-closes or closes once the buffer is empty.
  void sent_some() noexcept;
  void consumed() noexcept;
  // Wakes the waiting read if it can complete.
  void wake_reader() noexcept;
  bool can_complete(ReadRequest& request) const noexcept;
  // Declares the connection lost once the socket is closed and both
  // operations ended.
  void check_lost() noexcept;
  // check_lost(), then frees the transport if it is lost and unreferenced.
  // Only as the last thing a handler or release() does.
  void settle() noexcept;

  EventLoop& loop_;
  io::BufferPool& pool_;
  int fd_;
  std::size_t limit_;
  ServerState* server_;
  StreamTransport* server_prev_ = nullptr;  // the server's list of its connections
  StreamTransport* server_next_ = nullptr;
  std::uint32_t refs_ = 0;

  ByteBuffer buffer_;
  ReadRequest* waiting_read_ = nullptr;  // valid while read_waiters_ is not empty
  WaitList read_waiters_;
  Op receiving_{this, &on_received};

  std::string sending_;  // the bytes of the send in flight; sent_ of them went out
  std::size_t sent_ = 0;
  std::string queued_;  // written while a send was in flight
  Op sending_op_{this, &on_sent};
  std::size_t high_water_ = 64 * 1024;
  std::size_t low_water_ = 16 * 1024;
  WaitList drain_waiters_;
  WaitList close_waiters_;

  std::exception_ptr error_;  // the connection's failure
  std::optional<net::Address> peername_;
  std::optional<net::Address> sockname_;
  bool eof_ = false;            // the reader has seen the end of the stream
  bool paused_ = false;         // flow control stopped receiving
  bool write_paused_ = false;   // drain() waits: over the high-water mark
  bool eof_requested_ = false;  // write_eof() called
  bool eof_sent_ = false;       // SHUT_WR done
  bool closing_ = false;        // close(), abort() or a failure
  bool fd_closed_ = false;
  bool lost_ = false;
};

// The error object a failed system call gives a stream: the net::OSError
// subclass Python would raise for `error` (an errno value).
std::exception_ptr os_error(int error, std::string_view what);

}  // namespace weft::aio::detail
