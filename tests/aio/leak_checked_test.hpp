// A GoogleTest fixture base for weft::aio: fails the test if coroutine
// frames outlive it, and runs coroutines on a loop of the backend the
// parameter names (BackendTest) or the default one.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "weft/asyncio.hpp"

namespace weft::aio::testing {

template <class Base>
class LeakCheckedTest : public Base {
 protected:
  void SetUp() override { frames_at_start_ = detail::live_frames(); }
  void TearDown() override { EXPECT_EQ(detail::live_frames(), frames_at_start_) << "coroutine frames leaked"; }

 private:
  long frames_at_start_ = 0;
};

// Parameterized by the IO backend; instantiate with WEFT_AIO_BOTH_BACKENDS.
class BackendTest : public LeakCheckedTest<::testing::TestWithParam<io::Backend>> {
 protected:
  template <class T>
  T run(Task<T> coro) {
    return aio::run(std::move(coro), io::LoopOptions{.backend = GetParam()});
  }
};

}  // namespace weft::aio::testing

#define WEFT_AIO_BOTH_BACKENDS(Suite)                                                    \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite,                                              \
                           ::testing::Values(weft::io::Backend::epoll, weft::io::Backend::io_uring), \
                           [](const auto& info) { return std::string(weft::io::to_string(info.param)); })
