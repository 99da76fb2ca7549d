// How a queue reaches a child started with spawn or forkserver: its codec adaptors share the
// queue's block while a Process start is encoding (an FdSharingScope), and decode to a handle on
// the same queue in the child (set_inherited_fds). Here the "child" is this process.
#include <gtest/gtest.h>
#include <weft/mp/queues.hpp>

#include <string>
#include <vector>

#include "weft/codec.hpp"
#include "weft/mp/detail/fd_sharing.hpp"

namespace {

using weft::mp::JoinableQueue;
using weft::mp::Queue;
using weft::mp::SimpleQueue;
namespace mpd = weft::mp::detail;

// Encodes `value` as a Process start would, then installs the shared descriptors as the child's
// bootstrap does; uninstalls them when it goes out of scope.
class Handover {
 public:
  template <class T>
  explicit Handover(const T& value) {
    mpd::FdSharingScope scope;
    bytes_ = weft::codec::encode(value);
    fds_.assign(scope.fds().begin(), scope.fds().end());
    mpd::set_inherited_fds(fds_);
  }
  ~Handover() { mpd::set_inherited_fds({}); }
  Handover(const Handover&) = delete;
  Handover& operator=(const Handover&) = delete;

  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
  std::vector<int> fds_;
};

TEST(MpQueueSharing, EncodingOutsideAStartIsRefused) {
  try {
    weft::codec::encode(Queue<int>());
    ADD_FAILURE() << "a queue was encoded outside a start";
  } catch (const weft::codec::EncodeError& e) {
    EXPECT_STREQ(e.what(),
                 "Queue objects should only be shared between processes through inheritance");
  }
  EXPECT_THROW(weft::codec::encode(SimpleQueue<int>()), weft::codec::EncodeError);
  EXPECT_THROW(weft::codec::encode(JoinableQueue<int>()), weft::codec::EncodeError);
}

TEST(MpQueueSharing, ADecodedQueueIsTheSameQueue) {
  Queue<std::string> q(3);
  Handover handover(q);
  auto child = weft::codec::decode<Queue<std::string>>(handover.bytes());
  child.put("from the child");
  EXPECT_EQ(q.get(), "from the child");
  q.put("from the parent");
  EXPECT_EQ(child.get(), "from the parent");
  EXPECT_EQ(child.maxsize(), 3u);
  // A decoded queue is the child's own object: closing it leaves the parent's open.
  child.close();
  EXPECT_THROW(child.put("x"), weft::ValueError);
  EXPECT_NO_THROW(q.put("y"));
}

TEST(MpQueueSharing, AQueueInsideAnArgumentTuple) {
  JoinableQueue<int> tasks;
  SimpleQueue<int> results;
  Handover handover(std::make_tuple(7, tasks, results));
  auto [n, child_tasks, child_results] =
      weft::codec::decode<std::tuple<int, JoinableQueue<int>, SimpleQueue<int>>>(handover.bytes());
  EXPECT_EQ(n, 7);
  tasks.put(20);
  child_results.put(child_tasks.get() + 1);
  child_tasks.task_done();
  EXPECT_TRUE(tasks.join(std::chrono::seconds(0)));
  EXPECT_EQ(results.get(), 21);
}

TEST(MpQueueSharing, ConvertIntoAnExistingHandle) {
  Queue<int> q;
  Handover handover(q);
  msgpack::object_handle handle = msgpack::unpack(handover.bytes().data(), handover.bytes().size());
  Queue<int> other;
  handle.get().convert(other);
  other.put(3);
  EXPECT_EQ(q.get(), 3);
}

TEST(MpQueueSharing, DecodingAsAnotherKindOrItemTypeIsADecodeError) {
  Queue<int> q;
  Handover handover(q);
  EXPECT_THROW(weft::codec::decode<SimpleQueue<int>>(handover.bytes()), weft::codec::DecodeError);
  EXPECT_THROW(weft::codec::decode<JoinableQueue<int>>(handover.bytes()), weft::codec::DecodeError);
  EXPECT_THROW(weft::codec::decode<Queue<double>>(handover.bytes()), weft::codec::DecodeError);
  EXPECT_THROW(weft::codec::decode<Queue<std::string>>(handover.bytes()), weft::codec::DecodeError);
}

TEST(MpQueueSharing, UnknownTokenOrNotAQueueIsADecodeError) {
  EXPECT_THROW(weft::codec::decode<Queue<int>>(weft::codec::encode(5)), weft::codec::DecodeError);
  EXPECT_THROW(weft::codec::decode<Queue<int>>(weft::codec::encode("five")),
               weft::codec::DecodeError);
  auto block = mpd::SharedBlock::create(8192, "not-a-queue");
  std::vector<int> fds{block->fd()};
  mpd::set_inherited_fds(fds);
  EXPECT_THROW(weft::codec::decode<Queue<int>>(weft::codec::encode(0)), weft::codec::DecodeError);
  mpd::set_inherited_fds({});
}

TEST(MpQueueSharing, AnItemOfTheWrongEncodingIsConsumedWithADecodeError) {
  Queue<std::string> q;
  Handover handover(q);
  auto numbers = weft::codec::decode<Queue<std::vector<int>>>(handover.bytes());
  q.put("not numbers");
  q.put("next");
  EXPECT_THROW(numbers.get(), weft::codec::DecodeError);
  EXPECT_EQ(q.get(), "next");
}

}  // namespace
