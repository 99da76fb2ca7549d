// The connection under the stream handles: receiving with flow control,
// sending one buffer at a time, the reads' completion rules (Python's
// StreamReader), and the end of the connection.
#include "stream_transport.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <string_view>
#include <system_error>

#include "server_state.hpp"
#include "weft/errors.hpp"
#include "weft/io/loop.hpp"
#include "weft/net/errors.hpp"

namespace weft::aio::detail {

std::exception_ptr os_error(int error, std::string_view what) {
  try {
    net::raise_os_error(error, what);
  } catch (...) {
    return std::current_exception();
  }
}

void counted_add_ref(StreamTransport* transport) noexcept { transport->add_ref(); }
void counted_release(StreamTransport* transport) noexcept { transport->release(); }

void check_stream_limit(std::size_t limit) {
  if (limit == 0) throw ValueError("Limit cannot be <= 0");
}

StreamTransport* StreamTransport::open(EventLoop& loop, int fd, std::size_t limit, bool tcp, ServerState* server) {
  StreamTransport* transport;
  try {
    check_stream_limit(limit);
    transport = new StreamTransport(loop, loop.receive_buffers(), fd, limit, server);
  } catch (...) {
    loop.io().close(fd);
    throw;
  }
  if (tcp) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  transport->update_reading();
  return transport;
}

StreamTransport::StreamTransport(EventLoop& loop, io::BufferPool& pool, int fd, std::size_t limit,
                                 ServerState* server)
    : loop_(loop), pool_(pool), fd_(fd), limit_(limit), server_(server) {
  if (server_ != nullptr) server_->attach(*this);
}

StreamTransport::~StreamTransport() = default;

void StreamTransport::release() noexcept {
  if (--refs_ > 0) return;
  close();
  settle();
}

// ---- receiving ----------------------------------------------------------------

void StreamTransport::update_reading() noexcept {
  const bool wanted = !paused_ && !eof_ && !closing_;
  if (wanted && !receiving_.pending()) {
    loop_.io().recv_multishot(receiving_, fd_, pool_);
  } else if (!wanted && receiving_.pending()) {
    loop_.io().cancel(receiving_);  // its final result may still bring bytes
  }
}

void StreamTransport::on_received(io::Operation& op, int result, std::uint32_t flags) noexcept {
  StreamTransport& self = *static_cast<Op&>(op).transport;
  if ((flags & io::kBuffer) != 0) {
    const std::uint16_t id = io::buffer_id(flags);
    if (!self.fd_closed_) {
      try {
        self.received(self.pool_.buffer(id).first(static_cast<std::size_t>(result)));
      } catch (...) {  // the buffer cannot grow: as Python's MemoryError in a protocol
        self.force_close(std::current_exception());
      }
    }
    self.pool_.release(id);
  }
  if ((flags & io::kMore) != 0) return;
  if (!self.fd_closed_) {
    if (result == 0 && (flags & io::kBuffer) == 0) self.received_eof();
    else if (result < 0 && result != -ECANCELED && result != -ENOBUFS) self.force_close(os_error(-result, {}));
    // Otherwise the receive ended on an empty pool, with data, or because
    // flow control cancelled it: take it up again if wanted.
    else self.update_reading();
  }
  self.settle();
}

void StreamTransport::received(std::span<const std::byte> bytes) {
  buffer_.append(bytes);
  wake_reader();
  if (!paused_ && buffer_.size() > 2 * limit_ && read_waiters_.empty()) {
    paused_ = true;
    update_reading();
  }
}

void StreamTransport::received_eof() noexcept {
  // Python's eof_received() keeps the transport open: the writer may still
  // send (a half-closed connection).
  eof_ = true;
  wake_reader();
}

void StreamTransport::consumed() noexcept {
  if (!read_waiters_.empty()) waiting_read_->scanned = 0;  // another read took bytes from the front
  if (paused_ && buffer_.size() <= limit_) {
    paused_ = false;
    update_reading();
  }
}

// ---- the reads ----------------------------------------------------------------

namespace {

enum class Scan { found, overrun, more };

// Python's readuntil() loop over what is buffered, from request.scanned on:
// `at` is the separator's position (found) or how far the search went
// (overrun).
Scan scan_for_separator(std::string_view buffer, ReadRequest& request, std::size_t limit, std::size_t& at) {
  if (request.scanned > limit) {  // found before: the read ends there, as Python's loop raises at once
    at = request.scanned;
    return Scan::overrun;
  }
  const std::size_t length = request.separator.size();
  if (buffer.size() < request.scanned || buffer.size() - request.scanned < length) return Scan::more;
  const std::size_t found = buffer.find(request.separator, request.scanned);
  if (found != std::string_view::npos) {
    at = found;
    return Scan::found;
  }
  request.scanned = buffer.size() + 1 - length;
  if (request.scanned > limit) {
    at = request.scanned;
    return Scan::overrun;
  }
  return Scan::more;
}

const char* read_name(ReadRequest::Kind kind) {
  switch (kind) {
    case ReadRequest::Kind::some:
    case ReadRequest::Kind::all: return "read";
    case ReadRequest::Kind::exactly: return "readexactly";
    case ReadRequest::Kind::until: return "readuntil";
    case ReadRequest::Kind::line: return "readline";
  }
  return "read";
}

}  // namespace

bool StreamTransport::can_complete(ReadRequest& request) const noexcept {
  if (error_ || eof_) return true;
  switch (request.kind) {
    case ReadRequest::Kind::some: return request.count == 0 || !buffer_.empty();
    case ReadRequest::Kind::all: return false;
    case ReadRequest::Kind::exactly: return buffer_.size() >= request.count;
    case ReadRequest::Kind::until:
    case ReadRequest::Kind::line: {
      std::size_t at = 0;
      return scan_for_separator(buffer_.view(), request, limit_, at) != Scan::more;
    }
  }
  return true;
}

bool StreamTransport::read_ready(ReadRequest& request) {
  if (can_complete(request)) return true;
  if (!read_waiters_.empty())
    throw RuntimeError(std::string(read_name(request.kind)) +
                       "() called while another coroutine is already waiting for incoming data");
  return false;
}

WaitList& StreamTransport::begin_read_wait(ReadRequest& request) {
  waiting_read_ = &request;
  // A read that needs more than flow control lets in (readexactly of more
  // than twice the limit) receives regardless, as Python's _wait_for_data().
  if (paused_) {
    paused_ = false;
    update_reading();
  }
  return read_waiters_;
}

void StreamTransport::wake_reader() noexcept {
  if (!read_waiters_.empty() && can_complete(*waiting_read_)) read_waiters_.notify_one();
}

std::string StreamTransport::complete_read(ReadRequest& request) {
  if (error_) std::rethrow_exception(error_);
  std::string bytes;
  switch (request.kind) {
    case ReadRequest::Kind::some:
      bytes = buffer_.take(std::min(request.count, buffer_.size()));
      break;
    case ReadRequest::Kind::all:
      bytes = buffer_.take(buffer_.size());
      break;
    case ReadRequest::Kind::exactly:
      if (buffer_.size() < request.count) {
        std::string partial = buffer_.take(buffer_.size());
        consumed();
        throw IncompleteReadError(std::move(partial), request.count);
      }
      bytes = buffer_.take(request.count);
      break;
    case ReadRequest::Kind::until:
    case ReadRequest::Kind::line: {
      const bool line = request.kind == ReadRequest::Kind::line;
      std::size_t at = 0;
      const Scan scan = scan_for_separator(buffer_.view(), request, limit_, at);
      if (scan == Scan::more) {  // the end of the stream, no separator
        std::string partial = buffer_.take(buffer_.size());
        consumed();
        if (line) return partial;
        throw IncompleteReadError(std::move(partial), std::nullopt);
      }
      if (scan == Scan::overrun || at > limit_) {
        const char* message = scan == Scan::found ? "Separator is found, but chunk is longer than limit"
                                                  : "Separator is not found, and chunk exceed the limit";
        if (!line) throw LimitOverrunError(message, at);
        // readline() drops the overlong line (up to its separator if it came).
        if (buffer_.view().substr(at).starts_with(request.separator)) buffer_.consume(at + request.separator.size());
        else buffer_.clear();
        consumed();
        throw ValueError(message);
      }
      bytes = buffer_.take(at + request.separator.size());
      break;
    }
  }
  consumed();
  return bytes;
}

// ---- sending --------------------------------------------------------------------

void StreamTransport::write(std::span<const std::byte> data) {
  if (data.empty()) return;
  if (eof_requested_) throw RuntimeError("Cannot call write() after write_eof()");
  if (fd_closed_) return;  // the connection is lost: drain() says so
  const auto* chars = reinterpret_cast<const char*>(data.data());
  if (sending_op_.pending()) {
    queued_.append(chars, data.size());
  } else {
    sending_.assign(chars, data.size());
    sent_ = 0;
    start_sending();
  }
  if (!write_paused_ && write_buffer_size() > high_water_) write_paused_ = true;
}

void StreamTransport::start_sending() noexcept {
  loop_.io().send(sending_op_, fd_, std::as_bytes(std::span(sending_)).subspan(sent_));
}

void StreamTransport::on_sent(io::Operation& op, int result, std::uint32_t) noexcept {
  StreamTransport& self = *static_cast<Op&>(op).transport;
  if (!self.fd_closed_) {
    if (result < 0) {
      self.force_close(os_error(-result, {}));
    } else {
      self.sent_ += static_cast<std::size_t>(result);
      if (self.sent_ < self.sending_.size()) {
        self.start_sending();
        return;
      }
      self.sending_.clear();
      self.sent_ = 0;
      if (!self.queued_.empty()) {
        self.sending_.swap(self.queued_);
        self.start_sending();
      }
      self.sent_some();
    }
  }
  self.settle();
}

void StreamTransport::sent_some() noexcept {
  if (write_paused_ && write_buffer_size() <= low_water_) {
    write_paused_ = false;
    drain_waiters_.notify_all();
  }
  if (write_buffer_size() > 0) return;
  if (eof_requested_ && !eof_sent_) {
    eof_sent_ = true;
    if (::shutdown(fd_, SHUT_WR) < 0) {
      force_close(os_error(errno, {}));
      return;
    }
  }
  if (closing_) force_close(nullptr);
}

void StreamTransport::write_eof() {
  if (closing_ || eof_requested_) return;
  eof_requested_ = true;
  if (write_buffer_size() > 0) return;  // after the buffer, from sent_some()
  eof_sent_ = true;
  if (::shutdown(fd_, SHUT_WR) < 0) net::raise_os_error(errno, {});
}

void StreamTransport::set_write_buffer_limits(std::size_t high, std::size_t low) noexcept {
  high_water_ = high;
  low_water_ = low;
  if (!write_paused_ && write_buffer_size() > high_water_) write_paused_ = true;
  else if (write_paused_ && write_buffer_size() <= low_water_) {
    write_paused_ = false;
    drain_waiters_.notify_all();
  }
}

bool StreamTransport::drain_ready() const {
  if (error_) std::rethrow_exception(error_);
  if (fd_closed_) throw net::ConnectionResetError(std::make_error_code(std::errc::connection_reset), "Connection lost");
  return !write_paused_;
}

void StreamTransport::finish_drain() const {
  // Woken by the buffer going down, or by the end: an error is thrown, a
  // close returns (Python's connection_lost(None) resolves the waiters).
  if (error_) std::rethrow_exception(error_);
}

void StreamTransport::finish_closed() const {
  if (error_) std::rethrow_exception(error_);
}

// ---- the end ----------------------------------------------------------------------

void StreamTransport::close() noexcept {
  if (closing_) return;
  closing_ = true;
  update_reading();
  if (write_buffer_size() == 0) force_close(nullptr);
}

void StreamTransport::force_close(std::exception_ptr error) noexcept {
  if (fd_closed_) return;
  closing_ = true;
  fd_closed_ = true;
  queued_.clear();  // sending_ stays until its send has ended
  write_paused_ = false;
  if (error) error_ = std::move(error);
  else eof_ = true;
  loop_.io().close(std::exchange(fd_, -1));
  wake_reader();
  drain_waiters_.notify_all();
  check_lost();
}

void StreamTransport::check_lost() noexcept {
  if (lost_ || !fd_closed_ || receiving_.pending() || sending_op_.pending()) return;
  lost_ = true;
  sending_ = {};
  close_waiters_.notify_all();
  if (server_ != nullptr) std::exchange(server_, nullptr)->detach(*this);
}

void StreamTransport::settle() noexcept {
  check_lost();
  if (lost_ && refs_ == 0) delete this;
}

// ---- addresses ----------------------------------------------------------------------

namespace {
const net::Address& cached_address(std::optional<net::Address>& cache, int fd, bool peer) {
  if (cache) return *cache;
  if (fd < 0) net::raise_os_error(EBADF, peer ? "getpeername" : "getsockname");
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  auto* address = reinterpret_cast<sockaddr*>(&storage);
  const int rc = peer ? ::getpeername(fd, address, &length) : ::getsockname(fd, address, &length);
  if (rc < 0) net::raise_os_error(errno, peer ? "getpeername" : "getsockname");
  return cache.emplace(address, length);
}
}  // namespace

const net::Address& StreamTransport::peername() { return cached_address(peername_, fd_, true); }
const net::Address& StreamTransport::sockname() { return cached_address(sockname_, fd_, false); }

}  // namespace weft::aio::detail
