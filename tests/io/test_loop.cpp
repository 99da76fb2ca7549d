// io::Loop — one suite, run against each backend (epoll, io_uring).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "io/io_support.hpp"
#include "weft/io.hpp"

namespace weft::test {
namespace {

using io::Backend;
using io::Loop;
using io::Operation;

class LoopTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::io_uring && !Loop::io_uring_available())
      GTEST_SKIP() << "io_uring is not available here";
    fds_before_ = open_fd_count();
  }
  void TearDown() override {
    if (fds_before_ >= 0) {
      loop_.reset();
      EXPECT_EQ(open_fd_count(), fds_before_) << "file descriptors leaked";
    }
  }
  Loop& loop() {
    if (!loop_) loop_ = std::make_unique<Loop>(io::LoopOptions{GetParam()});
    return *loop_;
  }

  std::unique_ptr<Loop> loop_;
  int fds_before_ = -1;
};

// Runs the loop until `done` holds; fails the test if that takes too long.
template <class Pred>
void run_until(Loop& loop, Pred done) {
  const auto deadline = Clock::now() + kPatience;
  while (!done()) {
    ASSERT_LT(Clock::now(), deadline) << "the loop did not get there in time";
    auto bound = loop.call_later(std::chrono::milliseconds(100), [] {});  // bounds each wait
    loop.run(io::RunMode::once);
    bound.cancel();
  }
}

TEST_P(LoopTest, RunsTheBackendAskedFor) {
  EXPECT_EQ(loop().backend(), GetParam());
  EXPECT_FALSE(loop().alive());
  EXPECT_FALSE(loop().run());
}

TEST_P(LoopTest, CallSoonRunsInOrderAndDefersWhatCallbacksQueue) {
  std::vector<int> order;
  loop().call_soon([&] {
    order.push_back(1);
    loop().call_soon([&] { order.push_back(3); });
  });
  loop().call_soon([&] { order.push_back(2); });
  loop().run(io::RunMode::nowait);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  loop().run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST_P(LoopTest, TimersFireByDueTimeThenByArmingOrder) {
  std::vector<int> order;
  const auto base = loop().now() + std::chrono::milliseconds(20);
  loop().call_at(base + std::chrono::milliseconds(10), [&] { order.push_back(3); });
  loop().call_at(base, [&] { order.push_back(1); });
  loop().call_at(base, [&] { order.push_back(2); });
  auto cancelled = loop().call_at(base, [&] { order.push_back(99); });
  cancelled.cancel();
  EXPECT_TRUE(cancelled.cancelled());
  Stopwatch watch;
  loop().run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_GE(watch.elapsed(), std::chrono::milliseconds(30) - kEarly);
  EXPECT_LT(watch.elapsed(), std::chrono::milliseconds(30) + kSlack);
}

TEST_P(LoopTest, CallerOwnedTimerCanBeRearmedAndCancelled) {
  struct Counting : io::Timer {
    Counting() : Timer(&fire) {}
    static void fire(Timer& timer) noexcept { ++static_cast<Counting&>(timer).fired; }
    int fired = 0;
  } timer;
  loop().start_timer(timer, loop().now() + std::chrono::hours(1));
  loop().start_timer(timer, loop().now());  // re-armed, not duplicated
  loop().run();
  EXPECT_EQ(timer.fired, 1);
  loop().start_timer(timer, loop().now());
  loop().cancel_timer(timer);
  EXPECT_FALSE(timer.scheduled());
  loop().run();
  EXPECT_EQ(timer.fired, 1);
}

TEST_P(LoopTest, CallSoonThreadsafeWakesAWaitingLoop) {
  std::atomic<bool> waiting{false};
  loop().call_soon([&] { waiting.store(true); });
  std::thread other([&] {
    while (!waiting.load()) std::this_thread::yield();
    loop_->call_soon_threadsafe([&] { loop_->stop(); });
  });
  Stopwatch watch;
  loop().run_forever();  // waits with nothing to do until the other thread's callback
  other.join();
  EXPECT_LT(watch.elapsed(), kPatience);
}

TEST_P(LoopTest, StopFromAnotherThreadEndsRunForever) {
  std::atomic<bool> running{false};
  loop().call_soon([&] { running.store(true); });
  std::thread other([&] {
    while (!running.load()) std::this_thread::yield();
    loop_->stop();
  });
  loop().run_forever();
  other.join();
}

TEST_P(LoopTest, ACallbackExceptionLeavesTheLoopUsable) {
  std::vector<int> order;
  loop().call_soon([] { throw std::runtime_error("boom"); });
  loop().call_soon([&] { order.push_back(2); });
  EXPECT_THROW(loop().run(), std::runtime_error);
  loop().run();
  EXPECT_EQ(order, std::vector<int>{2});
}

TEST_P(LoopTest, ReaderIsLevelTriggeredUntilRemoved) {
  SocketPair pair;
  int calls = 0;
  loop().add_reader(pair.a, [&] { ++calls; });
  write_all(pair.b, "x");
  run_until(loop(), [&] { return calls >= 3; });  // data left unread: reported again and again
  EXPECT_TRUE(loop().remove_reader(pair.a));
  EXPECT_FALSE(loop().remove_reader(pair.a));
  const int seen = calls;
  loop().run(io::RunMode::nowait);
  loop().run(io::RunMode::nowait);
  EXPECT_EQ(calls, seen);
  EXPECT_FALSE(loop().alive());
}

TEST_P(LoopTest, WriterReportsWritableSocket) {
  SocketPair pair;
  bool called = false;
  loop().add_writer(pair.a, [&] {
    called = true;
    loop().remove_writer(pair.a);
  });
  loop().run();
  EXPECT_TRUE(called);
}

TEST_P(LoopTest, ACallbackThrowingInThePollPhasePropagates) {
  SocketPair pair;
  loop().add_reader(pair.a, [] { throw std::runtime_error("reader failed"); });
  write_all(pair.b, "x");
  EXPECT_THROW(run_until(loop(), [] { return false; }), std::runtime_error);
  loop().remove_reader(pair.a);
  loop().run();
}

struct Recorded : Operation {
  Recorded() : Operation(&record) {}
  static void record(Operation& op, int result, std::uint32_t flags) noexcept {
    auto& self = static_cast<Recorded&>(op);
    self.results.push_back(result);
    self.flags.push_back(flags);
    if (self.on_result) self.on_result(result, flags);
  }
  std::vector<int> results;
  std::vector<std::uint32_t> flags;
  std::function<void(int, std::uint32_t)> on_result;
  bool finished() const { return !results.empty() && !pending(); }
};

TEST_P(LoopTest, RecvAndSendMoveBytes) {
  SocketPair pair;
  std::string out = "hello, loop";
  std::vector<std::byte> in(64);
  Recorded sent, received;
  loop().recv(received, pair.b, in);
  loop().send(sent, pair.a, std::as_bytes(std::span(out)));
  loop().run();
  ASSERT_EQ(sent.results, std::vector<int>{static_cast<int>(out.size())});
  ASSERT_EQ(received.results, std::vector<int>{static_cast<int>(out.size())});
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(in.data()), out.size()), out);
  EXPECT_FALSE(received.pending());
}

TEST_P(LoopTest, RecvSeesEndOfStream) {
  SocketPair pair;
  std::vector<std::byte> in(16);
  Recorded received;
  loop().recv(received, pair.b, in);
  ::shutdown(pair.a, SHUT_WR);
  loop().run();
  EXPECT_EQ(received.results, std::vector<int>{0});
}

TEST_P(LoopTest, CancelEndsAPendingRecvWithCancelled) {
  SocketPair pair;
  std::vector<std::byte> in(16);
  Recorded received;
  loop().recv(received, pair.b, in);
  loop().run(io::RunMode::nowait);
  EXPECT_TRUE(received.pending());
  loop().cancel(received);
  loop().cancel(received);  // twice: nothing more
  loop().run();
  EXPECT_EQ(received.results, std::vector<int>{-ECANCELED});
  EXPECT_FALSE(loop().alive());
}

TEST_P(LoopTest, CloseCancelsEveryOperationOnTheFd) {
  SocketPair pair;
  std::vector<std::byte> in(16);
  Recorded received;
  loop().recv(received, pair.b, in);
  bool reader_called = false;
  loop().add_reader(pair.b, [&] { reader_called = true; });
  loop().run(io::RunMode::nowait);
  loop().close(pair.release_b());
  loop().run();
  EXPECT_EQ(received.results, std::vector<int>{-ECANCELED});
  EXPECT_FALSE(reader_called);
  EXPECT_FALSE(loop().alive());
}

// close() lets go of the file at once, though the loop does not run again before the peer looks:
// the peer reads end-of-file.
TEST_P(LoopTest, ThePeerSeesTheCloseBeforeTheLoopRunsAgain) {
  SocketPair pair;
  std::vector<std::byte> in(16);
  Recorded received;
  loop().recv(received, pair.b, in);
  loop().add_reader(pair.b, [] {});
  loop().run(io::RunMode::nowait);
  loop().close(pair.release_b());
  char byte = 0;
  const ssize_t n = ::recv(pair.a, &byte, 1, MSG_DONTWAIT);
  EXPECT_EQ(n, 0) << (n < 0 ? std::strerror(errno) : "a byte") << ": the socket is still open";
  loop().run();
  EXPECT_EQ(received.results, std::vector<int>{-ECANCELED});
}

// Each reader closes the other's descriptor, so exactly one of them may run; then a new pair
// of sockets takes the closed number, and the dead reader must not wake for it.
TEST_P(LoopTest, AReaderWhoseDescriptorAnotherCallbackClosedNeverRuns) {
  SocketPair one;
  SocketPair two;
  int calls = 0;
  std::optional<SocketPair> reuse;
  const auto close_other = [&](SocketPair& mine, SocketPair& other) {
    ++calls;
    loop().remove_reader(mine.a);
    if (other.a < 0) return;
    loop().close(std::exchange(other.a, -1));
    reuse.emplace();
    write_all(reuse->b, "x");
  };
  loop().add_reader(one.a, [&] { close_other(one, two); });
  loop().add_reader(two.a, [&] { close_other(two, one); });
  write_all(one.b, "x");
  write_all(two.b, "x");
  run_until(loop(), [&] { return calls > 0; });
  for (int i = 0; i < 5; ++i) loop().run(io::RunMode::nowait);
  EXPECT_EQ(calls, 1);
  loop().run();
  EXPECT_EQ(calls, 1);
}

// The callback of add_reader replaced from inside itself keeps running to its end.
TEST_P(LoopTest, AReaderMayReplaceItselfWhileRunning) {
  SocketPair pair;
  std::vector<std::string> heard;
  const std::string first = "first callback, captured by value";
  loop().add_reader(pair.a, [&, first] {
    loop().add_reader(pair.a, [&] {
      heard.emplace_back("second");
      loop().remove_reader(pair.a);
    });
    heard.push_back(first);  // reads a capture after the replacement
  });
  write_all(pair.b, "x");
  run_until(loop(), [&] { return heard.size() >= 2; });
  EXPECT_EQ(heard, (std::vector<std::string>{first, "second"}));
  loop().run();
}

// A watch callback's capture whose destructor closes its descriptor through the loop, as a
// connection object does, when the loop itself is destroyed.
TEST_P(LoopTest, DestroyingTheLoopDestroysWatchCallbacksWhileItCanServeThem) {
  struct Connection {
    Loop* loop;
    int fd;
    ~Connection() { loop->close(fd); }
  };
  SocketPair pair;
  auto connection = std::make_shared<Connection>(Connection{&loop(), pair.a});
  pair.a = -1;
  loop().add_reader(connection->fd, [connection] {});
  connection.reset();
  loop_.reset();
}

// The same for callbacks queued and never run — call_soon, call_soon_threadsafe, call_later —
// including a timer whose handle outlives the loop and is cancelled afterwards.
TEST_P(LoopTest, DestroyingTheLoopDestroysPendingCallbacksWhileItCanServeThem) {
  struct Connection {
    Loop* loop;
    int fd;
    ~Connection() { loop->close(fd); }
  };
  SocketPair soon, threadsafe, later;
  auto adopt = [&](int& fd) {
    return std::make_shared<Connection>(Connection{&loop(), std::exchange(fd, -1)});
  };
  loop().call_soon([connection = adopt(soon.a)] {});
  loop().call_soon_threadsafe([connection = adopt(threadsafe.a)] {});
  io::TimerHandle handle = loop().call_later(std::chrono::hours(1), [connection = adopt(later.a)] {});
  loop_.reset();
  handle.cancel();
}

// Timers armed for now by a timer's own callback (call_later(0) from call_later(0)) wait for
// the next iteration, so that they cannot keep the loop from polling.
TEST_P(LoopTest, ATimerArmedForNowByATimerWaitsForTheNextIteration) {
  int calls = 0;
  std::function<void()> again = [&] {
    if (++calls < 1000) loop().call_later(std::chrono::milliseconds(0), again);
  };
  loop().call_later(std::chrono::milliseconds(0), again);
  loop().run(io::RunMode::once);
  EXPECT_LE(calls, 2) << "one timers phase before the poll, one after it";
  const int after_one = calls;
  loop().run(io::RunMode::once);
  EXPECT_GT(calls, after_one);
  EXPECT_LE(calls, after_one + 2);
}

TEST_P(LoopTest, SendToAClosedPeerFailsWithoutSignal) {
  SocketPair pair;
  ::close(pair.release_b());
  std::string out(1024, 'x');
  Recorded sent;
  loop().send(sent, pair.a, std::as_bytes(std::span(out)));
  loop().run();
  ASSERT_EQ(sent.results.size(), 1u);
  EXPECT_EQ(sent.results[0], -EPIPE);
}

TEST_P(LoopTest, ConnectToAClosedPortIsRefused) {
  Listener listener;
  const sockaddr_in address = listener.address();
  listener.close();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  Recorded connected;
  loop().connect(connected, fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  loop().run();
  EXPECT_EQ(connected.results, std::vector<int>{-ECONNREFUSED});
  loop().close(fd);
}

TEST_P(LoopTest, MultishotAcceptTakesEveryConnection) {
  Listener listener;
  std::vector<int> accepted;
  Recorded acceptor;
  acceptor.on_result = [&](int fd, std::uint32_t flags) {
    if (fd >= 0 && (flags & io::kMore)) accepted.push_back(fd);
  };
  loop().accept_multishot(acceptor, listener.fd);
  std::vector<int> clients;
  for (int i = 0; i < 20; ++i) clients.push_back(connect_to(listener.address()));
  run_until(loop(), [&] { return accepted.size() == 20; });
  for (int fd : accepted) {
    EXPECT_NE(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0) << "accepted fds are non-blocking";
    EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0) << "accepted fds are close-on-exec";
    ::close(fd);
  }
  for (int fd : clients) ::close(fd);
  loop().cancel(acceptor);
  loop().run();
  EXPECT_FALSE(acceptor.pending());
  EXPECT_EQ(acceptor.results.back(), -ECANCELED);
}

// The pool holds exactly the buffers asked for, any count up to kMaxPoolBuffers on every backend
// (io_uring's ring is a power of two; the pool need not be), and a larger count is a ValueError.
TEST_P(LoopTest, MultishotRecvFillsPoolBuffersUntilTheyRunOut) {
  EXPECT_THROW(loop().create_buffer_pool(Loop::kMaxPoolBuffers + 1, 16), ValueError);
  SocketPair pair;
  io::BufferPool& pool = loop().create_buffer_pool(3, 16);
  Recorded received;
  std::string data;
  received.on_result = [&](int n, std::uint32_t flags) {
    if (n > 0 && (flags & io::kBuffer))
      data.append(reinterpret_cast<const char*>(pool.buffer(io::buffer_id(flags)).data()),
                  static_cast<std::size_t>(n));
    // Buffers are deliberately kept: the pool runs dry.
  };
  loop().recv_multishot(received, pair.b, pool);
  for (int i = 0; i < 4 && received.pending(); ++i) {
    write_all(pair.a, "0123456789abcdef");
    run_until(loop(), [&] { return data.size() >= std::min<std::size_t>(48, 16u * (i + 1)) || !received.pending(); });
  }
  run_until(loop(), [&] { return !received.pending(); });
  EXPECT_EQ(received.results.back(), -ENOBUFS);
  EXPECT_EQ(data, "0123456789abcdef0123456789abcdef0123456789abcdef");
}

TEST_P(LoopTest, MultishotRecvReusesReleasedBuffersAndEndsAtEof) {
  SocketPair pair;
  io::BufferPool& pool = loop().create_buffer_pool(4, 8);
  Recorded received;
  std::string data;
  received.on_result = [&](int n, std::uint32_t flags) {
    if (n > 0 && (flags & io::kBuffer)) {
      const auto id = io::buffer_id(flags);
      data.append(reinterpret_cast<const char*>(pool.buffer(id).data()), static_cast<std::size_t>(n));
      pool.release(id);
    }
  };
  loop().recv_multishot(received, pair.b, pool);
  std::string sent;
  for (int i = 0; i < 50; ++i) {
    const std::string chunk = "chunk" + std::to_string(i) + ";";
    write_all(pair.a, chunk);
    sent += chunk;
    run_until(loop(), [&] { return data.size() == sent.size(); });
  }
  ::shutdown(pair.a, SHUT_WR);
  run_until(loop(), [&] { return !received.pending(); });
  EXPECT_EQ(received.results.back(), 0);
  EXPECT_EQ(data, sent);
}

// A pipe whose writer is gone reports hang-up whatever the interest; once its reader is removed
// (the descriptor still open) the loop sleeps until its timer instead of waking for it.
TEST_P(LoopTest, AHungUpDescriptorNobodyWatchesDoesNotWakeTheLoop) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  ASSERT_EQ(::write(pipe_fds[1], "x", 1), 1);
  ::close(pipe_fds[1]);
  const int read_end = pipe_fds[0];
  loop().add_reader(read_end, [&] {
    char c;
    if (::read(read_end, &c, 1) == 0) loop().remove_reader(read_end);
  });
  bool due = false;
  loop().call_later(std::chrono::milliseconds(100), [&] { due = true; });
  int iterations = 0;
  while (!due && iterations < 100'000) {
    loop().run(io::RunMode::once);
    ++iterations;
  }
  EXPECT_TRUE(due);
  EXPECT_LT(iterations, 20) << "the loop kept waking for the hang-up";
  loop().close(read_end);
}

// A delay too long for the clock never comes due (it used to wrap around and come due at once);
// one far in the past comes due at the next timers phase.
TEST_P(LoopTest, CallLaterWithADelayTooLongForTheClockNeverComesDue) {
  std::vector<int> ran;
  loop().call_later(std::chrono::hours::max(), [&] { ran.push_back(1); });
  loop().call_later(std::chrono::duration<double>(1e12), [&] { ran.push_back(2); });
  loop().call_later(std::chrono::hours::min(), [&] { ran.push_back(3); });
  bool due = false;
  loop().call_later(std::chrono::milliseconds(1), [&] { due = true; });
  run_until(loop(), [&] { return due; });
  EXPECT_EQ(ran, std::vector<int>{3});
}

// A batching io_uring loop with no timer waits for IO without a limit: it must sleep until a
// completion comes, not wake every batch_wait (kernels end a minimum wait that has no timeout of
// its own when the minimum wait does). The descriptor becomes readable 100 ms later, and the
// loop is never told when.
TEST(UringLoop, ABatchingLoopWithoutTimersSleepsUntilACompletion) {
  if (!Loop::io_uring_available()) GTEST_SKIP() << "io_uring is not available here";
  Loop loop(io::LoopOptions{.backend = Backend::io_uring, .batch = 16, .batch_wait = std::chrono::microseconds(30)});
  const int timer = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
  ASSERT_GE(timer, 0);
  const itimerspec in_100ms{{0, 0}, {0, 100'000'000}};
  ASSERT_EQ(::timerfd_settime(timer, 0, &in_100ms, nullptr), 0);
  bool fired = false;
  loop.add_reader(timer, [&] {
    fired = true;
    loop.remove_reader(timer);
  });
  int iterations = 0;
  while (!fired && iterations < 100'000) {
    loop.run(io::RunMode::once);
    ++iterations;
  }
  EXPECT_TRUE(fired);
  EXPECT_LT(iterations, 20) << "the loop woke without a completion";
  loop.close(timer);
}

// A send with MSG_DONTWAIT never waits for room: once the peer's buffers are full it ends
// with EAGAIN, on either backend.
TEST_P(LoopTest, ASendThatMustNotWaitEndsWithEagainOnAFullSocket) {
  SocketPair pair;
  const std::string chunk(64 * 1024, 'x');
  Recorded sent;
  for (int i = 0; i < 1024 && (sent.results.empty() || sent.results.back() > 0); ++i) {
    loop().send(sent, pair.a, std::as_bytes(std::span(chunk)), MSG_DONTWAIT);
    run_until(loop(), [&] { return !sent.pending(); });
  }
  ASSERT_FALSE(sent.results.empty());
  EXPECT_EQ(sent.results.back(), -EAGAIN);
}

// A multishot receive whose pool is empty, restarted by its handler as soon as it ends with
// ENOBUFS, must not keep the loop inside one poll phase: timers and other descriptors still get
// their turn (the restart loop is the handler's to bound, not the loop's to spin in).
TEST_P(LoopTest, ARecvRestartedOnAnEmptyPoolLeavesTheLoopResponsive) {
  constexpr long kRestartCap = 5'000'000;  // bounds the test should the loop spin
  SocketPair pair, other;
  io::BufferPool& pool = loop().create_buffer_pool(1, 8);
  bool timer_ran = false;
  bool reader_ran = false;
  long restarts = 0;
  long restarts_when_timer_ran = -1;
  Recorded received;
  received.on_result = [&](int n, std::uint32_t flags) {
    if ((flags & io::kMore) != 0 || n != -ENOBUFS) return;  // the buffer is kept: the pool runs dry
    if ((timer_ran && reader_ran) || ++restarts >= kRestartCap) return;
    loop().recv_multishot(received, pair.b, pool);
  };
  loop().recv_multishot(received, pair.b, pool);
  write_all(pair.a, "0123456789abcdef");
  loop().call_later(std::chrono::milliseconds(10), [&] {
    timer_ran = true;
    restarts_when_timer_ran = restarts;
  });
  loop().add_reader(other.b, [&] {
    reader_ran = true;
    loop().remove_reader(other.b);
  });
  write_all(other.a, "x");
  run_until(loop(), [&] { return !received.pending(); });
  EXPECT_TRUE(timer_ran);
  EXPECT_TRUE(reader_ran);
  EXPECT_GE(restarts_when_timer_ran, 0);
  EXPECT_LT(restarts_when_timer_ran, kRestartCap) << "the timer ran only once the restarts stopped";
  EXPECT_EQ(received.results.back(), -ENOBUFS);
  loop().run();
}

