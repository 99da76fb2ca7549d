// src/aio/byte_buffer.hpp — the bytes a StreamReader holds: appended at the
// back as they arrive, taken from the front by reads. Taking is O(1) (the
// front only moves); the consumed front is dropped lazily, once it is at
// least half the storage, so appending stays amortised O(bytes).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace weft::aio::detail {

class ByteBuffer {
 public:
  std::size_t size() const noexcept { return bytes_.size() - head_; }
  bool empty() const noexcept { return size() == 0; }
  std::string_view view() const noexcept { return std::string_view(bytes_).substr(head_); }

  void append(std::span<const std::byte> bytes) {
    if (head_ > 0 && head_ >= bytes_.size() / 2) {
      bytes_.erase(0, head_);
      head_ = 0;
    }
    bytes_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }

  // Drops the first n <= size() bytes.
  void consume(std::size_t n) noexcept {
    head_ += n;
    if (head_ == bytes_.size()) clear();
  }

  // Removes the first n <= size() bytes and returns them (without copying
  // when they are the whole storage).
  std::string take(std::size_t n) {
    if (head_ == 0 && n == bytes_.size()) return std::exchange(bytes_, {});
    std::string taken(view().substr(0, n));
    consume(n);
    return taken;
  }

  void clear() noexcept {
    bytes_.clear();
    head_ = 0;
  }

 private:
  std::string bytes_;
  std::size_t head_ = 0;
};

}  // namespace weft::aio::detail
