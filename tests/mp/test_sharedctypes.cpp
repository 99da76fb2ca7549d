// weft::mp's Value, Array, RawValue and RawArray: every call and error in one process, and
// counters shared by forked processes.
#include <gtest/gtest.h>

#include <mutex>
#include <type_traits>
#include <vector>

#include "mp/sync_support.hpp"
#include "weft/mp/sharedctypes.hpp"

namespace weft::test {
namespace {

static_assert(std::is_same_v<mp::ctype<'i'>, int>);
static_assert(std::is_same_v<mp::ctype<'d'>, double>);
static_assert(std::is_same_v<mp::ctype<'c'>, char>);
static_assert(std::is_same_v<mp::ctype<'Q'>, unsigned long long>);
static_assert(std::is_same_v<decltype(mp::Value(1.5)), mp::Value<double, mp::RLock>>);
static_assert(std::is_same_v<decltype(mp::Value(1, mp::Lock())), mp::Value<int, mp::Lock>>);

struct Point {
  int x = 1;
  double y = 2.5;
};

TEST(MpValue, GetSetAndDefault) {
  mp::Value<int> value;
  EXPECT_EQ(value.value(), 0);
  value.value(5);
  EXPECT_EQ(value.value(), 5);
  value.get_obj() += 1;
  EXPECT_EQ(value.value(), 6);
  mp::Value<Point> point;
  EXPECT_EQ(point.value().x, 1);
  point.value(Point{3, 4.0});
  EXPECT_EQ(point.value().y, 4.0);
}

TEST(MpValue, DefaultLockIsAnRLock) {
  mp::Value<double> value(0.5);
  ASSERT_TRUE(value.has_lock());
  mp::RLock& lock = value.get_lock();
  std::lock_guard held(value);
  EXPECT_TRUE(lock.is_owned());
  value.value(1.5);  // re-enters the RLock
  EXPECT_EQ(value.value(), 1.5);
}

TEST(MpValue, GivenLockIsShared) {
  mp::Lock lock;
  mp::Value<int, mp::Lock> a(1, lock);
  mp::Value<int, mp::Lock> b(2, lock);
  ASSERT_TRUE(a.acquire());
  EXPECT_TRUE(b.get_lock().is_owned());
  EXPECT_FALSE(b.try_lock());
  a.release();
  EXPECT_TRUE(b.acquire(kTick));
  b.release();
}

TEST(MpValue, WithoutALock) {
  mp::Value<int> value(3, false);
  EXPECT_FALSE(value.has_lock());
  EXPECT_THROW(value.get_lock(), RuntimeError);
  EXPECT_THROW(value.acquire(), RuntimeError);
  EXPECT_THROW(value.release(), RuntimeError);
  EXPECT_EQ(value.value(), 3);
  value.value(4);
  EXPECT_EQ(value.value(), 4);
}

TEST(MpValue, CopiesShareTheValue) {
  mp::Value<int> value(1);
  mp::Value<int> copy = value;
  copy.value(9);
  EXPECT_EQ(value.value(), 9);
}

TEST(MpRawValue, Basics) {
  mp::RawValue<long> value(7);
  EXPECT_EQ(value.value(), 7);
  value.value(8);
  EXPECT_EQ(value.get_obj(), 8);
  mp::RawValue<long> copy = value;
  copy.get_obj() = 10;
  EXPECT_EQ(value.value(), 10);
}

TEST(MpArray, SizesAndInitialisers) {
  mp::Array<int> zeros(4);
  EXPECT_EQ(zeros.size(), 4u);
  EXPECT_EQ(zeros.to_vector(), (std::vector<int>{0, 0, 0, 0}));
  mp::Array<double> listed{1.0, 2.0};
  EXPECT_EQ(listed.to_vector(), (std::vector<double>{1.0, 2.0}));
  const std::vector<int> source{5, 6, 7};
  mp::Array<int> spanned{std::span<const int>(source)};
  EXPECT_EQ(spanned.to_vector(), source);
  mp::Array<int> empty(0);
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_EQ(empty.begin(), empty.end());
  mp::Array<Point> points(2);
  EXPECT_EQ(points[1].x, 1);
}

TEST(MpArray, Access) {
  mp::Array<int> array{1, 2, 3};
  array.set(0, 10);
  EXPECT_EQ(array.get(0), 10);
  array[1] = 20;
  EXPECT_EQ(array.at(1), 20);
  int sum = 0;
  for (int v : array) sum += v;
  EXPECT_EQ(sum, 33);
  EXPECT_EQ(array.get_obj().size(), 3u);
  EXPECT_EQ(array.data(), array.get_obj().data());
  EXPECT_THROW(array.get(3), std::out_of_range);
  EXPECT_THROW(array.set(3, 0), std::out_of_range);
  EXPECT_THROW(array.at(3), std::out_of_range);
}

TEST(MpArray, Locks) {
  mp::Array<int> array(2);
  {
    std::lock_guard held(array);
    EXPECT_TRUE(array.get_lock().is_owned());
    array.set(0, 1);  // re-enters the RLock
  }
  EXPECT_FALSE(array.get_lock().locked());
  mp::Array<int, mp::Lock> plain(2, mp::Lock());
  EXPECT_TRUE(plain.acquire(false));
  plain.release();
  mp::Array<int> bare(2, false);
  EXPECT_THROW(bare.lock(), RuntimeError);
  EXPECT_THROW(bare.try_lock(), RuntimeError);
  EXPECT_THROW(bare.unlock(), RuntimeError);
  bare.set(1, 5);
  EXPECT_EQ(bare.get(1), 5);
}

TEST(MpArray, CharValueAndRaw) {
  mp::Array<char> text(8);
  EXPECT_EQ(text.value(), "");
  text.value("hello");
  EXPECT_EQ(text.value(), "hello");
  EXPECT_EQ(text.raw(), std::string("hello\0\0\0", 8));
  text.value("hi");
  EXPECT_EQ(text.value(), "hi");
  EXPECT_EQ(text.raw(), std::string("hi\0lo\0\0\0", 8));
  text.raw("12345678");
  EXPECT_EQ(text.value(), "12345678");
  EXPECT_THROW(text.value("123456789"), ValueError);
  EXPECT_THROW(text.raw("123456789"), ValueError);
  mp::Array<char> literal("abc");
  EXPECT_EQ(literal.size(), 3u);
  EXPECT_EQ(literal.value(), "abc");
  mp::RawArray<char> raw(std::string_view("xyz"));
  EXPECT_EQ(raw.raw(), "xyz");
}

TEST(MpRawArray, Basics) {
  mp::RawArray<int> array{4, 5};
  EXPECT_EQ(array.size(), 2u);
  EXPECT_EQ(array[0], 4);
  EXPECT_THROW(array.at(2), std::out_of_range);
  mp::RawArray<int> copy = array;
  copy[1] = 50;
  EXPECT_EQ(array[1], 50);
}

TEST(MpSharedCTypes, TooLargeIsAValueError) {
  EXPECT_THROW(mp::RawArray<double>(SIZE_MAX / 4), ValueError);
}

TEST(MpSharedCTypesFork, FourProcessesIncrementAValueUnderItsLock) {
  mp::Value<long> counter(0);
  constexpr int kProcesses = 4;
  constexpr int kRounds = 10000;
  auto children = fork_children(kProcesses, [&](int) {
    for (int i = 0; i < kRounds; ++i) {
      std::lock_guard held(counter);
      counter.value(counter.value() + 1);
    }
  });
  ASSERT_TRUE(all_succeed(children));
  EXPECT_EQ(counter.value(), static_cast<long>(kProcesses) * kRounds);
}

TEST(MpSharedCTypesFork, ChildrenFillAnArray) {
  mp::Array<int> array(4);
  auto children = fork_children(4, [&](int i) { array.set(static_cast<std::size_t>(i), i * i); });
  ASSERT_TRUE(all_succeed(children));
  EXPECT_EQ(array.to_vector(), (std::vector<int>{0, 1, 4, 9}));
}

TEST(MpSharedCTypesFork, UnlockedValueIsSeenByTheParent) {
  mp::RawValue<double> value(0.0);
  mp::Array<char> text(16, false);
  auto child = Child::fork([&] {
    value.value(2.5);
    text.value("from child");
  });
  EXPECT_EQ(child.wait(), 0);
  EXPECT_EQ(value.value(), 2.5);
  EXPECT_EQ(text.value(), "from child");
}

}  // namespace
}  // namespace weft::test
