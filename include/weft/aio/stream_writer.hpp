// weft/aio/stream_writer.hpp — aio::StreamWriter, the writing half of an
// asyncio stream (Python's asyncio.StreamWriter, with the parts of its
// transport that Python reaches through writer.transport).
//
// write() never suspends: it hands the bytes to the connection, which
// sends them at once if it can and keeps what the socket did not take in
// its write buffer, sending it as the socket drains. The buffer is
// unbounded; drain() is the flow control — it suspends while the buffer
// holds more than the high-water mark (64 KiB unless
// set_write_buffer_limits() says otherwise) until it falls to the
// low-water mark, so a writer that awaits drain() after its writes never
// runs far ahead of its peer:
//
//   writer.write(reply);
//   co_await writer.drain();
//
// When the connection fails (the peer reset it, a send broke), the buffer
// is dropped, later writes are ignored, and drain() throws the connection's
// error — a net::ConnectionResetError or net::BrokenPipeError, the
// std::system_error family of weft/net/errors.hpp — or ConnectionResetError
// "Connection lost" once the connection is closed.
//
// close() closes the connection once the buffer has been sent (Python's
// transport.close()); wait_closed() suspends until it is closed. drain()
// and wait_closed() are coroutines, as in Python (they go to create_task()
// and wait_for() too), and hold the stream while they run. Copies of
// a StreamWriter refer to the same stream; the connection closes (as
// close() does) once the last StreamReader and StreamWriter of it are
// gone. A default-constructed StreamWriter refers to none and may only be
// assigned to.
//
// Not thread-safe: a stream belongs to its loop's thread, and must not
// outlive that loop.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "weft/aio/detail/counted_ref.hpp"
#include "weft/aio/stream_reader.hpp"
#include "weft/aio/task.hpp"
#include "weft/net/address.hpp"

namespace weft::aio {

class StreamWriter {
 public:
  StreamWriter() noexcept = default;
  explicit StreamWriter(detail::StreamTransport* transport) noexcept : transport_(transport) {}

  // Queues `data` for sending; never suspends, never blocks. Throws
  // RuntimeError after write_eof(). Ignored once the connection is lost, as
  // in Python (drain() reports it).
  void write(std::span<const std::byte> data);
  void write(std::string_view data) { write(std::as_bytes(std::span(data.data(), data.size()))); }
  // write() of each element of `lines` (any range of things convertible to
  // std::string_view), in order.
  template <class Lines>
  void writelines(const Lines& lines) {
    for (const auto& line : lines) write(std::string_view(line));
  }

  // Suspends while the write buffer is over the high-water mark, until it
  // falls to the low-water mark; returns at once otherwise. Throws the
  // connection's error if it failed, ConnectionResetError if it is closed,
  // CancelledError if the task is cancelled meanwhile.
  Task<void> drain();

  // Whether write_eof() is possible: true for the sockets of streams.
  bool can_write_eof() const noexcept { return true; }
  // Shuts the sending side down (the peer reads the end of the stream) once
  // the buffer has been sent; reading goes on. Never blocks. Does nothing if
  // the stream is closing or already half-closed.
  void write_eof();

  // Stops receiving and closes the connection once the write buffer has
  // been sent. Never blocks; idempotent.
  void close();
  // Closes the connection now, dropping the write buffer (Python's
  // transport.abort()). Never blocks; idempotent.
  void abort();
  // Whether close() or abort() was called or the connection is lost.
  bool is_closing() const noexcept;
  // Suspends until the connection is closed (Python's wait_closed(): call
  // it after close()). Throws the connection's error if it failed,
  // CancelledError if the task is cancelled meanwhile.
  Task<void> wait_closed();

  // Bytes written and not yet taken by the socket.
  std::size_t get_write_buffer_size() const noexcept;
  // Python's transport.set_write_buffer_limits(high, low): a missing high
  // is 4 × low (64 KiB if both are missing), a missing low is high / 4.
  // Throws ValueError unless high >= low. Wakes drain() if the buffer now
  // fits.
  void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                               std::optional<std::size_t> low = std::nullopt);
  // (low, high), as Python's get_write_buffer_limits().
  std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept;

  // The peer's and the socket's own address. Throws net::OSError (EBADF)
  // once the connection is closed, unless asked before.
  net::Address peername() const;
  net::Address sockname() const;
  // Python's get_extra_info(name) for "peername" and "sockname"; nullopt
  // for other names, or when the address cannot be had.
  std::optional<net::Address> get_extra_info(std::string_view name) const;
  // The socket's descriptor (-1 once closed). Use it for socket options
  // only: reading, writing or closing it behind the stream's back breaks
  // the stream.
  int fileno() const noexcept;

  explicit operator bool() const noexcept { return static_cast<bool>(transport_); }

 private:
  detail::CountedRef<detail::StreamTransport> transport_;
};

}  // namespace weft::aio
