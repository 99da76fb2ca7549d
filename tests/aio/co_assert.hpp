// GoogleTest's ASSERT_* macros `return`, which a coroutine may not: inside a
// coroutine, CO_ASSERT_TRUE records the failure and co_returns instead.
#pragma once

#include <gtest/gtest.h>

#define CO_ASSERT_TRUE(condition)                  \
  if (!(condition)) {                              \
    ADD_FAILURE() << "assertion failed: " #condition; \
    co_return;                                     \
  }
