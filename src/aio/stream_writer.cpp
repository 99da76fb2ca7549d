// aio::StreamWriter: writes, flow control and closing, forwarded to the
// connection; drain() and wait_closed() wait on its lists.
#include "weft/aio/stream_writer.hpp"

#include <system_error>

#include "stream_transport.hpp"
#include "weft/errors.hpp"

namespace weft::aio {

namespace {

using TransportRef = detail::CountedRef<detail::StreamTransport>;

Task<void> drain_of(TransportRef transport) {
  if (transport->drain_ready()) co_return;
  co_await transport->drain_waiters().wait();
  transport->finish_drain();
}

Task<void> wait_closed_of(TransportRef transport) {
  if (!transport->closed_ready()) co_await transport->close_waiters().wait();
  transport->finish_closed();
}

}  // namespace

void StreamWriter::write(std::span<const std::byte> data) { transport_->write(data); }
void StreamWriter::write_eof() { transport_->write_eof(); }
void StreamWriter::close() { transport_->close(); }
void StreamWriter::abort() { transport_->force_close(nullptr); }
bool StreamWriter::is_closing() const noexcept { return transport_->is_closing(); }

Task<void> StreamWriter::drain() { return drain_of(transport_); }
Task<void> StreamWriter::wait_closed() { return wait_closed_of(transport_); }

std::size_t StreamWriter::get_write_buffer_size() const noexcept { return transport_->write_buffer_size(); }

void StreamWriter::set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) {
  if (!high) high = low ? 4 * *low : 64 * 1024;
  if (!low) low = *high / 4;
  if (*high < *low) throw ValueError("high must be >= low, which must be >= 0");
  transport_->set_write_buffer_limits(*high, *low);
}

std::pair<std::size_t, std::size_t> StreamWriter::get_write_buffer_limits() const noexcept {
  return transport_->write_buffer_limits();
}

net::Address StreamWriter::peername() const { return transport_->peername(); }
net::Address StreamWriter::sockname() const { return transport_->sockname(); }

std::optional<net::Address> StreamWriter::get_extra_info(std::string_view name) const {
  try {
    if (name == "peername") return peername();
    if (name == "sockname") return sockname();
  } catch (const std::system_error&) {
  }
  return std::nullopt;
}

int StreamWriter::fileno() const noexcept { return transport_->fd(); }

}  // namespace weft::aio
