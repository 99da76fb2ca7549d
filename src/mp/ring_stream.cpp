// RingQueue: items larger than the ring, streamed in chunks.
//
// A stream is the records kFirst, kMiddle..., kLast, contiguous in the ring:
// its producer holds the writer lock from before the first chunk to after
// the last, and no other record is committed while stream_open is set. The
// item counts once from its first chunk's commit (so maxsize holds) and as
// a task from its last chunk's. Its consumer holds the reader lock while it
// collects the chunks, so no other consumer takes one.
//
// A stream ends without its last chunk when its producer times out or dies.
// It is then taken back: stream_open is cleared and the tail returns to the
// stream's start, or to the head if a consumer already took chunks. That
// consumer sees an empty ring with no stream open, or a record that starts
// a new item, and discards what it collected. A stream whose consumer died
// leaves chunks at the head with the reader lock free or owner-dead; the
// next consumer drains them.
#include <algorithm>
#include <chrono>
#include <string>

#include "ring_layout.hpp"
#include "weft/mp/detail/ring_queue.hpp"

namespace weft::mp::detail {
namespace {

using weft::detail::Clock;
using weft::detail::Deadline;
using Locked = RobustMutex::Locked;

// How often a consumer waiting for a stream's next chunk checks that its
// producer is still alive (a dead producer wakes nobody).
constexpr auto kWriterCheck = std::chrono::milliseconds(20);

}  // namespace

bool RingQueue::put_stream(std::string_view bytes, bool block, const Deadline& deadline) {
  RingLayout& layout = *layout_;
  // A non-blocking put may write a stream only while it need not wait.
  const Deadline until = block ? deadline : Deadline(Clock::now());
  const Locked locked = block ? layout.writer.lock(until) : layout.writer.try_lock();
  if (locked == Locked::no) return false;
  const Release writing(layout.writer);
  if (locked == Locked::owner_died) abandon_stream();

  const RingBytes ring(ring_, layout.capacity);
  const std::uint64_t smallest_chunk = layout.capacity / 4;
  std::size_t offset = 0;
  while (true) {
    Guard guard(layout, std::nullopt);
    RingState s = layout.state.load();
    const bool first = offset == 0;
    const std::uint64_t remaining = bytes.size() - offset;
    const std::uint64_t wanted = record_size(std::min(remaining, smallest_chunk));
    if ((first && !layout.below_maxsize(s)) || layout.free_bytes(s) < wanted) {
      if (weft::detail::expired(until)) {
        if (first) return false;
        guard.unlock();
        abandon_stream();
        return false;
      }
      guard.sleep(layout.not_full, until);
      continue;
    }
    const std::uint64_t fits = (layout.free_bytes(s) - sizeof(RecordHeader)) & ~std::uint64_t{7};
    const std::uint64_t chunk = std::min(remaining, fits);
    const bool last = chunk == remaining;
    const std::uint64_t at = s.tail;
    s.tail += ring.put(at, first ? kFirst : last ? kLast : kMiddle, bytes.substr(offset, chunk));
    if (first) {
      ++s.items;
      s.stream_start = at;
    }
    s.stream_open = last ? 0 : 1;
    if (last && layout.kind == QueueKind::joinable) ++s.unfinished;
    guard.commit_and_notify(s, layout.not_empty);
    if (last) return true;
    offset += chunk;
  }
}

bool RingQueue::receive_rest(std::string& out, bool discard) {
  RingLayout& layout = *layout_;
  const RingBytes ring(ring_, layout.capacity);
  while (true) {
    Guard guard(layout, std::nullopt);
    RingState s = layout.state.load();
    if (s.head == s.tail) {
      if (s.stream_open == 0) return false;
      if (!guard.sleep(layout.not_empty, Clock::now() + kWriterCheck)) check_writer_alive();
      continue;
    }
    const RecordHeader header = ring.header(s.head);
    if (header.kind != kMiddle && header.kind != kLast) return false;
    if (!discard) {
      const std::size_t at = out.size();
      out.resize(at + header.length);
      ring.read(s.head + sizeof(RecordHeader), out.data() + at, header.length);
    }
    s.head += record_size(header.length);
    guard.commit_and_notify(s, layout.not_full);
    if (header.kind == kLast) return true;
  }
}

bool RingQueue::wait_for_writer(bool block, const Deadline& deadline) {
  const Locked locked = block ? layout_->writer.lock(deadline) : layout_->writer.try_lock();
  if (locked == Locked::no) return false;
  const Release release(layout_->writer);
  if (locked == Locked::owner_died) abandon_stream();
  return true;
}

bool RingQueue::wait_for_reader(bool block, const Deadline& deadline) {
  RingLayout& layout = *layout_;
  const Locked locked = block ? layout.reader.lock(deadline) : layout.reader.try_lock();
  if (locked == Locked::no) return false;
  const Release release(layout.reader);
  // Whoever held the reader lock finished its stream or died; chunks still
  // at the head belong to nobody.
  Guard guard(layout, std::nullopt);
  const RingState s = layout.state.load();
  if (s.head == s.tail) return true;
  const std::uint32_t kind = RingBytes(ring_, layout.capacity).header(s.head).kind;
  guard.unlock();
  if (kind == kMiddle || kind == kLast) {
    std::string ignored;
    receive_rest(ignored, true);
  }
  return true;
}

void RingQueue::check_writer_alive() {
  const Locked locked = layout_->writer.try_lock();
  if (locked == Locked::no) return;
  const Release release(layout_->writer);
  if (locked == Locked::owner_died) abandon_stream();
}

void RingQueue::abandon_stream() {
  RingLayout& layout = *layout_;
  Guard guard(layout, std::nullopt);
  RingState s = layout.state.load();
  if (s.stream_open == 0) return;
  // The stream's chunks are the newest records: drop those not yet taken.
  if (s.head <= s.stream_start) --s.items;
  s.tail = std::max(s.head, s.stream_start);
  s.stream_open = 0;
  guard.commit_and_notify(s, layout.not_empty);
}

}  // namespace weft::mp::detail
