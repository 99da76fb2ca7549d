// Exceptions crossing a process boundary: encode_exception / decode_exception.
#include <gtest/gtest.h>

#include <exception>
#include <new>
#include <stdexcept>
#include <string>

#include "weft/codec.hpp"
#include "weft/errors.hpp"
#include "weft/mp/remote_error.hpp"
#include "weft/queue/errors.hpp"

namespace weft::mp {
namespace {

struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct RegisteredError : std::runtime_error {
  explicit RegisteredError(const std::string& text) : std::runtime_error(text) {}
};

// Encodes the exception `thrower` throws, sends it through the codec and
// rebuilds it, as a pool or a manager does.
template <class F>
std::exception_ptr round_trip(F thrower) {
  try {
    thrower();
  } catch (...) {
    auto bytes = codec::encode(encode_exception(std::current_exception()));
    return decode_exception(codec::decode<detail::EncodedException>(bytes));
  }
  ADD_FAILURE() << "nothing thrown";
  return nullptr;
}

TEST(RemoteError, StandardAndWeftTypesComeBackAsThemselves) {
  EXPECT_THROW(std::rethrow_exception(round_trip([] { throw std::runtime_error("r"); })), std::runtime_error);
  try {
    std::rethrow_exception(round_trip([] { throw ValueError("bad value"); }));
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(), "bad value");
  }
  EXPECT_THROW(std::rethrow_exception(round_trip([] { throw KeyError("k"); })), KeyError);
  EXPECT_THROW(std::rethrow_exception(round_trip([] { throw IndexError("i"); })), IndexError);
  EXPECT_THROW(std::rethrow_exception(round_trip([] { throw Empty(); })), Empty);
  EXPECT_THROW(std::rethrow_exception(round_trip([] { throw std::bad_alloc(); })), std::bad_alloc);
  EXPECT_THROW(std::rethrow_exception(round_trip([] { throw CancelledError(); })), CancelledError);
}

TEST(RemoteError, AnUnregisteredTypeBecomesRemoteErrorWithItsName) {
  try {
    std::rethrow_exception(round_trip([] { throw ParseError("line 3"); }));
    FAIL();
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.type_name(), "weft::mp::(anonymous namespace)::ParseError");
    EXPECT_EQ(e.message(), "line 3");
    EXPECT_EQ(std::string(e.what()), "weft::mp::(anonymous namespace)::ParseError: line 3");
  }
}

TEST(RemoteError, ANonExceptionThrowKeepsItsTypeName) {
  try {
    std::rethrow_exception(round_trip([] { throw 42; }));
    FAIL();
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.type_name(), "int");
    EXPECT_EQ(e.message(), "");
  }
}

TEST(RemoteError, ARegisteredUserTypeComesBackAsItself) {
  register_exception<RegisteredError>("test.RegisteredError");
  try {
    std::rethrow_exception(round_trip([] { throw RegisteredError("mine"); }));
    FAIL();
  } catch (const RegisteredError& e) {
    EXPECT_STREQ(e.what(), "mine");
  }
}

TEST(RemoteError, PassingARemoteErrorOnKeepsTheOriginalType) {
  auto again = round_trip([] { throw RemoteError("app::Oops", "deep"); });
  try {
    std::rethrow_exception(again);
    FAIL();
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.type_name(), "app::Oops");
    EXPECT_EQ(e.message(), "deep");
  }
}

TEST(WorkerLostError, NamesThePidAndTheSignal) {
  WorkerLostError killed(4242, -9);
  EXPECT_EQ(killed.pid(), 4242);
  EXPECT_EQ(killed.signal(), 9);
  EXPECT_STREQ(killed.what(), "worker 4242 was killed by SIGKILL (signal 9) while running the task");
  WorkerLostError exited(77, 3);
  EXPECT_EQ(exited.signal(), 0);
  EXPECT_STREQ(exited.what(), "worker 77 exited with code 3 while running the task");
}

}  // namespace
}  // namespace weft::mp
