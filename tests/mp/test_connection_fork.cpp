// Connections across processes: a forked child talking over a Pipe, end of file only once every
// copy of the other end is closed in every process, and a Connection encoded for a child started
// with spawn (its descriptor shared under a token) and decoded there on a duplicate, or encoded
// anywhere else (its descriptor lent).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <weft/codec.hpp>
#include <weft/mp/connection.hpp>
#include <weft/mp/detail/fd_sharing.hpp>
#include <weft/net/errors.hpp>

#include <string>
#include <vector>

#include "mp/connection_support.hpp"

namespace {

using namespace weft::test;
namespace mp = weft::mp;
namespace codec = weft::codec;
using mp::Connection;
using mp::Pipe;

using ConnectionAcrossProcesses = NetTest;

TEST_F(ConnectionAcrossProcesses, ForkedChildTalksOverAPipe) {
  auto [parent_end, child_end] = Pipe();
  Child child = Child::fork([&parent_end = parent_end, &child_end = child_end] {
    parent_end.close();
    const auto numbers = child_end.recv<std::vector<int>>();
    int sum = 0;
    for (const int n : numbers) sum += n;
    child_end.send(sum);
    child_end.send_bytes(child_end.recv_bytes());
  });
  child_end.close();
  parent_end.send(std::vector<int>{1, 2, 3, 4});
  ASSERT_TRUE(parent_end.poll(kPatience));
  EXPECT_EQ(parent_end.recv<int>(), 10);
  parent_end.send_bytes("echo");
  ASSERT_TRUE(parent_end.poll(kPatience));
  EXPECT_EQ(parent_end.recv_bytes(), "echo");
  EXPECT_EQ(child.wait(), 0);
  EXPECT_THROW(parent_end.recv_bytes(), weft::EOFError) << "the child's end died with it";
}

// Seed 004's lesson: closing one's own copy of the write end is not enough while a child still
// holds another.
TEST_F(ConnectionAcrossProcesses, NoEndOfFileWhileAChildKeepsACopy) {
  for (const bool duplex : {true, false}) {
    auto [reader, writer] = Pipe(duplex);
    auto [go, go_child] = Pipe();
    Child child = Child::fork([&reader = reader, &go_child = go_child, &writer = writer] {
      reader.close();
      go_child.recv_bytes();  // until the parent says so, keep the copy of `writer`
      writer.close();
      go_child.send_bytes("closed");
      go_child.recv_bytes();
    });
    go_child.close();
    writer.close();
    EXPECT_FALSE(reader.poll(kTick)) << "end of file seen while the child holds the write end";
    go.send_bytes("close it");
    ASSERT_TRUE(go.poll(kPatience));
    EXPECT_EQ(go.recv_bytes(), "closed");
    EXPECT_TRUE(reader.poll(kPatience));
    EXPECT_THROW(reader.recv_bytes(), weft::EOFError);
    go.send_bytes("done");
    EXPECT_EQ(child.wait(), 0);
  }
}

TEST_F(ConnectionAcrossProcesses, OneWayPipeFromChildToParent) {
  auto [reader, writer] = Pipe(false);
  Child child = Child::fork([&reader = reader, &writer = writer] {
    reader.close();
    for (int i = 0; i < 100; ++i) writer.send(i);
  });
  writer.close();
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(reader.poll(kPatience));
    ASSERT_EQ(reader.recv<int>(), i);
  }
  EXPECT_THROW(reader.recv<int>(), weft::EOFError);
  EXPECT_EQ(child.wait(), 0);
}

// Sets the descriptors a child would inherit for as long as it lives.
struct InheritedFds {
  explicit InheritedFds(std::vector<int> fds) { mp::detail::set_inherited_fds(std::move(fds)); }
  ~InheritedFds() { mp::detail::set_inherited_fds({}); }
};

TEST_F(ConnectionAcrossProcesses, EncodedConnectionDecodesOnADuplicate) {
  auto [reader, writer] = Pipe(false);
  auto [a, b] = Pipe();
  std::string encoded;
  std::vector<int> shared;
  {
    mp::detail::FdSharingScope scope;
    encoded = codec::encode(std::make_tuple(std::ref(reader), std::ref(writer), std::ref(a)));
    shared.assign(scope.fds().begin(), scope.fds().end());
  }
  ASSERT_EQ(shared, (std::vector<int>{reader.fileno(), writer.fileno(), a.fileno()}));
  InheritedFds inherited(shared);
  auto [r, w, d] = codec::decode<std::tuple<Connection, Connection, Connection>>(encoded);
  EXPECT_TRUE(r.readable() && !r.writable());
  EXPECT_TRUE(!w.readable() && w.writable());
  EXPECT_TRUE(d.readable() && d.writable());
  EXPECT_NE(r.fileno(), reader.fileno());
  EXPECT_NE(::fcntl(r.fileno(), F_GETFD) & FD_CLOEXEC, 0);
  w.send_bytes("through the copy");
  EXPECT_EQ(reader.recv_bytes(), "through the copy");
  writer.send_bytes("to the copy");
  EXPECT_EQ(r.recv_bytes(), "to the copy");
  b.send_bytes("duplex");
  EXPECT_EQ(d.recv_bytes(), "duplex");
}

// Outside a child's start the descriptor is lent (resource_sharer.hpp), here to this very process.
using ConnectionLent = LendingTest;

TEST_F(ConnectionLent, EncodingOutsideAChildStartLendsTheDescriptor) {
  auto [a, b] = Pipe();
  Connection copy = codec::decode<Connection>(codec::encode(a));
  EXPECT_NE(copy.fileno(), a.fileno());
  a.close();
  copy.send_bytes("through the copy");
  EXPECT_EQ(b.recv_bytes(), "through the copy");
}

TEST_F(ConnectionAcrossProcesses, EncodingAClosedConnectionIsHandleIsClosed) {
  Connection closed;
  mp::detail::FdSharingScope scope;
  EXPECT_THROW(codec::encode(closed), weft::net::OSError);
}

TEST_F(ConnectionAcrossProcesses, DecodingAnUnknownTokenOrShapeIsADecodeError) {
  InheritedFds inherited({});
  EXPECT_THROW(codec::decode<Connection>(codec::encode(std::make_tuple(0u, true, true))),
               codec::DecodeError);
  EXPECT_THROW(codec::decode<Connection>(codec::encode(std::make_tuple(0u, true))),
               codec::DecodeError);
  EXPECT_THROW(codec::decode<Connection>(codec::encode(7)), codec::DecodeError);
  InheritedFds one({STDERR_FILENO});
  EXPECT_THROW(codec::decode<Connection>(codec::encode(std::make_tuple(0u, false, false))),
               codec::DecodeError);
}

}  // namespace
