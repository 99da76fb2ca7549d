// weft/io/buffer_pool.hpp — a pool of equal receive buffers that multishot
// receives fill: the loop picks a free buffer as data arrives (io_uring's
// provided buffers; a free list on the epoll backend), so thousands of idle
// connections need no buffer of their own.
//
// Created by Loop::create_buffer_pool and owned by the loop. A result with
// kBuffer hands buffer buffer_id(flags) to the handler; it stays the
// handler's until release() gives it back. When every buffer is out, a
// multishot receive ends with -ENOBUFS; release buffers and start it again
// (started again at once on an empty pool, it ends with -ENOBUFS at once,
// iteration after iteration).
// Not thread-safe: only the loop's thread uses it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace weft::io {

class BufferPool {
 public:
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;
  virtual ~BufferPool() = default;

  std::uint16_t group() const noexcept { return group_; }
  std::uint16_t count() const noexcept { return count_; }
  std::uint32_t buffer_size() const noexcept { return size_; }

  // Buffer `id`'s bytes. Never blocks; id must be < count().
  std::span<std::byte> buffer(std::uint16_t id) const noexcept {
    return {storage_.get() + std::size_t{id} * size_, size_};
  }
  // Gives buffer `id` back to the pool. Never blocks, never throws.
  virtual void release(std::uint16_t id) noexcept = 0;

 protected:
  BufferPool(std::uint16_t group, std::uint16_t count, std::uint32_t size)
      : group_(group), count_(count), size_(size),
        storage_(new std::byte[std::size_t{count} * size]) {}

 private:
  std::uint16_t group_;
  std::uint16_t count_;
  std::uint32_t size_;
  std::unique_ptr<std::byte[]> storage_;
};

}  // namespace weft::io
