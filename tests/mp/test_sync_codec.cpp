// Sending weft::mp's synchronisation primitives and shared ctypes to a spawned child through
// weft::codec: what the child decodes is the same object, mapped afresh. The child's side is
// played in this process by installing the shared descriptors as a bootstrap would.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "threading/test_support.hpp"
#include "weft/codec.hpp"
#include "weft/mp/detail/fd_sharing.hpp"
#include "weft/mp/sharedctypes.hpp"
#include "weft/mp/synchronize.hpp"

namespace weft::test {
namespace {

// Encodes `value` as a Process starting a child would, with the descriptors it shares.
struct Encoded {
  std::string bytes;
  std::vector<int> fds;
};

template <class T>
Encoded encode_for_child(const T& value) {
  mp::detail::FdSharingScope scope;
  Encoded encoded{codec::encode(value), {}};
  encoded.fds.assign(scope.fds().begin(), scope.fds().end());
  return encoded;
}

// Decodes as the child's bootstrap would.
template <class T>
T decode_in_child(const Encoded& encoded) {
  mp::detail::set_inherited_fds(encoded.fds);
  struct Clear {
    ~Clear() { mp::detail::set_inherited_fds({}); }
  } clear;
  return codec::decode<T>(encoded.bytes);
}

template <class T>
T round_trip(const T& value) {
  return decode_in_child<T>(encode_for_child(value));
}

TEST(MpSyncCodec, OutsideAStartEncodingThrows) {
  EXPECT_THROW(codec::encode(mp::Lock()), codec::EncodeError);
  EXPECT_THROW(codec::encode(mp::RLock()), codec::EncodeError);
  EXPECT_THROW(codec::encode(mp::Semaphore()), codec::EncodeError);
  EXPECT_THROW(codec::encode(mp::Event()), codec::EncodeError);
  EXPECT_THROW(codec::encode(mp::Condition()), codec::EncodeError);
  EXPECT_THROW(codec::encode(mp::Barrier(2)), codec::EncodeError);
  EXPECT_THROW(codec::encode(mp::Value<int>(1)), codec::EncodeError);
  EXPECT_THROW(codec::encode(mp::RawArray<int>(2)), codec::EncodeError);
}

TEST(MpSyncCodec, LockArrivesAsTheSameLock) {
  mp::Lock lock;
  mp::Lock child = round_trip(lock);
  ASSERT_TRUE(child.acquire());
  EXPECT_TRUE(lock.locked());
  EXPECT_FALSE(on_other_thread([&] { return lock.acquire(false); }));
  child.release();
  EXPECT_FALSE(lock.locked());
}

TEST(MpSyncCodec, RLockArrivesAsTheSameLock) {
  mp::RLock lock;
  mp::RLock child = round_trip(lock);
  ASSERT_TRUE(lock.acquire());
  EXPECT_TRUE(child.is_owned());
  EXPECT_TRUE(child.acquire(false));
  child.release();
  lock.release();
  EXPECT_FALSE(child.locked());
}

TEST(MpSyncCodec, SemaphoresKeepCountAndBound) {
  mp::Semaphore semaphore(3);
  mp::Semaphore child = round_trip(semaphore);
  ASSERT_TRUE(child.acquire());
  EXPECT_EQ(semaphore.get_value(), 2u);
  mp::BoundedSemaphore bounded(1);
  mp::BoundedSemaphore bounded_child = round_trip(bounded);
  EXPECT_THROW(bounded_child.release(), ValueError);
}

TEST(MpSyncCodec, EventAndBarrier) {
  mp::Event event;
  mp::Event child = round_trip(event);
  event.set();
  EXPECT_TRUE(child.is_set());

  mp::Barrier barrier(2, {}, kPatience);
  mp::Barrier child_barrier = round_trip(barrier);
  EXPECT_EQ(child_barrier.parties(), 2u);
  child_barrier.abort();
  EXPECT_TRUE(barrier.broken());
  EXPECT_THROW(encode_for_child(mp::Barrier(2, [] {})), codec::EncodeError);
}

TEST(MpSyncCodec, ConditionKeepsItsLock) {
  mp::Lock lock;
  mp::Condition cond(lock);
  mp::Condition child = round_trip(cond);
  ASSERT_TRUE(child.acquire());
  EXPECT_TRUE(lock.is_owned());
  EXPECT_FALSE(child.wait(1ms));
  child.release();
  EXPECT_FALSE(lock.locked());

  mp::Condition with_rlock;
  mp::Condition rchild = round_trip(with_rlock);
  std::lock_guard held(with_rlock);
  EXPECT_TRUE(rchild.acquire(false));
  rchild.release();
}

TEST(MpSyncCodec, SharedCTypes) {
  mp::Value<int> value(5);
  auto child_value = round_trip(value);
  child_value.value(6);
  EXPECT_EQ(value.value(), 6);
  ASSERT_TRUE(value.acquire());
  EXPECT_TRUE(child_value.get_lock().is_owned());
  value.release();

  mp::Value<double, mp::Lock> unlocked(0.5, false);
  auto child_unlocked = round_trip(unlocked);
  EXPECT_FALSE(child_unlocked.has_lock());
  EXPECT_EQ(child_unlocked.value(), 0.5);

  mp::Array<int, mp::Lock> array{1, 2, 3};
  auto child_array = round_trip(array);
  EXPECT_EQ(child_array.to_vector(), (std::vector<int>{1, 2, 3}));
  child_array[1] = 20;
  EXPECT_EQ(array.get(1), 20);

  mp::RawValue<long> raw_value(9);
  EXPECT_EQ(round_trip(raw_value).value(), 9);
  mp::RawArray<char> raw_array("hi");
  EXPECT_EQ(round_trip(raw_array).value(), "hi");
}

TEST(MpSyncCodec, SeveralObjectsInOneMessage) {
  mp::Lock lock;
  mp::Event event;
  mp::Value<int> value(1);
  const auto encoded = encode_for_child(std::make_tuple(lock, event, value, lock));
  EXPECT_EQ(encoded.fds.size(), 4u);  // the lock once, the event, the value and its RLock
  using Message = std::tuple<mp::Lock, mp::Event, mp::Value<int>, mp::Lock>;
  auto [l1, e, v, l2] = decode_in_child<Message>(encoded);
  ASSERT_TRUE(l1.acquire());
  EXPECT_TRUE(l2.locked() && l2.is_owned());
  l1.release();
  EXPECT_FALSE(l2.locked());
  e.set();
  EXPECT_TRUE(event.is_set());
  EXPECT_EQ(v.value(), 1);
}

TEST(MpSyncCodec, WrongKindOrTokenIsADecodeError) {
  const mp::Semaphore semaphore;
  const mp::Lock lock;
  const mp::RawArray<int> ints(4);
  const auto encoded_semaphore = encode_for_child(semaphore);
  EXPECT_THROW(decode_in_child<mp::Lock>(encoded_semaphore), codec::DecodeError);
  EXPECT_THROW(decode_in_child<mp::Event>(encoded_semaphore), codec::DecodeError);
  const auto encoded_lock = encode_for_child(lock);
  EXPECT_THROW(decode_in_child<mp::RLock>(encoded_lock), codec::DecodeError);
  const auto encoded_ints = encode_for_child(ints);
  EXPECT_THROW(decode_in_child<mp::RawArray<double>>(encoded_ints), codec::DecodeError);
  EXPECT_THROW(decode_in_child<mp::RawValue<int>>(encoded_ints), codec::DecodeError);
  // An element type of the same size cannot be told apart.
  EXPECT_EQ(decode_in_child<mp::RawArray<float>>(encoded_ints).size(), 4u);
  const Encoded stray{codec::encode(std::uint32_t{7}), {}};
  EXPECT_THROW(decode_in_child<mp::Lock>(stray), codec::DecodeError);
  const Encoded wrong_shape{codec::encode(std::string("lock")), encoded_lock.fds};
  EXPECT_THROW(decode_in_child<mp::Lock>(wrong_shape), codec::DecodeError);
}

}  // namespace
}  // namespace weft::test
