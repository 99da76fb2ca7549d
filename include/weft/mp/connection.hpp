// weft/mp/connection.hpp — weft::mp::Connection and Pipe(), Python's
// multiprocessing.connection.Connection and multiprocessing.Pipe.
//
// A Connection owns one file descriptor — a stream socket or one end of a
// pipe — and carries whole messages over it: byte strings (send_bytes,
// recv_bytes, recv_bytes_into) and values encoded by weft::codec (send,
// recv). It is movable, not copyable, and closes its descriptor when
// destroyed.
//
// Wire format, exactly Python's: each message is a 4-byte big-endian signed
// length followed by that many bytes; a message longer than 0x7fffffff
// bytes is announced by the length -1 followed by an 8-byte big-endian
// length. A Python process can therefore exchange send_bytes/recv_bytes
// messages with a weft process over a socket (see weft/mp/listener.hpp).
// Values sent with send() are MessagePack, not pickle: a Python peer reads
// them as bytes.
//
// Errors, named as Python names them:
//   * any call but close()/closed()/readable()/writable() on a closed
//     Connection throws net::OSError("handle is closed") (code EBADF);
//     reading a write-only end or writing a read-only one throws
//     net::OSError("connection is write-only" / "connection is read-only");
//   * a read that finds the end of the stream at a message boundary throws
//     weft::EOFError; one that finds it inside a message (in the header or
//     the payload) throws net::OSError("got end of file during message")
//     (code EPROTO);
//   * a length that is negative (other than the -1 marker), larger than
//     memory can hold, or larger than recv_bytes()'s maxlength throws
//     net::OSError("bad message length") (code EMSGSIZE); as in Python the
//     Connection then stops being readable (a read-only one is closed),
//     since the rest of the stream can no longer be framed;
//   * OS failures throw the net::OSError subclass Python would raise:
//     BrokenPipeError writing to a peer that is gone, ConnectionResetError.
// Writing never raises SIGPIPE.
//
// End of file across processes: the reading end sees EOF only once every
// copy of the other end is closed, in every process. A child started with
// fork inherits copies of both ends of every Pipe the parent holds, so the
// parent's recv() blocks instead of throwing EOFError while a child keeps
// the other end open — children must close the ends they do not use, as in
// Python. (Descriptors are close-on-exec, so an exec'd program keeps none.)
//
// Receiving never believes a length before the bytes arrive: a message is
// read into memory that grows as its bytes come in, so a hostile header
// claiming an enormous message costs nothing until that much data is sent.
//
// Thread-safety: as in Python, a Connection is not safe for concurrent
// senders or for concurrent receivers: messages could interleave. One
// thread may send while another receives. close(), moving and destroying
// must not overlap any other call.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "weft/codec.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/mp/detail/dup_fd.hpp"

namespace weft::mp {

namespace detail {
class HandshakeDeadline;
}

class Connection {
 public:
  // A closed Connection (what a moved-from one is too): closed() is true,
  // readable() and writable() false.
  Connection() noexcept = default;
  // Adopts `fd`, which it will close. Throws ValueError("invalid handle")
  // for a negative fd and ValueError when neither readable nor writable,
  // as Python does. Never blocks.
  explicit Connection(int fd, bool readable = true, bool writable = true);

  Connection(Connection&& other) noexcept;
  // Closes this connection (ignoring errors), then takes other's descriptor.
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  bool closed() const noexcept { return fd_ < 0; }
  bool readable() const noexcept { return readable_; }
  bool writable() const noexcept { return writable_; }
  // The descriptor. Throws OSError("handle is closed") once closed.
  int fileno() const;
  // Closes the descriptor; does nothing if already closed. Never throws.
  void close() noexcept;

  // Sends `size` bytes of `data` from `offset` (all the rest when size is
  // nullopt) as one message. Throws ValueError("buffer length < offset")
  // or ValueError("buffer length < offset + size") for a range outside
  // `data`. Blocks until the kernel took the whole message (a peer that
  // never reads can block it forever).
  void send_bytes(std::span<const std::byte> data, std::size_t offset = 0,
                  std::optional<std::size_t> size = std::nullopt);
  void send_bytes(std::string_view data, std::size_t offset = 0,
                  std::optional<std::size_t> size = std::nullopt) {
    send_bytes(std::as_bytes(std::span(data.data(), data.size())), offset, size);
  }

  // Blocks until a whole message arrives and returns it. With `maxlength`,
  // a longer message throws OSError("bad message length") without being
  // read (see above).
  std::string recv_bytes(std::optional<std::size_t> maxlength = std::nullopt);

