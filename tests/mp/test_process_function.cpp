// Functions by reference: weft/codec/function.hpp.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <tuple>

#include "weft/codec.hpp"
#include "weft/codec/function.hpp"

namespace {

using weft::codec::DecodeError;
using weft::codec::EncodeError;
using weft::codec::FunctionRef;

int twice(int x) { return 2 * x; }
int thrice(int x) { return 3 * x; }
void nothing() noexcept {}
int data_word = 42;

using IntFn = int (*)(int);

static_assert(weft::codec::FunctionReference<decltype(twice)>);
static_assert(weft::codec::FunctionReference<IntFn>);
static_assert(weft::codec::FunctionReference<decltype([](int x) { return x; })>);
static_assert(!weft::codec::FunctionReference<decltype([n = 1](int x) { return x + n; })>);
static_assert(!weft::codec::FunctionReference<decltype([](auto x) { return x; })>);
static_assert(!weft::codec::FunctionReference<int>);

// A function pointer decodes on its own inside a one-element tuple (the
// codec refuses a bare pointer type as the top-level T).
template <class Fn>
Fn decode_fn(const std::string& bytes) {
  return std::get<0>(weft::codec::decode<std::tuple<Fn>>(bytes));
}

std::string encode_ref(const FunctionRef& ref) { return weft::codec::encode(std::tuple(ref)); }

TEST(FunctionRef, FreeFunctionRoundTrips) {
  const std::string bytes = weft::codec::encode(std::tuple(&twice));
  const IntFn fn = decode_fn<IntFn>(bytes);
  EXPECT_EQ(fn, &twice);
  EXPECT_EQ(fn(21), 42);
}

TEST(FunctionRef, CaptureLessLambdaRoundTrips) {
  const auto lambda = [](int x) { return x + 1; };
  const auto by_plus = weft::codec::encode(std::tuple(+lambda));
  const auto by_helper = weft::codec::encode(std::tuple(weft::codec::function_pointer(lambda)));
  EXPECT_EQ(by_plus, by_helper);
  EXPECT_EQ(decode_fn<IntFn>(by_plus)(1), 2);
}

TEST(FunctionRef, NoexceptFunctionRoundTrips) {
  using Fn = void (*)() noexcept;
  const Fn fn = decode_fn<Fn>(weft::codec::encode(std::tuple(&nothing)));
  EXPECT_EQ(fn, &nothing);
}

TEST(FunctionRef, InsideAValue) {
  const auto bytes = weft::codec::encode(std::tuple(std::string("x"), &twice, 7));
  const auto [s, fn, n] = weft::codec::decode<std::tuple<std::string, IntFn, int>>(bytes);
  EXPECT_EQ(s, "x");
  EXPECT_EQ(fn(n), 14);
}

struct Job {
  IntFn fn = nullptr;
  int arg = 0;
  WEFT_CODEC(fn, arg)
};

TEST(FunctionRef, AsAStructField) {
  const Job job = weft::codec::decode<Job>(weft::codec::encode(Job{&twice, 21}));
  EXPECT_EQ(job.fn, &twice);
  EXPECT_EQ(job.fn(job.arg), 42);
}

TEST(FunctionRef, DifferentFunctionsHaveDifferentOffsets) {
  const FunctionRef a = weft::codec::function_ref(&twice);
  const FunctionRef b = weft::codec::function_ref(&thrice);
  EXPECT_EQ(a.module, b.module);
  EXPECT_NE(a.offset, b.offset);
  EXPECT_EQ(a.signature, b.signature);
  EXPECT_TRUE(a.module.starts_with("build-id:") || a.module.starts_with("file:")) << a.module;
}

TEST(FunctionRef, WrongSignatureIsRefused) {
  const std::string bytes = weft::codec::encode(std::tuple(&twice));
  EXPECT_THROW(decode_fn<void (*)()>(bytes), DecodeError);
  EXPECT_THROW(decode_fn<int (*)(long)>(bytes), DecodeError);
}

TEST(FunctionRef, OffsetOutsideExecutableSegmentsIsRefused) {
  FunctionRef ref = weft::codec::function_ref(&twice);
  ref.offset = 1ULL << 60;
  EXPECT_THROW(decode_fn<IntFn>(encode_ref(ref)), DecodeError);
  // The offset of a data word of the same module: mapped, but not code.
  ref.offset = weft::codec::function_ref(&twice).offset +
               static_cast<std::uint64_t>(reinterpret_cast<const char*>(&data_word) -
                                          reinterpret_cast<const char*>(&twice));
  EXPECT_THROW(decode_fn<IntFn>(encode_ref(ref)), DecodeError);
}

TEST(FunctionRef, OtherBinaryIsRefused) {
  FunctionRef ref = weft::codec::function_ref(&twice);
  ref.module = "build-id:00112233445566778899aabbccddeeff00112233";
  EXPECT_THROW(decode_fn<IntFn>(encode_ref(ref)), DecodeError);
  ref.module = "file:/nonexistent/program:1234:5678";
  EXPECT_THROW(decode_fn<IntFn>(encode_ref(ref)), DecodeError);
}

TEST(FunctionRef, MalformedReferenceIsRefused) {
  EXPECT_THROW(decode_fn<IntFn>(weft::codec::encode(std::tuple(17))), DecodeError);
  EXPECT_THROW(decode_fn<IntFn>(weft::codec::encode(std::tuple(std::tuple(1, 2, 3)))),
               DecodeError);
  EXPECT_THROW(decode_fn<IntFn>(weft::codec::encode(std::tuple(std::tuple(std::string("m"))))),
               DecodeError);
}

TEST(FunctionRef, NullOrForeignPointerCannotBeEncoded) {
  IntFn null = nullptr;
  EXPECT_THROW(weft::codec::encode(std::tuple(null)), EncodeError);
  // A heap address is in no module's executable segment.
  auto* heap = new int(0);
  EXPECT_THROW(weft::codec::detail::locate_function(heap, 0), EncodeError);
  delete heap;
}

TEST(FunctionRef, SharedLibraryFunctionRoundTrips) {
  using Strlen = std::size_t (*)(const char*);
  const Strlen fn = &std::strlen;
  const FunctionRef ref = weft::codec::function_ref(fn);
  EXPECT_NE(ref.module, weft::codec::function_ref(&twice).module);
  EXPECT_EQ(decode_fn<Strlen>(weft::codec::encode(std::tuple(fn)))("four"), 4u);
}

}  // namespace
