#include "weft/codec.hpp"
#include "weft/codec/function.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

namespace codec = weft::codec;
using namespace std::string_literals;

namespace {

template <typename T>
T round_trip(const T& value) {
  return codec::decode<T>(codec::encode(value));
}

template <typename T>
void expect_round_trip(const T& value) {
  EXPECT_EQ(round_trip(value), value);
}

std::string bytes_of(std::initializer_list<unsigned> values) {
  std::string out;
  for (unsigned v : values) out.push_back(static_cast<char>(v));
  return out;
}

codec::Bytes raw(std::string_view text) {
  codec::Bytes out;
  for (char c : text) out.push_back(static_cast<std::byte>(c));
  return out;
}

enum class Color : std::uint8_t { red = 1, green = 2, blue = 200 };
enum Plain { plain_a = -5, plain_b = 7 };

struct Point {
  int x = 0;
  int y = 0;
  WEFT_CODEC(x, y)
  bool operator==(const Point&) const = default;
};

class Account {
 public:
  Account() = default;
  Account(std::string owner, std::int64_t cents) : owner_(std::move(owner)), cents_(cents) {}
  bool operator==(const Account&) const = default;

 private:
  std::string owner_;
  std::int64_t cents_ = 0;
  WEFT_CODEC(owner_, cents_)
};

struct Order {
  std::string item;
  std::vector<Point> path;
  std::optional<Account> payer;
  std::map<std::string, double> extras;
  WEFT_CODEC(item, path, payer, extras)
  bool operator==(const Order&) const = default;
};

struct Tree {
  int value = 0;
  std::vector<Tree> children;
  WEFT_CODEC(value, children)
  bool operator==(const Tree&) const = default;
};

}  // namespace

namespace thirdparty {
struct Vec3 {
  double x, y, z;
  bool operator==(const Vec3&) const = default;
};
WEFT_CODEC_EXTERNAL(Vec3, x, y, z)
}  // namespace thirdparty