  // Blocks until a whole message arrives and stores it in `buffer` from
  // `offset`; returns its length. Throws ValueError("offset too large") if
  // offset > buffer.size(); if the message does not fit it is still read,
  // whole, and thrown as BufferTooShort (whose message() holds it).
  std::size_t recv_bytes_into(std::span<std::byte> buffer, std::size_t offset = 0);
  std::size_t recv_bytes_into(std::span<char> buffer, std::size_t offset = 0) {
    return recv_bytes_into(std::as_writable_bytes(buffer), offset);
  }

  // Encodes `value` with weft::codec and sends it as one message. Throws
  // codec::EncodeError, and what send_bytes() throws. Blocks as it does.
  template <class T>
  void send(const T& value) {
    check_writable();
    detail::Loans loans;  // a socket in `value` stays lent only if it is sent
    send_bytes(loans.record([&] { return codec::encode(value); }));
    loans.keep();
  }
  // Receives one message and decodes it as a T. Throws codec::DecodeError
  // (the message is consumed), and what recv_bytes() throws. Blocks as it
  // does.
  template <class T>
  T recv() {
    check_readable();
    return codec::decode<T>(recv_bytes());
  }

  // Whether a message (or the end of the stream) is ready to be read:
  // poll() returns at once (Python's default timeout 0.0); poll(timeout)
  // waits at most `timeout` (a negative one counts as 0, as in Python);
  // poll(std::nullopt) waits until there is (Python's poll(None)).
  // Throws OSError when closed or write-only.
  bool poll() { return poll_until(weft::detail::Clock::now()); }
  template <class Rep, class Period>
  bool poll(std::chrono::duration<Rep, Period> timeout) {
    return poll_until(weft::detail::deadline_after_clamped(timeout));
  }
  bool poll(std::nullopt_t) { return poll_until(std::nullopt); }

 private:
  friend class detail::HandshakeDeadline;

  void check_readable() const;
  void check_writable() const;
  bool poll_until(const weft::detail::Deadline& deadline);
  // Sends the header and `payload` as one message.
  void send_frame(std::span<const std::byte> payload);
  // Reads one frame header; returns the payload length. Throws EOFError at
  // the end of the stream, OSError for a bad length.
  std::size_t recv_header(std::optional<std::size_t> maxlength);
  // Reads exactly `size` bytes into `out`. The end of the stream before
  // the first byte throws EOFError if `at_boundary` (nothing of the frame
  // was read yet); any other end of the stream is a truncated message.
  void recv_exactly(std::byte* out, std::size_t size, bool at_boundary);
  // Reads what is there, at most `size` bytes (0 at the end of the stream).
  std::size_t read_some(std::byte* out, std::size_t size);
  // Reads a payload of `size` bytes, growing the result as bytes arrive.
  std::string recv_payload(std::size_t size);
  // Waits until the descriptor is readable or io_deadline_ passes (then
  // throws weft::TimeoutError); does nothing without a deadline.
  void wait_readable() const;
  [[noreturn]] void bad_message_length();

  int fd_ = -1;
  bool readable_ = false;
  bool writable_ = false;
  bool is_socket_ = false;
  // Bounds every read while a handshake runs; nullopt: reads block freely.
  weft::detail::Deadline io_deadline_;
};

// A connected pair of Connections (Python's multiprocessing.Pipe). Duplex:
// two ends of a Unix stream socketpair, each readable and writable.
// Otherwise the ends of a pipe(2): the first only receives, the second only
// sends. Both descriptors are close-on-exec. Throws OSError (EMFILE...).
// Never blocks.
std::pair<Connection, Connection> Pipe(bool duplex = true);

}  // namespace weft::mp

// A Connection crosses to another process as its descriptor does (see
// weft/mp/detail/dup_fd.hpp): to a child started with spawn or forkserver
// by inheritance; anywhere else (a Pool task's argument, a Queue item, a
// message on another Connection) this process lends a duplicate that the
// decoding process takes, as Python's resource_sharer does. Encoding a
// closed Connection throws OSError("handle is closed"). The decoder gets a
// Connection on a descriptor of its own, with the same readable/writable
// flags; it then holds a copy of that end, with what this means for EOF.
namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {

  template <>
  struct pack<weft::mp::Connection> {
    template <class Stream>
    packer<Stream>& operator()(packer<Stream>& out, const weft::mp::Connection& conn) const {
      out.pack_array(3);
      out.pack(weft::mp::detail::DupFd::of(conn.fileno()));
      out.pack(conn.readable());
      out.pack(conn.writable());
      return out;
    }
  };

  template <>
  struct convert<weft::mp::Connection> {
    const msgpack::object& operator()(const msgpack::object& in,
                                      weft::mp::Connection& conn) const;
  };

  }  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack
