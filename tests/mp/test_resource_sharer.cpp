// Descriptors lent by one process and taken by another (Python's resource_sharer), and the
// objects that travel that way outside a child's start: a Connection sent over a Connection, a
// net::Socket in a Pool task's arguments.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <weft/codec.hpp>
#include <weft/multiprocessing.hpp>
#include <weft/net.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mp/connection_support.hpp"

namespace {

using namespace weft::test;
using namespace std::chrono_literals;
namespace mp = weft::mp;
namespace net = weft::net;
namespace codec = weft::codec;
using mp::detail::LentFd;

using ResourceSharer = LendingTest;

// Whether `fd` reaches end of file within the patience (every copy of the other end closed).
bool reaches_eof(int fd) {
  pollfd entry{fd, POLLIN, 0};
  if (::poll(&entry, 1, static_cast<int>(std::chrono::milliseconds(kPatience).count())) != 1)
    return false;
  char byte;
  return ::read(fd, &byte, 1) == 0;
}

// Whether the peer of `sock` sees end of file once `sock` is closed: no other copy is left.
bool last_copy(net::Socket sock, net::Socket& peer) {
  sock.close();
  peer.settimeout(kPatience);
  try {
    return peer.recv(1).empty();
  } catch (const net::OSError&) {
    return false;
  }
}

struct PipeFds {
  int read = -1;
  int write = -1;
  PipeFds() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    read = fds[0];
    write = fds[1];
  }
  ~PipeFds() {
    if (read >= 0) ::close(read);
    if (write >= 0) ::close(write);
  }
  void close_write() { ::close(std::exchange(write, -1)); }
};

TEST_F(ResourceSharer, ALentDescriptorIsTakenOnceAsANewCloseOnExecDescriptor) {
  auto [a, b] = net::socketpair();
  const LentFd lent = mp::detail::lend_fd(a.fileno());
  EXPECT_EQ(lent.address.front(), '\0');
  const int taken = mp::detail::take_lent_fd(lent);
  EXPECT_NE(taken, a.fileno());
  EXPECT_NE(::fcntl(taken, F_GETFD) & FD_CLOEXEC, 0);
  ASSERT_EQ(::write(taken, "x", 1), 1);
  EXPECT_EQ(b.recv(1), "x");
  ::close(taken);
  try {
    mp::detail::take_lent_fd(lent);
    ADD_FAILURE() << "taken twice";
  } catch (const codec::DecodeError& error) {
    EXPECT_EQ(std::string(error.what()),
              "no descriptor is lent under this key: it was taken already");
  }
}

TEST_F(ResourceSharer, AKeyNeverLentIsRefusedAndTheLentOneStillServed) {
  auto [a, b] = net::socketpair();
  LentFd lent = mp::detail::lend_fd(a.fileno());
  LentFd forged = lent;
  forged.key[0] ^= 1;
  EXPECT_THROW(mp::detail::take_lent_fd(forged), codec::DecodeError);
  ::close(mp::detail::take_lent_fd(lent));
}

TEST_F(ResourceSharer, TheLenderHoldsNoCopyOnceTheDescriptorIsTaken) {
  PipeFds pipe;
  const LentFd lent = mp::detail::lend_fd(pipe.write);
  pipe.close_write();
  Child child = Child::fork([&] {
    const int taken = mp::detail::take_lent_fd(lent);
    if (::write(taken, "y", 1) != 1) throw std::runtime_error("write failed");
  });
  ASSERT_EQ(child.wait(), 0);
  char byte = 0;
  ASSERT_EQ(::read(pipe.read, &byte, 1), 1);
  EXPECT_EQ(byte, 'y');
  EXPECT_TRUE(reaches_eof(pipe.read)) << "the lender kept its duplicate";
}

TEST_F(ResourceSharer, AForkedChildClosesItsCopiesOfTheParentsLoans) {
  PipeFds pipe;
  const LentFd parents = mp::detail::lend_fd(pipe.write);
  pipe.close_write();
  auto [control, child_control] = mp::Pipe();
  Child child = Child::fork([&child_control = child_control] {
    child_control.send_bytes("forked");
    child_control.recv_bytes();  // stay alive, holding whatever the fork gave it
  });
  ASSERT_TRUE(control.poll(kPatience));
  EXPECT_EQ(control.recv_bytes(), "forked");
  ::close(mp::detail::take_lent_fd(parents));
  EXPECT_TRUE(reaches_eof(pipe.read)) << "the child kept a copy of the parent's loan";
  control.send_bytes("done");
  EXPECT_EQ(child.wait(), 0);
}

TEST_F(ResourceSharer, AForkedChildLendsThroughASharerOfItsOwn) {
#if defined(WEFT_TEST_UNDER_TSAN) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "ThreadSanitizer does not support starting threads after a multi-threaded fork";
#endif
  auto [a, b] = net::socketpair();
  const LentFd parents = mp::detail::lend_fd(a.fileno());
  Child child = Child::fork([&parents] {
    auto [x, y] = net::socketpair();
    const LentFd own = mp::detail::lend_fd(x.fileno());
    if (own.address == parents.address) throw std::runtime_error("the parent's sharer");
    ::close(mp::detail::take_lent_fd(own));
  });
  EXPECT_EQ(child.wait(), 0);
  ::close(mp::detail::take_lent_fd(parents));
}

// Lends one end of a socket pair, sends where to take it, and exits.
void lend_one_and_exit(mp::Connection to_parent) {
  auto [x, y] = net::socketpair();
  to_parent.send(mp::detail::DupFd::of(x.fileno()));
}

// Children forked while descriptors are handed over close their copies of the sharer's connection
// (and of the descriptor in flight): no take waits for such a child to exit.
TEST_F(ResourceSharer, ForksDuringHandoversDoNotHoldTakersUp) {
  PipeFds hold;  // the children live until this closes
  std::atomic<bool> done{false};
  std::vector<pid_t> children;
  std::thread forker([&] {
    while (!done.load() && children.size() < 200) {
      const pid_t pid = ::fork();
      if (pid == 0) {
        ::close(hold.write);
        char byte;
        [[maybe_unused]] const auto got = ::read(hold.read, &byte, 1);
        ::_exit(0);
      }
      if (pid > 0) children.push_back(pid);
    }
  });
  Clock::duration longest{};
  for (int i = 0; i < 100; ++i) {
    auto [mine, peer] = net::socketpair();
    const LentFd lent = mp::detail::lend_fd(mine.fileno());
    Stopwatch taking;
    ::close(mp::detail::take_lent_fd(lent));
    longest = std::max(longest, taking.elapsed());
  }
  done = true;
  forker.join();
  hold.close_write();
  for (const pid_t pid : children) ::waitpid(pid, nullptr, 0);
  EXPECT_LT(longest, 2s) << "a take waited for a forked child";
}

TEST_F(ResourceSharer, TakingFromALenderThatExitedIsConnectionRefused) {
  auto [control, child_control] = mp::Pipe();
  auto child = mp::get_context("spawn").Process(lend_one_and_exit, std::move(child_control));
  child.start();
  ASSERT_TRUE(control.poll(kPatience));
  const auto dup = control.recv<mp::detail::DupFd>();
  ASSERT_TRUE(child.join(kPatience));
  EXPECT_EQ(child.exitcode(), 0);
  EXPECT_THROW(dup.detach(), net::ConnectionRefusedError);
}

TEST_F(ResourceSharer, APeerOfAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become another user";
  auto [a, b] = net::socketpair();
  const LentFd lent = mp::detail::lend_fd(a.fileno());
  Child child = Child::fork([&] {
    if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0)
      ::_exit(2);
    try {
      ::close(mp::detail::take_lent_fd(lent));
    } catch (const mp::AuthenticationError&) {
      ::_exit(3);
    }
  });
  EXPECT_EQ(child.wait(), 3);
  ::close(mp::detail::take_lent_fd(lent));
}

TEST_F(ResourceSharer, MalformedLoansAreDecodeErrors) {
  const auto decode_dup = [](const auto& value) {
    return codec::decode<mp::detail::DupFd>(codec::encode(value));
  };
  EXPECT_THROW(decode_dup(std::string("token")), codec::DecodeError);
  EXPECT_THROW(decode_dup(std::make_tuple(std::string("\0x", 2), std::string("key"), 1)),
               codec::DecodeError);
  EXPECT_THROW(decode_dup(std::make_tuple(std::string("\0x", 2), std::vector<std::byte>(15), 1)),
               codec::DecodeError);
  const auto not_abstract =
      decode_dup(std::make_tuple(std::string("/tmp/x"), std::vector<std::byte>(16), 1));
  EXPECT_THROW(not_abstract.detach(), codec::DecodeError);
}

TEST_F(ResourceSharer, AListenerThatIsNotTheLenderIsNotTrusted) {
  net::Socket impostor(AF_UNIX, SOCK_STREAM);
  impostor.bind(net::Address::unix_path(""));
  impostor.listen(1);
  LentFd forged{.address = impostor.getsockname().path(), .key = {}, .pid = ::getpid() + 1};
  EXPECT_THROW(mp::detail::take_lent_fd(forged), mp::AuthenticationError);
}

TEST_F(ResourceSharer, APutThatFailsWithdrawsWhatItLent) {
  mp::Queue<net::Socket> queue(1);
  auto [first, first_peer] = net::socketpair();
  auto [second, second_peer] = net::socketpair();
  queue.put(first);
  EXPECT_THROW(queue.put(second, false), weft::Full);
  EXPECT_TRUE(last_copy(std::move(second), second_peer)) << "the loan of the failed put stayed";
  net::Socket got = queue.get();  // the queued item's loan is still there to take
  got.sendall("x");
  first_peer.settimeout(kPatience);
  EXPECT_EQ(first_peer.recv(1), "x");
}

TEST_F(ResourceSharer, AConnectionSentOverAConnectionReachesAForkedChild) {
  auto [control, child_control] = mp::Pipe();
  auto [mine, theirs] = mp::Pipe();
  Child child = Child::fork([&child_control = child_control] {
    mp::Connection got = child_control.recv<mp::Connection>();
    got.send(got.recv<int>() * 2);
  });
  control.send(theirs);
  theirs.close();
  mine.send(21);
  ASSERT_TRUE(mine.poll(kPatience));
  EXPECT_EQ(mine.recv<int>(), 42);
  EXPECT_EQ(child.wait(), 0);
  ASSERT_TRUE(mine.poll(kPatience)) << "the child held the only other copy";
  EXPECT_THROW(mine.recv_bytes(), weft::EOFError);
}

TEST_F(ResourceSharer, ASocketPutOnAQueueIsUsedByTheProcessThatGetsIt) {
  mp::Queue<net::Socket> queue;
  auto [mine, theirs] = net::socketpair();
  mine.settimeout(kPatience);
  Child child = Child::fork([&queue] { queue.get().sendall("via the queue"); });
  queue.put(theirs);
  theirs.close();
  EXPECT_EQ(mine.recv(64), "via the queue");
  EXPECT_EQ(child.wait(), 0);
  EXPECT_EQ(mine.recv(64), "") << "the child held the only other copy";
}

int peer_port(net::Socket sock) { return sock.getpeername().port(); }
std::optional<net::Socket> worker_socket;
void keep_socket(net::Socket sock) { worker_socket = std::move(sock); }
int send_pid(int) {
  worker_socket->sendall(std::to_string(::getpid()) + ";");
  return ::getpid();
}

TEST_F(ResourceSharer, ATaskNotSubmittedWithdrawsWhatItLent) {
  mp::Pool pool(1);
  pool.close();
  auto [mine, peer] = net::socketpair();
  EXPECT_THROW(pool.apply_async(peer_port, std::tuple{std::move(mine)}), weft::ValueError);
  EXPECT_TRUE(last_copy(std::move(mine), peer)) << "the loan of the refused task stayed";
  pool.join();
}

// Python's Pool(initializer=init, initargs=(sock,)): every worker, the
// one that replaces the first included, inherits the socket; nothing is lent.
TEST_F(ResourceSharer, APoolInitializerSocketReachesEveryWorker) {
  for (const char* method : {"fork", "spawn"}) {
    SCOPED_TRACE(method);
    auto [mine, peer] = net::socketpair();
    mp::Pool pool(mp::PoolOptions{.processes = 1, .maxtasksperchild = 1, .context = mp::get_context(method)},
                  keep_socket, std::move(mine));
    const int first = pool.apply(send_pid, std::tuple{0});
    const int second = pool.apply(send_pid, std::tuple{0});
    EXPECT_NE(first, second);
    const std::string expected = std::to_string(first) + ";" + std::to_string(second) + ";";
    peer.settimeout(kPatience);
    std::string got;
    for (std::string part = "x"; got.size() < expected.size() && !part.empty();) {
      part = peer.recv(expected.size() - got.size());
      got += part;
    }
    EXPECT_EQ(got, expected);
    pool.close();
    pool.join();
  }
}

// A Pool task's side of the seed's chat server: answers one message upper-cased, from its pid.
std::string answer_upper(net::Socket conn) {
  std::string message = conn.recv(1024);
  std::transform(message.begin(), message.end(), message.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  conn.sendall(message + " from " + std::to_string(::getpid()));
  return message;
}

TEST_F(ResourceSharer, ASocketAcceptedHereIsServedByAPoolWorker) {
  mp::Pool pool(2);
  net::Socket listener = net::create_server(net::Address::ipv4("127.0.0.1", 0));
  net::Socket client = net::create_connection(listener.getsockname(), kPatience);
  auto result = pool.apply_async(answer_upper, std::tuple{listener.accept().first});
  client.sendall("hello");
  std::string reply = client.recv(1024);
  EXPECT_EQ(reply.rfind("HELLO from ", 0), 0u) << reply;
  EXPECT_NE(reply, "HELLO from " + std::to_string(::getpid()));
  EXPECT_EQ(result.get(kPatience), "HELLO");
  EXPECT_EQ(client.recv(1), "") << "the worker's copy was the last one";
  pool.close();
  pool.join();
}

TEST_F(ResourceSharer, AClosedSocketIsNotEncoded) {
  net::Socket closed;
  closed.close();
  EXPECT_THROW(codec::encode(closed), net::OSError);
}

}  // namespace
