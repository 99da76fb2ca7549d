// weft::net errors: Python's class for each errno, its message format, the std::system_error face.
#include <gtest/gtest.h>
#include <netdb.h>
#include <weft/errors.hpp>
#include <weft/net.hpp>

#include <cerrno>
#include <string>
#include <type_traits>
#include <typeinfo>

namespace {

namespace net = weft::net;

static_assert(std::is_base_of_v<std::system_error, net::OSError>);
static_assert(std::is_base_of_v<net::ConnectionError, net::BrokenPipeError>);
static_assert(std::is_base_of_v<net::ConnectionError, net::ConnectionAbortedError>);
static_assert(std::is_base_of_v<net::ConnectionError, net::ConnectionRefusedError>);
static_assert(std::is_base_of_v<net::ConnectionError, net::ConnectionResetError>);
static_assert(std::is_base_of_v<net::OSError, net::TimeoutError>);
static_assert(std::is_base_of_v<net::OSError, net::gaierror>);
static_assert(!std::is_base_of_v<weft::TimeoutError, net::TimeoutError>);
static_assert(std::is_nothrow_copy_constructible_v<net::OSError>);

// The dynamic type raise_os_error(err) throws, and its errno.
std::pair<const std::type_info*, int> raised(int err) {
  try {
    net::raise_os_error(err, "call");
  } catch (const net::OSError& e) {
    return {&typeid(e), e.code().value()};
  }
  return {nullptr, 0};
}

template <class Expected>
void expect_class(int err) {
  const auto [type, value] = raised(err);
  ASSERT_NE(type, nullptr);
  EXPECT_EQ(*type, typeid(Expected)) << "errno " << err << " raised " << type->name();
  EXPECT_EQ(value, err);
}

TEST(NetErrors, EachErrnoRaisesPythonsClass) {
  expect_class<net::BlockingIOError>(EAGAIN);
  expect_class<net::BlockingIOError>(EWOULDBLOCK);
  expect_class<net::BlockingIOError>(EINPROGRESS);
  expect_class<net::BlockingIOError>(EALREADY);
  expect_class<net::BrokenPipeError>(EPIPE);
  expect_class<net::BrokenPipeError>(ESHUTDOWN);
  expect_class<net::ConnectionAbortedError>(ECONNABORTED);
  expect_class<net::ConnectionRefusedError>(ECONNREFUSED);
  expect_class<net::ConnectionResetError>(ECONNRESET);
  expect_class<net::InterruptedError>(EINTR);
  expect_class<net::FileNotFoundError>(ENOENT);
  expect_class<net::PermissionError>(EACCES);
  expect_class<net::PermissionError>(EPERM);
  expect_class<net::FileExistsError>(EEXIST);
  expect_class<net::TimeoutError>(ETIMEDOUT);
  expect_class<net::OSError>(EBADF);
  expect_class<net::OSError>(EADDRINUSE);
  expect_class<net::OSError>(ENOTCONN);
}

TEST(NetErrors, MessageReadsAsPythonPrintsIt) {
  try {
    net::raise_os_error(ECONNREFUSED, "connect");
  } catch (const net::ConnectionRefusedError& e) {
    EXPECT_STREQ(
        e.what(),
        ("[Errno " + std::to_string(ECONNREFUSED) + "] Connection refused: connect").c_str());
  }
  const net::OSError bare(EBADF, "");
  EXPECT_EQ(std::string(bare.what()), "[Errno " + std::to_string(EBADF) + "] Bad file descriptor");
}

TEST(NetErrors, CodeIsTheGenericErrno) {
  const net::ConnectionResetError e(ECONNRESET, "recv");
  EXPECT_EQ(&e.code().category(), &std::generic_category());
  EXPECT_EQ(e.code(), std::errc::connection_reset);
  EXPECT_EQ(e.code().value(), ECONNRESET);
}

TEST(NetErrors, CaughtThroughEveryBase) {
  auto throw_refused = [] { net::raise_os_error(ECONNREFUSED, "connect"); };
  EXPECT_THROW(throw_refused(), net::ConnectionRefusedError);
  EXPECT_THROW(throw_refused(), net::ConnectionError);
  EXPECT_THROW(throw_refused(), net::OSError);
  EXPECT_THROW(throw_refused(), std::system_error);
  EXPECT_THROW(throw_refused(), std::runtime_error);
}

TEST(NetErrors, TimeoutErrorIsSocketTimeout) {
  const net::TimeoutError e;
  EXPECT_STREQ(e.what(), "timed out");
  EXPECT_EQ(e.code(), std::errc::timed_out);
  const std::runtime_error& as_runtime = e;  // an unambiguous base
  EXPECT_STREQ(as_runtime.what(), "timed out");
}

TEST(NetErrors, CopiesKeepTheMessage) {
  const net::BrokenPipeError original(EPIPE, "send");
  const net::BrokenPipeError copy =
      original;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_STREQ(copy.what(), original.what());
  EXPECT_EQ(copy.code(), original.code());
}

TEST(NetErrors, GaierrorHoldsTheEaiCode) {
  const net::gaierror e(EAI_NONAME, "example");
  EXPECT_EQ(e.code().value(), EAI_NONAME);
  EXPECT_EQ(&e.code().category(), &net::gai_category());
  EXPECT_STREQ(net::gai_category().name(), "getaddrinfo");
  EXPECT_EQ(std::string(e.what()), "[Errno " + std::to_string(EAI_NONAME) + "] " +
                                       ::gai_strerror(EAI_NONAME) + ": example");
}

}  // namespace
