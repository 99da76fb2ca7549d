// Helpers of the multiprocessing queue tests: forked children that are always reaped (Child, which
// can tell when one sleeps in the kernel) and shared counters the children report through.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "mp/child_process.hpp"
#include "threading/test_support.hpp"
#include "weft/mp/detail/shared_block.hpp"

namespace weft::test {

// An array of counters in shared memory that forked children update.
class SharedCounters {
 public:
  explicit SharedCounters(std::size_t count)
      : block_(mp::detail::SharedBlock::create(count * sizeof(std::atomic<std::uint32_t>),
                                               "test-counters")),
        count_(count) {}

  std::atomic<std::uint32_t>& operator[](std::size_t i) const {
    return block_->as<std::atomic<std::uint32_t>>()[i];
  }
  std::size_t size() const { return count_; }

 private:
  std::shared_ptr<mp::detail::SharedBlock> block_;
  std::size_t count_;
};

}  // namespace weft::test