// An echo server and its clients on one loop, single-shot operations only:
// random payloads larger than the socket buffers, so reads and writes are
// partial; every byte must come back in order.
TEST_P(LoopTest, EchoesEveryByteForManyClients) {
  constexpr int kClients = 50;
  Listener listener;
  struct Session {
    Session(Loop* l, int f) : loop(l), fd(f) {}
    Loop* loop;
    int fd;
    std::vector<std::byte> buffer = std::vector<std::byte>(16 * 1024);
    std::size_t pending_bytes = 0, sent_bytes = 0;
    struct Op : Operation {
      Op(Session* s, Handler h) : Operation(h), session(s) {}
      Session* session;
    };
    Op reading{this, &on_read};
    Op writing{this, &on_write};
    bool closed = false;
    static void on_read(Operation& op, int n, std::uint32_t) noexcept {
      Session& s = *static_cast<Op&>(op).session;
      if (n <= 0) {
        s.loop->close(s.fd);
        s.closed = true;
        return;
      }
      s.pending_bytes = static_cast<std::size_t>(n);
      s.sent_bytes = 0;
      s.loop->send(s.writing, s.fd, std::span(s.buffer).first(s.pending_bytes));
    }
    static void on_write(Operation& op, int n, std::uint32_t) noexcept {
      Session& s = *static_cast<Op&>(op).session;
      if (n < 0) {
        s.loop->close(s.fd);
        s.closed = true;
        return;
      }
      s.sent_bytes += static_cast<std::size_t>(n);
      if (s.sent_bytes < s.pending_bytes)
        s.loop->send(s.writing, s.fd, std::span(s.buffer).subspan(s.sent_bytes, s.pending_bytes - s.sent_bytes));
      else
        s.loop->recv(s.reading, s.fd, s.buffer);
    }
  };
  std::vector<std::unique_ptr<Session>> sessions;
  Recorded acceptor;
  acceptor.on_result = [&](int fd, std::uint32_t) {
    if (fd < 0) return;
    sessions.push_back(std::make_unique<Session>(&loop(), fd));
    Session& s = *sessions.back();
    loop().recv(s.reading, fd, s.buffer);
  };
  loop().accept_multishot(acceptor, listener.fd);

  std::mt19937 random(GetParam() == Backend::epoll ? 1 : 2);
  std::vector<std::unique_ptr<EchoClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    std::string payload(std::uniform_int_distribution<std::size_t>(1, 300'000)(random), '\0');
    for (char& c : payload) c = static_cast<char>(random());
    std::string expected = payload;
    clients.push_back(std::make_unique<EchoClient>(loop(), listener.address(), std::move(payload), std::move(expected)));
  }
  run_until(loop(), [&] {
    return std::all_of(clients.begin(), clients.end(), [](auto& c) { return c->done(); });
  });
  for (auto& client : clients) {
    EXPECT_EQ(client->verdict(), "ok");
  }
  clients.clear();
  run_until(loop(), [&] {
    return sessions.size() == kClients &&
           std::all_of(sessions.begin(), sessions.end(), [](auto& s) { return s->closed; });
  });
  loop().cancel(acceptor);
  loop().run();
}

TEST_P(LoopTest, ForbiddingIoUringFallsBackToEpoll) {
  ::setenv("WEFT_IO_URING", "0", 1);
  Loop fallback(io::LoopOptions{Backend::io_uring});
  ::unsetenv("WEFT_IO_URING");
  EXPECT_EQ(fallback.backend(), Backend::epoll);
}

// Single-shot operations their handlers restart after every result — a receive at end of stream,
// an accept failing on a socket that does not listen (as one failing with EMFILE would) — must
// not keep the loop inside one poll phase: timers still get their turn.
TEST_P(LoopTest, OperationsRestartedByTheirHandlersLeaveTheLoopResponsive) {
  constexpr long kRestartCap = 1'000'000;  // bounds the test should the loop spin
  SocketPair pair;
  ::shutdown(pair.a, SHUT_WR);
  const int unlistened = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(unlistened, 0);
  std::vector<std::byte> in(16);
  bool timer_ran = false;
  long restarts = 0;
  long restarts_when_timer_ran = -1;
  Recorded received, accepted;
  received.on_result = [&](int, std::uint32_t) {
    if (!timer_ran && ++restarts < kRestartCap) loop().recv(received, pair.b, in);
  };
  accepted.on_result = [&](int, std::uint32_t) {
    if (!timer_ran && ++restarts < kRestartCap) loop().accept(accepted, unlistened);
  };
  loop().recv(received, pair.b, in);
  loop().accept(accepted, unlistened);
  loop().call_later(std::chrono::milliseconds(10), [&] {
    timer_ran = true;
    restarts_when_timer_ran = restarts;
  });
  run_until(loop(), [&] { return !received.pending() && !accepted.pending(); });
  ::close(unlistened);
  EXPECT_TRUE(timer_ran);
  EXPECT_GE(restarts_when_timer_ran, 0);
  EXPECT_LT(restarts_when_timer_ran, kRestartCap) << "the timer ran only once the restarts stopped";
  EXPECT_EQ(received.results.back(), 0);
  EXPECT_EQ(accepted.results.back(), -EINVAL);
}

// A multishot operation whose descriptor is closed while results are on their way is called
// exactly once more, without kMore: the backend gives back the buffers and closes the connections
// that arrived after the close.
TEST_P(LoopTest, AMultishotOperationWhoseFdIsClosedIsCalledOnceMore) {
  SocketPair pair;
  io::BufferPool& pool = loop().create_buffer_pool(16, 64);
  write_all(pair.a, std::string(320, 'x'));  // five buffers' worth, ready at once
  Recorded received;
  int calls_after_close = -1;
  received.on_result = [&](int, std::uint32_t flags) {
    if ((flags & io::kBuffer) != 0) pool.release(io::buffer_id(flags));
    if (calls_after_close >= 0) ++calls_after_close;
    if (calls_after_close < 0 && (flags & io::kMore) != 0) {
      calls_after_close = 0;
      loop().close(pair.release_b());
    }
  };
  loop().recv_multishot(received, pair.b, pool);

  Listener listener;
  std::vector<int> clients;
  for (int i = 0; i < 5; ++i) clients.push_back(connect_to(listener.address()));
  Recorded accepted;
  int accepts_after_close = -1;
  accepted.on_result = [&](int fd, std::uint32_t flags) {
    if (fd >= 0) ::close(fd);
    if (accepts_after_close >= 0) ++accepts_after_close;
    if (accepts_after_close < 0 && (flags & io::kMore) != 0) {
      accepts_after_close = 0;
      loop().close(std::exchange(listener.fd, -1));
    }
  };
  loop().accept_multishot(accepted, listener.fd);

  run_until(loop(), [&] { return !received.pending() && !accepted.pending(); });
  EXPECT_EQ(calls_after_close, 1);
  EXPECT_EQ(received.flags.back() & io::kMore, 0u);
  EXPECT_EQ(accepts_after_close, 1);
  EXPECT_EQ(accepted.flags.back() & io::kMore, 0u);
  for (int fd : clients) ::close(fd);
}

// A multishot receive cancelled by its handler loses no byte: what the kernel had already taken
// from the socket (io_uring) still comes, with kMore, before the final call; the rest stays in
// the socket.
TEST_P(LoopTest, ACancelledMultishotReceiveLosesNoBytes) {
  SocketPair pair;
  io::BufferPool& pool = loop().create_buffer_pool(16, 64);
  write_all(pair.a, std::string(320, 'x'));  // five buffers' worth, ready at once
  std::size_t delivered = 0;
  Recorded received;
  received.on_result = [&](int n, std::uint32_t flags) {
    if ((flags & io::kBuffer) != 0) {
      delivered += static_cast<std::size_t>(n);
      pool.release(io::buffer_id(flags));
    }
    if (received.results.size() == 1 && (flags & io::kMore) != 0) loop().cancel(received);
  };
  loop().recv_multishot(received, pair.b, pool);
  run_until(loop(), [&] { return !received.pending(); });
  EXPECT_EQ(received.flags.back() & io::kMore, 0u);
  std::vector<char> rest(1024);
  const ssize_t left = ::recv(pair.b, rest.data(), rest.size(), MSG_DONTWAIT);
  EXPECT_EQ(delivered + static_cast<std::size_t>(std::max<ssize_t>(left, 0)), 320u);
}

// A child of fork() shares its parent's epoll instance or ring: the Loop it inherited refuses to
// start operations or run (RuntimeError; may_run_here() is false), and closing a descriptor
// through it or destroying it leaves the parent's operations and buffers alone.
TEST_P(LoopTest, AForkedChildNeitherUsesNorDisturbsItsParentsLoop) {
  SocketPair pair, other;
  io::BufferPool& pool = loop().create_buffer_pool(4, 64);
  Recorded received;
  received.on_result = [&](int, std::uint32_t flags) {
    if ((flags & io::kBuffer) != 0) pool.release(io::buffer_id(flags));
  };
  loop().recv_multishot(received, pair.b, pool);
  loop().run(io::RunMode::nowait);  // registered, or submitted
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::alarm(10);  // bounds the child should it hang
    int code = loop().may_run_here() ? 16 : 0;
    loop().close(pair.release_b());
    std::vector<std::byte> in(8);
    Recorded child_op;
    try {
      loop().recv(child_op, other.b, in);
      code |= 1;
    } catch (const RuntimeError&) {
    } catch (...) {
      code |= 2;
    }
    try {
      loop().run(io::RunMode::nowait);
      code |= 4;
    } catch (const RuntimeError&) {
    } catch (...) {
      code |= 8;
    }
    loop_.reset();
    ::_exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "the child did not end by itself";
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "1, 2: starting an operation; 4, 8: run() (not RuntimeError); 16: may_run_here() in the child";
  EXPECT_TRUE(loop().may_run_here());
  write_all(pair.a, "hello");
  run_until(loop(), [&] { return !received.results.empty(); });
  loop().cancel(received);
  loop().run();
  ASSERT_FALSE(received.results.empty());
  EXPECT_EQ(received.results.front(), 5);
}

// A thread hands a result over with call_soon_threadsafe and the loop's thread, once the callback
// has run, destroys the loop at once (as after to_thread): the call, which may not have returned
// yet, must not touch the loop any more. A late touch is a heap use-after-free that only a
// sanitizer build (ASan, as in CI) reports, and only when the posting thread is held up at that
// moment: hence many rounds, which catch it in some runs, not in every one (fewer on io_uring,
// whose rings are slower to make; the race is the same).
TEST_P(LoopTest, ALoopMayBeDestroyedOnceACallbackFromAnotherThreadRan) {
  const int kRounds = GetParam() == Backend::epoll ? 20000 : 2000;
  std::atomic<Loop*> posting_to{nullptr};
  std::atomic<bool> ran{false};
  std::thread poster([&] {
    for (int round = 0; round < kRounds; ++round) {
      posting_to.wait(nullptr);
      posting_to.exchange(nullptr)->call_soon_threadsafe([&] { ran.store(true); });
    }
  });
  for (int round = 0; round < kRounds; ++round) {
    auto loop = std::make_unique<Loop>(io::LoopOptions{GetParam()});
    ran.store(false);
    posting_to.store(loop.get());
    posting_to.notify_one();
    // The callback always comes. The loop stays busy, not waiting, and lets the poster have
    // the processor should they share one.
    for (int spins = 1; !ran.load(); ++spins) {
      loop->run(io::RunMode::nowait);
      if (spins % 64 == 0) std::this_thread::yield();
    }
  }
  poster.join();
}

// The same for stop(): run_forever() returns and the loop is destroyed at once.
TEST_P(LoopTest, ALoopMayBeDestroyedOnceAStopFromAnotherThreadEndedRunForever) {
  struct Spin {  // keeps the poll phase from waiting
    Loop* loop;
    void operator()() const { loop->call_soon(Spin{loop}); }
  };
  for (int round = 0; round < 200; ++round) {
    auto loop = std::make_unique<Loop>(io::LoopOptions{GetParam()});
    Loop* const raw = loop.get();
    raw->call_soon(Spin{raw});
    std::thread other([raw] { raw->stop(); });
    raw->run_forever();
    loop.reset();
    other.join();
  }
}

// asyncio: after stop(), run_forever() still runs one iteration (polling without waiting) and
// the callbacks already scheduled.
TEST_P(LoopTest, RunForeverAfterStopRunsOneIteration) {
  bool ran = false;
  loop().call_soon([&] { ran = true; });
  io::TimerHandle bound = loop().call_later(kPatience, [&] { loop().stop(); });
  loop().stop();
  const Stopwatch watch;
  loop().run_forever();
  EXPECT_TRUE(ran);
  EXPECT_LT(watch.elapsed(), kPatience) << "it waited";
  bound.cancel();
}

// A stop() made in the iteration whose callback threw was for the run that threw: the next
// run() or run_forever() goes on until its own stop(), as asyncio clears its stopping flag in a
// finally.
TEST_P(LoopTest, AStopBeforeACallbackThrewDoesNotEndTheNextRun) {
  int steps = 0;
  std::function<void()> step = [&] {
    if (++steps < 3) loop().call_soon([&] { step(); });
    else loop().stop();
  };
  loop().call_soon([&] { loop().stop(); });
  loop().call_soon([] { throw std::runtime_error("boom"); });
  EXPECT_THROW(loop().run_forever(), std::runtime_error);
  loop().call_soon([&] { step(); });
  loop().run_forever();
  EXPECT_EQ(steps, 3) << "run_forever() ended at a stop() of the run before";

  loop().call_soon([&] { loop().stop(); });
  loop().call_soon([] { throw std::runtime_error("boom"); });
  EXPECT_THROW(loop().run(), std::runtime_error);
  steps = 0;
  step = [&] {
    if (++steps < 3) loop().call_soon([&] { step(); });
  };
  loop().call_soon([&] { step(); });
  EXPECT_FALSE(loop().run());
  EXPECT_EQ(steps, 3) << "run() ended at a stop() of the run before";
}

// asyncio: running a loop that is already running raises RuntimeError, and the running loop
// goes on untouched — whether the second run comes from one of its callbacks or another thread.
TEST_P(LoopTest, RunningALoopThatIsAlreadyRunningThrowsRuntimeError) {
  int outer = 0;
  int second = 0;
  bool run_refused = false;
  bool run_forever_refused = false;
  loop().call_soon([&] {
    if (++outer > 1) return;  // run again by a nested run(): the bug
    try {
      loop().run();
    } catch (const RuntimeError&) {
      run_refused = true;
    }
    try {
      loop().run_forever();
    } catch (const RuntimeError&) {
      run_forever_refused = true;
    }
  });
  loop().call_soon([&] { ++second; });
  EXPECT_FALSE(loop().run());
  EXPECT_EQ(outer, 1);
  EXPECT_EQ(second, 1);
  EXPECT_TRUE(run_refused);
  EXPECT_TRUE(run_forever_refused);

  std::atomic<bool> running{false};
  std::atomic<bool> refused{false};
  loop().call_soon([&] { running.store(true); });
  std::thread other([&] {
    while (!running.load()) std::this_thread::yield();
    try {
      loop_->run(io::RunMode::nowait);
    } catch (const RuntimeError&) {
      refused.store(true);
    }
    loop_->stop();
  });
  loop().run_forever();
  other.join();
  EXPECT_TRUE(refused.load());
}

// A loop made on one thread may first run on another, for good on io_uring: its ring is tied to
// the thread that first runs it.
TEST_P(LoopTest, ALoopMadeOnOneThreadMayFirstRunOnAnother) {
  SocketPair pair;
  std::byte buffer[16];
  Recorded received;
  loop();
  std::thread([&] {
    loop_->recv(received, pair.a, buffer);
    write_all(pair.b, "hello");
    run_until(*loop_, [&] { return !received.pending(); });
    loop_->recv(received, pair.a, buffer);
    write_all(pair.b, "again");
    run_until(*loop_, [&] { return !received.pending(); });
  }).join();
  EXPECT_EQ(received.results, (std::vector<int>{5, 5}));
}

// Run later (not meanwhile) on another thread, an epoll loop moves with it; an io_uring loop,
// whose ring belongs to the thread that first ran it, throws RuntimeError and runs on there.
TEST_P(LoopTest, ALoopRunLaterOnAnotherThreadMovesOnEpollAndThrowsOnIoUring) {
  int ran = 0;
  loop().call_soon([&] { ++ran; });
  loop().run();
  std::thread([&] {
    loop_->call_soon([&] { ++ran; });
    EXPECT_EQ(loop_->may_run_here(), GetParam() == Backend::epoll);
    if (GetParam() == Backend::epoll) {
      EXPECT_FALSE(loop_->run());
      EXPECT_EQ(ran, 2);
      loop_->call_soon([&] { loop_->stop(); });
      loop_->run_forever();
    } else {
      EXPECT_THROW(loop_->run(), RuntimeError);
      EXPECT_THROW(loop_->run_forever(), RuntimeError);
      EXPECT_EQ(ran, 1);
    }
  }).join();
  EXPECT_FALSE(loop().run());
  EXPECT_EQ(ran, 2);
}

TEST_P(LoopTest, ALoopFirstRunOnAnEndedThreadIsRefusedOnIoUringToAThreadThatMayReuseItsId) {
  int ran = 0;
  std::thread([&] {
    loop().call_soon([&] { ++ran; });
    loop().run();
  }).join();
  std::thread([&] {
    loop_->call_soon([&] { ++ran; });
    if (GetParam() == Backend::epoll) {
      EXPECT_FALSE(loop_->run());
      EXPECT_EQ(ran, 2);
    } else {
      EXPECT_THROW(loop_->run(), RuntimeError);
      EXPECT_EQ(ran, 1);
    }
  }).join();
}

INSTANTIATE_TEST_SUITE_P(Backends, LoopTest, ::testing::Values(Backend::epoll, Backend::io_uring),
                         [](const auto& info) { return std::string(io::to_string(info.param)); });

}  // namespace
}  // namespace weft::test
