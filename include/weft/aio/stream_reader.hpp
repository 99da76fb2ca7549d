// weft/aio/stream_reader.hpp — aio::StreamReader, the reading half of an
// asyncio stream (Python's asyncio.StreamReader), and the errors its reads
// raise.
//
// A StreamReader comes from open_connection() or, in a server's handler,
// from start_server() (weft/aio/streams.hpp). The connection receives on
// its own: every arrival goes into the reader's buffer from the loop's
// completion handler, whether or not a task is reading. So a read that is
// cancelled loses nothing — the bytes stay buffered for the next read —
// and a read that finds enough bytes buffered completes without
// suspending. While the buffer holds more than twice the limit and no read
// waits for more, the connection stops receiving (no receive is posted, and
// the peer's sends back up: Python's flow control); it resumes once reads
// bring the buffer down to the limit.
//
// Every read is a coroutine, as in Python: `std::string line = co_await
// reader.readline();` — or create_task(reader.readline()),
// wait_for(reader.read(100), 5s). Awaited, it suspends the task until the
// read can complete (the connection wakes it only then, not at every
// arrival; if another task's read takes the bytes before the woken one
// runs, it waits again) and throws CancelledError if the task is cancelled
// meanwhile (the bytes stay in the buffer). A read holds its stream: the coroutine
// may outlive the StreamReader it came from. After the connection failed —
// the peer reset it — every read throws that connection's error (a
// net::ConnectionResetError, say), as Python's do. Only one task may wait
// on a reader at a time (RuntimeError otherwise).
//
// Copies of a StreamReader refer to the same stream, as Python objects do;
// the connection closes once the last StreamReader and StreamWriter of it
// are gone. A default-constructed StreamReader refers to none and may only
// be assigned to.
//
// Not thread-safe: a stream belongs to its loop's thread, and must not
// outlive that loop (the tasks of asyncio.run drop theirs as they end).
#pragma once

#include <cstddef>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "weft/aio/async_generator.hpp"
#include "weft/aio/detail/counted_ref.hpp"
#include "weft/aio/task.hpp"
#include "weft/errors.hpp"

namespace weft::aio {

// The buffer limit of a stream unless told otherwise: 64 KiB, Python's.
// It bounds what readuntil()/readline() look through, and flow control
// (above).
inline constexpr std::size_t kDefaultStreamLimit = 64 * 1024;

// The stream ended before the read could complete: readexactly() found
// fewer than n bytes, readuntil() no separator. partial() holds the bytes
// read (they are no longer in the buffer). Python's
// asyncio.IncompleteReadError, an EOFError.
class IncompleteReadError : public weft::EOFError {
 public:
  // `expected` is nullopt for readuntil() (Python's None).
  IncompleteReadError(std::string partial, std::optional<std::size_t> expected);
  const std::string& partial() const noexcept { return partial_; }
  std::optional<std::size_t> expected() const noexcept { return expected_; }

 private:
  std::string partial_;
  std::optional<std::size_t> expected_;
};

// readuntil() met no separator within the limit, or one farther than the
// limit. The bytes stay in the buffer; consumed() says how many may be
// taken without finding the separator. Python's asyncio.LimitOverrunError.
class LimitOverrunError : public std::runtime_error {
 public:
  LimitOverrunError(const std::string& message, std::size_t consumed)
      : std::runtime_error(message), consumed_(consumed) {}
  std::size_t consumed() const noexcept { return consumed_; }

 private:
  std::size_t consumed_;
};

namespace detail {
class StreamTransport;
void counted_add_ref(StreamTransport* transport) noexcept;
void counted_release(StreamTransport* transport) noexcept;
}  // namespace detail

class StreamReader {
 public:
  StreamReader() noexcept = default;
  explicit StreamReader(detail::StreamTransport* transport) noexcept : transport_(transport) {}

  // Up to n bytes, as soon as any are buffered; "" at the end of the stream
  // (and for n == 0). n < 0 reads everything until the end of the stream.
  // Suspends while the buffer is empty and the stream has not ended.
  Task<std::string> read(std::ptrdiff_t n = -1);
  // One line, "\n" included; at the end of the stream, what is left ("" if
  // nothing). A line longer than the limit throws ValueError and is
  // dropped from the buffer (up to its "\n" if that arrived).
  Task<std::string> readline();
  // Bytes up to and including `separator`. Throws ValueError for an empty
  // separator, IncompleteReadError (with what was left, taken from the
  // buffer) if the stream ends first, LimitOverrunError if the separator is
  // not within the limit (the bytes stay buffered).
  Task<std::string> readuntil(std::string_view separator = "\n");
  // Exactly n bytes. Throws IncompleteReadError (with what was left) if
  // the stream ends first.
  Task<std::string> readexactly(std::size_t n);

  // Python's `async for line in reader`: an asynchronous generator of the
  // stream's lines, each as readline() reads it, "\n" included, ending
  // (StopAsyncIteration, or nullopt from try_anext()) at the end of the
  // stream, after a last line without "\n" if there is one:
  //
  //   auto lines = reader.lines();
  //   while (auto line = co_await lines.try_anext()) ...
  //
  // Lazy: nothing is read until the first anext(). It holds its stream, so
  // it may outlive this StreamReader. It throws what readline() throws,
  // CancelledError included (the bytes stay buffered); unlike Python's
  // reader, which may be iterated again after a failed __anext__(), the
  // generator has then ended — call lines() again to read on.
  AsyncGenerator<std::string> lines() const;

  // True once the stream has ended and the buffer is empty. Never blocks.
  bool at_eof() const noexcept;
  // The error the connection failed with, or null. Never blocks.
  std::exception_ptr exception() const noexcept;
  // The buffer limit this stream was opened with.
  std::size_t limit() const noexcept;

  explicit operator bool() const noexcept { return static_cast<bool>(transport_); }

 private:
  detail::CountedRef<detail::StreamTransport> transport_;
};

}  // namespace weft::aio