namespace {

// ---- round trips ----------------------------------------------------------

TEST(CodecRoundTrip, Bool) {
  expect_round_trip(true);
  expect_round_trip(false);
}

template <typename T>
void expect_limits_round_trip() {
  expect_round_trip<T>(std::numeric_limits<T>::min());
  expect_round_trip<T>(std::numeric_limits<T>::max());
  expect_round_trip<T>(T{0});
  expect_round_trip<T>(T{1});
}

TEST(CodecRoundTrip, EveryIntegerTypeAtItsLimits) {
  expect_limits_round_trip<char>();
  expect_limits_round_trip<signed char>();
  expect_limits_round_trip<unsigned char>();
  expect_limits_round_trip<short>();
  expect_limits_round_trip<unsigned short>();
  expect_limits_round_trip<int>();
  expect_limits_round_trip<unsigned>();
  expect_limits_round_trip<long>();
  expect_limits_round_trip<unsigned long>();
  expect_limits_round_trip<long long>();
  expect_limits_round_trip<unsigned long long>();
  expect_limits_round_trip<std::int8_t>();
  expect_limits_round_trip<std::uint64_t>();
  for (std::int64_t v : {-33LL, -32LL, -1LL, 127LL, 128LL, 255LL, 256LL, 65535LL, 65536LL,
                         -129LL, -32769LL, 4294967296LL, -2147483649LL}) {
    expect_round_trip(v);
  }
}

TEST(CodecRoundTrip, FloatingPoint) {
  expect_round_trip(1.5f);
  EXPECT_TRUE(std::signbit(round_trip(-0.0)));
  EXPECT_TRUE(std::signbit(round_trip(-0.0f)));
  expect_round_trip(18446744073709551616.0);  // 2^64: no stray conversion to an integer
  expect_round_trip(-9223372036854775808.0);
  expect_round_trip(std::numeric_limits<double>::max());
  expect_round_trip(std::numeric_limits<double>::denorm_min());
  expect_round_trip(std::numeric_limits<double>::infinity());
  expect_round_trip(-std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(round_trip(std::numeric_limits<double>::quiet_NaN())));
  EXPECT_EQ(codec::decode<double>(codec::encode(3)), 3.0);  // ints read as floats
  EXPECT_EQ(codec::decode<float>(codec::encode(-7)), -7.0f);
}

TEST(CodecRoundTrip, StringsAcrossEveryLengthHeader) {
  for (std::size_t n : {0, 1, 31, 32, 255, 256, 65535, 65536, 100000}) {
    expect_round_trip(std::string(n, 'x'));
  }
  expect_round_trip("nul\0inside"s);
  expect_round_trip("\xff\xfe not utf-8"s);
  EXPECT_EQ(codec::decode<std::string>(codec::encode(std::string_view("view"))), "view");
  EXPECT_EQ(codec::decode<std::string>(codec::encode("literal")), "literal");
}

TEST(CodecRoundTrip, BytesAcrossEveryLengthHeader) {
  for (std::size_t n : {0, 1, 255, 256, 65535, 65536}) {
    expect_round_trip(codec::Bytes(n, std::byte{0xab}));
  }
  const codec::Bytes data = raw("abc");
  const std::span<const std::byte> view(data);
  EXPECT_EQ(codec::decode<codec::Bytes>(codec::encode(view)), data);
}

TEST(CodecRoundTrip, SequenceContainers) {
  expect_round_trip(std::vector<int>{});
  expect_round_trip(std::vector<int>{1, -2, 3});
  expect_round_trip(std::vector<std::string>{"a", "", "ccc"});
  expect_round_trip(std::vector<bool>{true, false, true});
  expect_round_trip(std::array<int, 3>{4, 5, 6});
  expect_round_trip(std::deque<double>{1.5, 2.5});
  expect_round_trip(std::list<std::string>{"x", "y"});
  std::vector<int> big(70000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<int>(i);
  expect_round_trip(big);
}

TEST(CodecRoundTrip, AssociativeContainers) {
  expect_round_trip(std::map<std::string, int>{{"a", 1}, {"b", 2}});
  expect_round_trip(std::unordered_map<int, std::string>{{1, "one"}, {2, "two"}});
  expect_round_trip(std::set<int>{3, 1, 2});
  expect_round_trip(std::unordered_set<std::string>{"p", "q"});
  expect_round_trip(std::map<int, std::vector<std::map<std::string, bool>>>{
      {1, {{{"t", true}}, {}}}, {2, {}}});
}

TEST(CodecRoundTrip, PairTupleOptional) {
  expect_round_trip(std::pair<int, std::string>{1, "x"});
  expect_round_trip(std::tuple<>{});
  expect_round_trip(std::tuple<int, std::string, bool, double>{42, "hello", true, 0.25});
  expect_round_trip(std::optional<int>{});
  expect_round_trip(std::optional<int>{0});
  expect_round_trip(std::vector<std::optional<std::string>>{std::nullopt, "x"});
}

TEST(CodecRoundTrip, Variant) {
  using V = std::variant<std::monostate, int, std::string, std::vector<double>>;
  expect_round_trip(V{});
  expect_round_trip(V{7});
  expect_round_trip(V{"seven"s});
  expect_round_trip(V{std::vector<double>{7.0}});
  // The same type twice: the index, not the value, picks the alternative.
  using Twice = std::variant<int, int>;
  EXPECT_EQ(round_trip(Twice(std::in_place_index<1>, 3)).index(), 1u);
  expect_round_trip(std::monostate{});
}

TEST(CodecRoundTrip, EnumsAndDurations) {
  expect_round_trip(Color::blue);
  expect_round_trip(plain_a);
  expect_round_trip(plain_b);
  expect_round_trip(std::chrono::milliseconds(-1500));
  expect_round_trip(std::chrono::nanoseconds(std::numeric_limits<std::int64_t>::max()));
  expect_round_trip(std::chrono::duration<double>(0.125));
}

// No initialisers: the decoder alone decides what every cell holds.
struct Cells {
  std::array<std::uint64_t, 8> cells;
  WEFT_CODEC(cells)
};

struct HoldsAView {
  std::string_view name;
  WEFT_CODEC(name)
};

// decode<T> refuses a T that would point into the input or the scratch zone,
// however deep inside it.
static_assert(!codec::detail::owns_its_data<std::string_view>);
static_assert(!codec::detail::owns_its_data<std::map<std::string, msgpack::object>>);
static_assert(!codec::detail::owns_its_data<std::vector<std::string_view>>);
static_assert(!codec::detail::owns_its_data<std::optional<std::span<const std::byte>>>);
static_assert(!codec::detail::owns_its_data<std::variant<int, std::pair<int, std::string_view>>>);
static_assert(!codec::detail::owns_its_data<std::tuple<int, HoldsAView>>);
static_assert(codec::detail::owns_its_data<Tree>);
static_assert(codec::detail::owns_its_data<std::map<std::string, std::vector<codec::Bytes>>>);

// Fills the stack below the caller with a pattern, so that anything a
// decoder leaves indeterminate shows as not zero.
[[gnu::noinline]] void dirty_the_stack() {
  volatile unsigned char junk[16384];
  for (auto& byte : junk) byte = 0xa5;
}

TEST(CodecRoundTrip, AShortArrayLeavesTheRestOfAStdArrayZero) {
  using Array = std::array<std::uint64_t, 8>;
  const std::string seven = codec::encode(std::vector<std::uint64_t>{7});
  const Array expected{7};
  dirty_the_stack();
  EXPECT_EQ(codec::decode<Array>(seven), expected);
  dirty_the_stack();
  EXPECT_EQ(codec::decode<std::optional<Array>>(seven), expected);
  dirty_the_stack();
  EXPECT_EQ(codec::decode<Cells>(codec::encode(std::tuple(std::vector<std::uint64_t>{7}))).cells, expected);
  dirty_the_stack();
  const auto variant = codec::decode<std::variant<int, Array>>(codec::encode(std::tuple(1, std::vector<int>{7})));
  EXPECT_EQ(std::get<1>(variant), expected);
  // msgpack-cxx default-initialises set elements, map keys and the members
  // of a pair it decodes through as<>.
  dirty_the_stack();
  EXPECT_EQ(*codec::decode<std::set<Array>>(codec::encode(std::vector<std::vector<std::uint64_t>>{{7}})).begin(),
            expected);
  dirty_the_stack();
  const auto map = codec::decode<std::map<Array, int>>(codec::encode(std::map<std::vector<std::uint64_t>, int>{{{7}, 1}}));
  EXPECT_EQ(map.begin()->first, expected);
  dirty_the_stack();
  using Pair = std::pair<Array, std::variant<int>>;
  EXPECT_EQ(codec::decode<Pair>(codec::encode(std::tuple(std::vector<std::uint64_t>{7}, std::tuple(0, 1)))).first,
            expected);
}

TEST(CodecRoundTrip, Structs) {
  expect_round_trip(Point{3, -4});
  expect_round_trip(Account{"ada", 1234});
  expect_round_trip(Order{"tea", {{1, 2}, {3, 4}}, Account{"bob", 5}, {{"sugar", 1.0}}});
  expect_round_trip(Order{});
  expect_round_trip(thirdparty::Vec3{1.0, 2.0, 3.0});
  expect_round_trip(std::vector<thirdparty::Vec3>{{1, 2, 3}, {4, 5, 6}});
  expect_round_trip(Tree{1, {Tree{2, {}}, Tree{3, {Tree{4, {}}}}}});
}

// ---- the wire format ------------------------------------------------------

TEST(CodecEncodeError, LongerThanMessagePackAllows) {
  // Reserved, never readable: the length is refused before a byte is read.
  const std::size_t size = (std::size_t{1} << 32) + 1;
  void* memory = ::mmap(nullptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  ASSERT_NE(memory, MAP_FAILED);
  std::string out;
  EXPECT_THROW(codec::encode_into(out, std::string_view(static_cast<const char*>(memory), size)),
               codec::EncodeError);
  EXPECT_THROW(codec::encode(std::span<const std::byte>(static_cast<const std::byte*>(memory), size)),
               codec::EncodeError);
  ::munmap(memory, size);
}

TEST(CodecWire, MatchesWhatPythonMsgpackWrites) {
  EXPECT_EQ(codec::encode(1), bytes_of({0x01}));
  EXPECT_EQ(codec::encode(-1), bytes_of({0xff}));
  EXPECT_EQ(codec::encode(true), bytes_of({0xc3}));
  EXPECT_EQ(codec::encode(std::optional<int>{}), bytes_of({0xc0}));
  EXPECT_EQ(codec::encode("a"s), bytes_of({0xa1, 'a'}));
  EXPECT_EQ(codec::encode(raw("a")), bytes_of({0xc4, 0x01, 'a'}));
  EXPECT_EQ(codec::encode(std::map<std::string, int>{{"a", 1}}), bytes_of({0x81, 0xa1, 'a', 1}));
  EXPECT_EQ(codec::encode(std::tuple<int, bool>{2, false}), bytes_of({0x92, 0x02, 0xc2}));
  EXPECT_EQ(codec::encode(1.0), bytes_of({0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(codec::encode(2.0f), bytes_of({0xca, 0x40, 0, 0, 0}));
}

TEST(CodecWire, VariantIsIndexThenValueAndMonostateIsNil) {
  using V = std::variant<std::monostate, std::string>;
  EXPECT_EQ(codec::encode(V{}), bytes_of({0x92, 0x00, 0xc0}));
  EXPECT_EQ(codec::encode(V{"a"s}), bytes_of({0x92, 0x01, 0xa1, 'a'}));
}

TEST(CodecWire, StructIsAnArrayOfItsFields) {
  EXPECT_EQ(codec::encode(Point{1, 2}), bytes_of({0x92, 0x01, 0x02}));
  EXPECT_EQ(codec::encode(Color::blue), bytes_of({0xcc, 200}));
  EXPECT_EQ(codec::encode(std::chrono::seconds(5)), bytes_of({0x05}));
}

TEST(CodecWire, EncodeIntoAppends) {
  std::string out = "head";
  codec::encode_into(out, 1);
  codec::encode_into(out, "b"s);
  EXPECT_EQ(out, "head"s + bytes_of({0x01, 0xa1, 'b'}));
  EXPECT_EQ(codec::decode<std::string>(std::string_view(out).substr(5)), "b");
}

TEST(CodecWire, DecodesFromAByteSpan) {
  const std::string encoded = codec::encode(std::vector<int>{1, 2});
  const std::span<const std::byte> span(reinterpret_cast<const std::byte*>(encoded.data()),
                                        encoded.size());
  EXPECT_EQ(codec::decode<std::vector<int>>(span), (std::vector<int>{1, 2}));
}

// ---- boundaries and mismatches --------------------------------------------

TEST(CodecDecodeError, IntegerOutOfTheTargetsRange) {
  EXPECT_EQ(codec::decode<std::uint8_t>(codec::encode(255)), 255);
  EXPECT_THROW(codec::decode<std::uint8_t>(codec::encode(256)), codec::DecodeError);
  EXPECT_THROW(codec::decode<std::uint8_t>(codec::encode(300)), codec::DecodeError);
  EXPECT_THROW(codec::decode<std::uint8_t>(codec::encode(-1)), codec::DecodeError);
  EXPECT_EQ(codec::decode<std::int8_t>(codec::encode(-128)), -128);
  EXPECT_THROW(codec::decode<std::int8_t>(codec::encode(-129)), codec::DecodeError);
  EXPECT_THROW(codec::decode<std::int8_t>(codec::encode(128)), codec::DecodeError);
  const std::string u64_max = codec::encode(std::numeric_limits<std::uint64_t>::max());
  EXPECT_THROW(codec::decode<std::int64_t>(u64_max), codec::DecodeError);
  EXPECT_THROW(codec::decode<std::uint64_t>(codec::encode(std::int64_t{-1})), codec::DecodeError);
  EXPECT_THROW(codec::decode<std::uint32_t>(codec::encode(std::uint64_t{1} << 32)),
               codec::DecodeError);
  EXPECT_THROW(codec::decode<Color>(codec::encode(256)), codec::DecodeError);
  EXPECT_THROW(codec::decode<std::chrono::duration<std::int8_t>>(codec::encode(1000)),
               codec::DecodeError);
}

TEST(CodecDecodeError, DoubleOutOfFloatsRange) {
  constexpr float float_max = std::numeric_limits<float>::max();
  EXPECT_THROW(codec::decode<float>(codec::encode(1e300)), codec::DecodeError);
  EXPECT_THROW(codec::decode<float>(codec::encode(-1e39)), codec::DecodeError);
  EXPECT_THROW(codec::decode<std::vector<float>>(codec::encode(std::vector{1.0, 1e300})),
               codec::DecodeError);
  // The least double that rounds to infinity, and the greatest that rounds to float's maximum.
  const double overflows = 0x1.ffffffp127;
  EXPECT_THROW(codec::decode<float>(codec::encode(-overflows)), codec::DecodeError);
  EXPECT_EQ(codec::decode<float>(codec::encode(std::nextafter(overflows, 0.0))), float_max);
  EXPECT_EQ(codec::decode<float>(codec::encode(double{float_max})), float_max);
  EXPECT_EQ(codec::decode<float>(codec::encode(0.1)), 0.1f);
  EXPECT_EQ(codec::decode<float>(codec::encode(1e-300)), 0.0f);  // underflow rounds, as in Python
  EXPECT_EQ(codec::decode<float>(codec::encode(-std::numeric_limits<double>::infinity())),
            -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(codec::decode<float>(codec::encode(std::nan("")))));
  EXPECT_EQ(codec::decode<float>(codec::encode(std::numeric_limits<std::uint64_t>::max())),
            0x1p64f);
}

TEST(CodecDecodeError, TypeMismatches) {
  EXPECT_THROW(codec::decode<int>(codec::encode("1"s)), codec::DecodeError);
  EXPECT_THROW(codec::decode<int>(codec::encode(1.0)), codec::DecodeError);
  EXPECT_THROW(codec::decode<std::string>(codec::encode(1)), codec::DecodeError);
  EXPECT_THROW(codec::decode<bool>(codec::encode(1)), codec::DecodeError);
  EXPECT_THROW(codec::decode<int>(codec::encode(std::optional<int>{})), codec::DecodeError);
  EXPECT_THROW(codec::decode<std::vector<int>>(codec::encode(std::map<int, int>{{1, 1}})),
               codec::DecodeError);
  EXPECT_THROW(codec::decode<std::vector<int>>(codec::encode(std::vector<std::string>{"a"})),
               codec::DecodeError);
  EXPECT_THROW((codec::decode<std::map<std::string, int>>(codec::encode(std::vector<int>{1}))),
               codec::DecodeError);
  EXPECT_THROW((codec::decode<std::pair<int, int>>(codec::encode(std::vector<int>{1, 2, 3}))),
               codec::DecodeError);
  EXPECT_THROW(codec::decode<std::monostate>(codec::encode(0)), codec::DecodeError);
}

TEST(CodecDecodeError, StructNeedsExactlyItsFieldCount) {
  EXPECT_THROW(codec::decode<Point>(codec::encode(std::vector<int>{1})), codec::DecodeError);
  EXPECT_THROW(codec::decode<Point>(codec::encode(std::vector<int>{1, 2, 3})),
               codec::DecodeError);
  EXPECT_THROW(codec::decode<Point>(codec::encode(std::map<int, int>{{1, 2}})),
               codec::DecodeError);
  EXPECT_THROW(codec::decode<Point>(codec::encode(std::tuple<int, std::string>{1, "y"})),
               codec::DecodeError);
}

TEST(CodecDecodeError, VariantWithABadShape) {
  using V = std::variant<int, std::string>;
  EXPECT_THROW(codec::decode<V>(codec::encode(std::tuple<int, int>{2, 0})), codec::DecodeError);
  EXPECT_THROW(codec::decode<V>(codec::encode(std::tuple<int, int>{-1, 0})),
               codec::DecodeError);
  EXPECT_THROW(codec::decode<V>(codec::encode(std::tuple<int, int>{1, 0})), codec::DecodeError);
  EXPECT_THROW(codec::decode<V>(codec::encode(std::tuple<int>{0})), codec::DecodeError);
  EXPECT_THROW(codec::decode<V>(codec::encode(5)), codec::DecodeError);
  EXPECT_THROW(codec::decode<V>(codec::encode(std::tuple<std::string, int>{"0", 1})),
               codec::DecodeError);
}

TEST(CodecDecodeError, MessageNamesTheProblem) {
  try {
    codec::decode<std::uint8_t>(codec::encode(300));
    FAIL() << "no DecodeError";
  } catch (const codec::DecodeError& e) {
    EXPECT_NE(std::string(e.what()).find("unsigned char"), std::string::npos) << e.what();
  }
  try {
    codec::decode<int>(codec::encode(1) + "xy");
    FAIL() << "no DecodeError";
  } catch (const codec::DecodeError& e) {
    EXPECT_NE(std::string(e.what()).find("2 bytes after the end"), std::string::npos)
        << e.what();
  }
}

TEST(CodecDecodeError, IsAValueError) {
  EXPECT_THROW(codec::decode<int>(""), weft::ValueError);
}

// ---- malformed and hostile input ------------------------------------------

TEST(CodecHostile, EmptyInput) {
  EXPECT_THROW(codec::decode<int>(""), codec::DecodeError);
  EXPECT_THROW(codec::decode<std::optional<int>>(""), codec::DecodeError);
}

TEST(CodecHostile, TrailingBytes) {
  EXPECT_THROW(codec::decode<int>(codec::encode(1) + codec::encode(2)), codec::DecodeError);
  EXPECT_THROW(codec::decode<std::string>(codec::encode("x"s) + '\0'), codec::DecodeError);
  EXPECT_THROW(codec::decode<Point>(codec::encode(Point{}) + codec::encode(Point{})),
               codec::DecodeError);
}

TEST(CodecHostile, ReservedByte) {
  EXPECT_THROW(codec::decode<int>(bytes_of({0xc1})), codec::DecodeError);
  EXPECT_THROW(codec::decode<std::vector<int>>(bytes_of({0x92, 0x01, 0xc1})),
               codec::DecodeError);
}

TEST(CodecHostile, ExtensionTypesAreNotValues) {
  EXPECT_THROW(codec::decode<int>(bytes_of({0xd4, 0x01, 0x00})), codec::DecodeError);
  EXPECT_THROW(codec::decode<std::string>(bytes_of({0xc7, 0x01, 0x05, 'a'})),
               codec::DecodeError);
}

TEST(CodecHostile, EveryTruncationOfEverySampleIsADecodeError) {
  const std::vector<std::string> samples = {
      codec::encode(std::numeric_limits<std::uint64_t>::max()),
      codec::encode(-100000),
      codec::encode(2.5),
      codec::encode(2.5f),
      codec::encode(std::string(300, 's')),
      codec::encode(std::string(70000, 's')),
      codec::encode(codec::Bytes(300, std::byte{1})),
      codec::encode(std::vector<int>(20, 1000)),
      codec::encode(std::map<std::string, std::vector<int>>{{"k", {1, 2}}, {"l", {}}}),
      codec::encode(Order{"tea", {{1, 2}}, Account{"bob", 5}, {{"sugar", 1.0}}}),
      codec::encode(std::variant<int, std::string>{"v"s}),
      codec::encode(std::tuple<int, std::optional<int>, bool>{1, std::nullopt, true}),
  };
  for (const std::string& sample : samples) {
    for (std::size_t cut = 0; cut < sample.size(); cut += sample.size() > 1000 ? 97 : 1) {
      SCOPED_TRACE(cut);
      const std::string_view prefix = std::string_view(sample).substr(0, cut);
      EXPECT_THROW(codec::decode<std::uint64_t>(prefix), codec::DecodeError);
      EXPECT_THROW(codec::decode<std::string>(prefix), codec::DecodeError);
      EXPECT_THROW(codec::decode<Order>(prefix), codec::DecodeError);
      EXPECT_THROW((codec::decode<std::map<std::string, std::vector<int>>>(prefix)),
                   codec::DecodeError);
    }
  }
}

TEST(CodecHostile, HugeDeclaredSizesAllocateNothing) {
  // Five bytes declaring 2^32-1 elements (or bytes) each.
  const std::string array32 = bytes_of({0xdd, 0xff, 0xff, 0xff, 0xff});
  const std::string map32 = bytes_of({0xdf, 0xff, 0xff, 0xff, 0xff});
  const std::string str32 = bytes_of({0xdb, 0xff, 0xff, 0xff, 0xff});
  const std::string bin32 = bytes_of({0xc6, 0xff, 0xff, 0xff, 0xff});
  const std::string ext32 = bytes_of({0xc9, 0xff, 0xff, 0xff, 0xff, 0x01});
  EXPECT_THROW(codec::decode<std::vector<int>>(array32), codec::DecodeError);
  EXPECT_THROW((codec::decode<std::map<int, int>>(map32)), codec::DecodeError);
  EXPECT_THROW(codec::decode<std::string>(str32), codec::DecodeError);
  EXPECT_THROW(codec::decode<codec::Bytes>(bin32), codec::DecodeError);
  EXPECT_THROW(codec::decode<int>(ext32), codec::DecodeError);
  // The same headers nested, each claiming more than the rest of the input.
  std::string nested;
  for (int i = 0; i < 1000; ++i) nested += array32;
  EXPECT_THROW(codec::decode<Tree>(nested), codec::DecodeError);
  try {
    codec::decode<std::vector<int>>(array32 + std::string(10, '\0'));
    FAIL() << "no DecodeError";
  } catch (const codec::DecodeError& e) {
    EXPECT_NE(std::string(e.what()).find("declares 4294967295 elements"), std::string::npos)
        << e.what();
  }
}

TEST(CodecHostile, ManyElementsThatAreReallyThereDecode) {
  // 100000 nils behind an array32 header: within the limits, so it parses,
  // and then fails only because nil is not an int.
  std::string many = bytes_of({0xdd, 0x00, 0x01, 0x86, 0xa0}) + std::string(100000, '\xc0');
  EXPECT_EQ(codec::decode<std::vector<std::optional<int>>>(many).size(), 100000u);
  EXPECT_THROW(codec::decode<std::vector<int>>(many), codec::DecodeError);
}

std::string nested_trees(std::size_t depth) {
  // [0, [[0, [[0, [...]]]]]] : a Tree `depth` levels deep.
  std::string out;
  for (std::size_t i = 1; i < depth; ++i) out += bytes_of({0x92, 0x00, 0x91});
  return out + bytes_of({0x92, 0x00, 0x90});
}

TEST(CodecHostile, DeepNestingIsBounded) {
  // Each Tree level is two array levels; the limit counts array levels.
  Tree deep = codec::decode<Tree>(nested_trees(codec::max_depth / 2 - 1));
  std::size_t levels = 1;
  for (const Tree* t = &deep; !t->children.empty(); t = &t->children[0]) ++levels;
  EXPECT_EQ(levels, codec::max_depth / 2 - 1);
  EXPECT_THROW(codec::decode<Tree>(nested_trees(codec::max_depth)), codec::DecodeError);
  // A million nested one-element arrays: rejected without deep recursion.
  const std::string million = std::string(1000000, '\x91') + '\x00';
  EXPECT_THROW(codec::decode<Tree>(million), codec::DecodeError);
  EXPECT_THROW(codec::decode<int>(million), codec::DecodeError);
}

TEST(CodecHostile, ScalarsDecodeAloneAsInsideAnArray) {
  // A lone scalar skips msgpack-cxx's parser; it must read the same.
  const std::vector<std::string> scalars = {
      bytes_of({0x05}), bytes_of({0xe0}), bytes_of({0xcc, 0xff}), bytes_of({0xcd, 0x12, 0x34}),
      bytes_of({0xce, 0xff, 0xff, 0xff, 0xff}), codec::encode(~std::uint64_t{0}),
      bytes_of({0xd0, 0x80}), bytes_of({0xd1, 0x80, 0x00}),
      bytes_of({0xd2, 0x00, 0x00, 0x00, 0x7f}),
      codec::encode(std::numeric_limits<std::int64_t>::min()), bytes_of({0xd0, 0x05}),
      codec::encode(1.25f), codec::encode(-2.5), codec::encode(std::string(40, 's')),
      bytes_of({0xa0}), bytes_of({0xda, 0x00, 0x01, 'z'}), codec::encode(raw("bin")),
      bytes_of({0xc0}), bytes_of({0xc2}), bytes_of({0xc3})};
  for (const std::string& scalar : scalars) {
    SCOPED_TRACE(::testing::PrintToString(scalar));
    const std::string wrapped = bytes_of({0x91}) + scalar;
    const auto alone = [&](auto type) -> std::optional<decltype(type)> {
      try {
        return codec::decode<decltype(type)>(scalar);
      } catch (const codec::DecodeError&) {
        return std::nullopt;
      }
    };
    const auto inside = [&](auto type) -> std::optional<decltype(type)> {
      try {
        return std::get<0>(codec::decode<std::tuple<decltype(type)>>(wrapped));
      } catch (const codec::DecodeError&) {
        return std::nullopt;
      }
    };
    EXPECT_EQ(alone(std::int64_t{}), inside(std::int64_t{}));
    EXPECT_EQ(alone(std::uint64_t{}), inside(std::uint64_t{}));
    EXPECT_EQ(alone(std::int8_t{}), inside(std::int8_t{}));
    EXPECT_EQ(alone(double{}), inside(double{}));
    EXPECT_EQ(alone(bool{}), inside(bool{}));
    EXPECT_EQ(alone(std::string{}), inside(std::string{}));
    EXPECT_EQ(alone(codec::Bytes{}), inside(codec::Bytes{}));
    EXPECT_EQ(alone(std::optional<int>{}), inside(std::optional<int>{}));
  }
}

TEST(CodecHostile, ExtensionsAloneAndInsideAnArrayAreRejectedAlike) {
  for (const std::string& ext : {bytes_of({0xd4, 0x01, 0x00}), bytes_of({0xc7, 0x00, 0x02}),
                                 bytes_of({0xd8, 0x01}) + std::string(16, 'e')}) {
    EXPECT_THROW(codec::decode<std::string>(ext), codec::DecodeError);
    EXPECT_THROW(codec::decode<std::tuple<std::string>>(bytes_of({0x91}) + ext),
                 codec::DecodeError);
  }
}

// msgpack-cxx's own std::array and std::tuple decoders indexed by the
// target's length, not the array's; weft replaces them.
TEST(CodecHostile, AShortStrIntoACharArrayCopiesOnlyItsOwnBytes) {
  // The str "a" is followed in memory by bytes that are not part of it.
  const std::string memory = bytes_of({0xa1, 'a'}) + "SECRET-KEY-MATERIAL-----";
  const std::string_view input = std::string_view(memory).substr(0, 2);
  std::array<char, 24> expected{};
  expected[0] = 'a';
  EXPECT_EQ((codec::decode<std::array<char, 24>>(input)), expected);
  const auto bytes = codec::decode<std::array<unsigned char, 24>>(input);
  EXPECT_EQ(bytes[0], 'a');
  for (std::size_t i = 1; i < bytes.size(); ++i) EXPECT_EQ(bytes[i], 0) << i;
  EXPECT_EQ((codec::decode<std::array<char, 24>>(codec::encode(raw("a")))), expected);
  EXPECT_THROW((codec::decode<std::array<char, 2>>(codec::encode("abc"s))), codec::DecodeError);
  expect_round_trip(std::array<char, 4>{'w', 'e', 'f', 't'});
  EXPECT_EQ(codec::encode(std::array<unsigned char, 2>{1, 2}), bytes_of({0xc4, 0x02, 0x01, 0x02}));
}

TEST(CodecHostile, ATupleOfVariantsReadsOnlyTheArrayItIsGiven) {
  using V = std::variant<std::monostate, int>;
  using T = std::tuple<int, V>;
  EXPECT_EQ(codec::decode<T>(bytes_of({0x90})), T(0, V{}));
  EXPECT_EQ(codec::decode<T>(bytes_of({0x91, 0x07})), T(7, V{}));
  // Extra elements are ignored: the first ones are kept, not the last.
  EXPECT_EQ(codec::decode<T>(codec::encode(std::tuple(10, std::tuple(1, 30), 99))), T(10, V(30)));
  EXPECT_THROW(codec::decode<T>(codec::encode(std::tuple(10, 20))), codec::DecodeError);
  expect_round_trip(T(5, V(6)));
}

TEST(CodecHostile, AnArrayOfVariantsReadsOnlyTheArrayItIsGiven) {
  using V = std::variant<std::monostate, int>;
  using A = std::array<V, 4>;
  EXPECT_EQ(codec::decode<A>(bytes_of({0x90})), A{});
  EXPECT_EQ(codec::decode<A>(codec::encode(std::vector{std::tuple(1, 5)})), (A{V(5), V{}, V{}, V{}}));
  EXPECT_THROW(codec::decode<A>(codec::encode(std::vector<int>(5, 0))), codec::DecodeError);
  expect_round_trip(A{V(1), V{}, V(3), V{}});
}

int twice(int x) { return 2 * x; }

TEST(CodecHostile, AMissingFunctionPointerIsAnErrorNotNull) {
  using Fn = int (*)(int);
  EXPECT_THROW((codec::decode<std::tuple<Fn, std::string>>(bytes_of({0x90}))), codec::DecodeError);
  const auto [fn, name] = codec::decode<std::tuple<Fn, std::string>>(codec::encode(std::tuple(&twice, "x"s)));
  EXPECT_EQ(fn(21), 42);
  EXPECT_EQ(name, "x");
}

struct NeedsTooMuch {};

// ---- reuse of the per-thread zone -----------------------------------------

struct Nested {
  int value = 0;
  bool operator==(const Nested&) const = default;
};

}  // namespace

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
namespace adaptor {
// Encodes the value as bin holding the value's own encoding, and decodes
// it with a nested codec::decode, as an adaptor wrapping a payload would.
template <>
struct pack<Nested> {
  template <typename Stream>
  packer<Stream>& operator()(packer<Stream>& o, const Nested& v) const {
    const std::string inner = codec::encode(v.value);
    o.pack_bin(static_cast<uint32_t>(inner.size()));
    o.pack_bin_body(inner.data(), static_cast<uint32_t>(inner.size()));
    return o;
  }
};
template <>
struct convert<NeedsTooMuch> {
  const msgpack::object& operator()(const msgpack::object& o, NeedsTooMuch&) const {
    throw std::bad_alloc();
    return o;
  }
};
template <>
struct convert<Nested> {
  const msgpack::object& operator()(const msgpack::object& o, Nested& v) const {
    if (o.type != msgpack::type::BIN) throw msgpack::type_error();
    v.value = codec::decode<int>(std::string_view(o.via.bin.ptr, o.via.bin.size));
    return o;
  }
};
}  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack

namespace {

TEST(CodecHostile, RunningOutOfMemoryIsADecodeError) {
  EXPECT_THROW(codec::decode<NeedsTooMuch>(bytes_of({0xc0})), codec::DecodeError);
}

TEST(CodecZone, ANestedDecodeDoesNotDisturbTheOuterOne) {
  const std::vector<Nested> values = {{1}, {-2}, {300000}};
  EXPECT_EQ(round_trip(values), values);
  // The nested decode's errors are DecodeErrors too.
  std::string bad = bytes_of({0x91, 0xc4, 0x01, 0xc1});
  EXPECT_THROW(codec::decode<std::vector<Nested>>(bad), codec::DecodeError);
  EXPECT_EQ(round_trip(values), values);
}

TEST(CodecZone, DecodesAfterAFailureAsBefore) {
  EXPECT_THROW(codec::decode<std::vector<int>>(bytes_of({0x92, 0x01})), codec::DecodeError);
  EXPECT_THROW(codec::decode<int>(codec::encode("x"s)), codec::DecodeError);
  expect_round_trip(std::vector<std::string>(1000, std::string(100, 'z')));
  expect_round_trip(5);
}

}  // namespace
