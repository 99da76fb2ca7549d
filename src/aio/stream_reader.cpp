// aio::StreamReader: each read is a request to the connection, awaited on
// its list of readers when it cannot complete at once.
#include "weft/aio/stream_reader.hpp"

#include "stream_transport.hpp"

namespace weft::aio {

IncompleteReadError::IncompleteReadError(std::string partial, std::optional<std::size_t> expected)
    : weft::EOFError(std::to_string(partial.size()) + " bytes read on a total of " +
                     (expected ? std::to_string(*expected) : std::string("None")) + " expected bytes"),
      partial_(std::move(partial)), expected_(expected) {}

namespace {

using TransportRef = detail::CountedRef<detail::StreamTransport>;

// The coroutine of every read; it holds the stream while it runs. A read
// woken for bytes that another read took before it ran waits again, as
// Python's loop on _wait_for_data() does.
Task<std::string> perform(TransportRef transport, detail::ReadRequest request) {
  while (!transport->read_ready(request)) {
    detail::WaitList& readers = transport->begin_read_wait(request);
    co_await readers.wait();  // a cancellation leaves the bytes buffered
    request.scanned = 0;      // bytes may have gone from the front meanwhile
  }
  co_return transport->complete_read(request);
}

detail::ReadRequest request_of(detail::ReadRequest::Kind kind, std::size_t count = 0, std::string_view separator = {}) {
  detail::ReadRequest request;
  request.kind = kind;
  request.count = count;
  request.separator = separator;
  return request;
}

// The coroutine of lines(); it holds the stream while it lives.
AsyncGenerator<std::string> each_line(TransportRef transport) {
  for (;;) {
    std::string line = co_await perform(transport, request_of(detail::ReadRequest::Kind::line, 0, "\n"));
    if (line.empty()) co_return;
    co_yield std::move(line);
  }
}

}  // namespace

Task<std::string> StreamReader::read(std::ptrdiff_t n) {
  if (n < 0) return perform(transport_, request_of(detail::ReadRequest::Kind::all));
  return perform(transport_, request_of(detail::ReadRequest::Kind::some, static_cast<std::size_t>(n)));
}

Task<std::string> StreamReader::readline() {
  return perform(transport_, request_of(detail::ReadRequest::Kind::line, 0, "\n"));
}

Task<std::string> StreamReader::readuntil(std::string_view separator) {
  if (separator.empty()) throw ValueError("Separator should be at least one-byte string");
  return perform(transport_, request_of(detail::ReadRequest::Kind::until, 0, separator));
}

Task<std::string> StreamReader::readexactly(std::size_t n) {
  return perform(transport_, request_of(detail::ReadRequest::Kind::exactly, n));
}

AsyncGenerator<std::string> StreamReader::lines() const { return each_line(transport_); }

bool StreamReader::at_eof() const noexcept { return transport_->at_eof(); }
std::exception_ptr StreamReader::exception() const noexcept { return transport_->error(); }
std::size_t StreamReader::limit() const noexcept { return transport_->limit(); }

}  // namespace weft::aio
