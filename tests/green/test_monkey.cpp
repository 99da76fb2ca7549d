// monkey::patch_all: unmodified blocking calls (sleep_for, recv, read,
// write, poll, select, accept, connect) interleave on one thread inside
// greenlets, keep libc's behaviour outside them and before patching, and
// real blocking C libraries — libcurl, hiredis — run concurrently in
// greenlets.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "delay_http_server.hpp"
#include "io_support.hpp"
#include "weft/green/greenlet_task.hpp"
#include "weft/green/monkey.hpp"
#include "weft/green/sleep.hpp"
#include "weft/net/connection.hpp"
#include "weft/net/errors.hpp"
#include "weft/net/socket.hpp"

#include <curl/curl.h>
#include <hiredis/hiredis.h>

namespace green = weft::green;
namespace monkey = weft::green::monkey;
namespace net = weft::net;
namespace io = weft::io;
using namespace std::chrono_literals;
using green::test::on_backend;
using green::test::Stopwatch;

extern char** environ;

namespace {

class Patched : public ::testing::TestWithParam<io::Backend> {
 protected:
  void SetUp() override { monkey::patch_all(); }
  void TearDown() override { monkey::unpatch_all(); }

  template <class F>
  void run(F scenario) {
    on_backend(GetParam(), std::move(scenario));
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, Patched, ::testing::Values(io::Backend::epoll, io::Backend::io_uring),
                         [](const auto& info) { return green::test::backend_name(info.param); });

// A blocking (default-mode) socket pair, as plain C code would make it.
std::pair<int, int> blocking_pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw std::runtime_error("socketpair");
  return {fds[0], fds[1]};
}

TEST(Monkey, PatchAllIsAFlag) {
  EXPECT_FALSE(monkey::is_patched());
  monkey::patch_all();
  monkey::patch_all();
  EXPECT_TRUE(monkey::is_patched());
  monkey::unpatch_all();
  EXPECT_FALSE(monkey::is_patched());
}

TEST_P(Patched, FiftySleepsForTwoHundredMillisecondsTakeAboutTwoHundredInAll) {
  run([] {
    std::vector<green::AnyGreenlet> sleepers;
    Stopwatch watch;
    for (int i = 0; i < 50; ++i)
      sleepers.push_back(green::spawn([] { std::this_thread::sleep_for(200ms); }));
    green::joinall(sleepers);
    EXPECT_GE(watch.seconds(), 0.19);
    EXPECT_LT(watch.seconds(), 1.5) << "sequential sleeps would take 10 s";
  });
}

TEST_P(Patched, EverySleepCallParks) {
  run([] {
    int ticks = 0;
    auto ticker = green::spawn([&] {
      for (;;) {
        green::sleep(5ms);
        ++ticks;
      }
    });
    Stopwatch watch;
    auto sleepers = {
        green::AnyGreenlet(green::spawn([] { ::usleep(100'000); })),
        green::AnyGreenlet(green::spawn([] { ::sleep(0); })),
        green::AnyGreenlet(green::spawn([] {
          const timespec request{0, 100'000'000};
          EXPECT_EQ(::nanosleep(&request, nullptr), 0);
        })),
        green::AnyGreenlet(green::spawn([] {
          const timespec request{0, 100'000'000};
          EXPECT_EQ(::clock_nanosleep(CLOCK_MONOTONIC, 0, &request, nullptr), 0);
        })),
        green::AnyGreenlet(green::spawn([] {
          timespec when{};
          ::clock_gettime(CLOCK_REALTIME, &when);
          when.tv_nsec += 100'000'000;
          if (when.tv_nsec >= 1'000'000'000) {
            when.tv_nsec -= 1'000'000'000;
            ++when.tv_sec;
          }
          EXPECT_EQ(::clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &when, nullptr), 0);
        })),
        green::AnyGreenlet(green::spawn([] { EXPECT_EQ(::poll(nullptr, 0, 100), 0); })),
        green::AnyGreenlet(green::spawn([] {
          timeval limit{0, 100'000};
          EXPECT_EQ(::select(0, nullptr, nullptr, nullptr, &limit), 0);
          EXPECT_EQ(limit.tv_sec, 0);
          EXPECT_EQ(limit.tv_usec, 0);
        })),
    };
    green::joinall(sleepers);
    EXPECT_GE(watch.seconds(), 0.095);
    EXPECT_LT(watch.seconds(), 1.0) << "seven sleeps one after the other would take 0.6 s";
    EXPECT_GE(ticks, 5) << "other greenlets ran meanwhile";
    ticker.kill();
    const timespec invalid{0, -1};
    EXPECT_EQ(::nanosleep(&invalid, nullptr), -1);
    EXPECT_EQ(errno, EINVAL);
  });
}

TEST_P(Patched, BlockingRecvReadAndPollInterleave) {
  run([] {
    constexpr int kPairs = 10;
    std::vector<std::pair<int, int>> pairs;
    for (int i = 0; i < kPairs; ++i) pairs.push_back(blocking_pair());
    std::vector<std::string> got(kPairs * 3);
    std::vector<green::AnyGreenlet> readers;
    for (int i = 0; i < kPairs; ++i) {
      const int fd = pairs[static_cast<std::size_t>(i)].first;
      readers.push_back(green::spawn([&got, fd, i] {
        char buffer[16] = {};
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        got[static_cast<std::size_t>(3 * i)].assign(buffer, static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
        pollfd ready{fd, POLLIN, 0};
        EXPECT_EQ(::poll(&ready, 1, -1), 1);
        EXPECT_TRUE(ready.revents & POLLIN);
        const ssize_t m = ::read(fd, buffer, sizeof buffer);
        got[static_cast<std::size_t>(3 * i + 1)].assign(buffer, static_cast<std::size_t>(std::max<ssize_t>(m, 0)));
        fd_set readable;
        FD_ZERO(&readable);
        FD_SET(fd, &readable);
        EXPECT_EQ(::select(fd + 1, &readable, nullptr, nullptr, nullptr), 1);
        iovec iov{buffer, sizeof buffer};
        const ssize_t k = ::readv(fd, &iov, 1);
        got[static_cast<std::size_t>(3 * i + 2)].assign(buffer, static_cast<std::size_t>(std::max<ssize_t>(k, 0)));
      }));
    }
    auto writer = green::spawn([&] {
      for (const char* word : {"one", "two", "three"}) {
        std::this_thread::sleep_for(10ms);
        for (const auto& [reader, peer] : pairs) EXPECT_EQ(::write(peer, word, std::strlen(word)), static_cast<ssize_t>(std::strlen(word)));
      }
    });
    green::joinall(readers);
    writer.join();
    for (int i = 0; i < kPairs; ++i) {
      EXPECT_EQ(got[static_cast<std::size_t>(3 * i)], "one");
      EXPECT_EQ(got[static_cast<std::size_t>(3 * i + 1)], "two");
      EXPECT_EQ(got[static_cast<std::size_t>(3 * i + 2)], "three");
    }
    for (const auto& [a, b] : pairs) {
      ::close(a);
      ::close(b);
    }
  });
}

TEST_P(Patched, PollTimesOutCooperativelyAndReportsReadiness) {
  run([] {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    int ticks = 0;
    auto ticker = green::spawn([&] {
      for (;;) {
        green::sleep(2ms);
        ++ticks;
      }
    });
    pollfd entries[2] = {{fds[0], POLLIN, 0}, {-1, POLLIN, 0}};
    Stopwatch watch;
    EXPECT_EQ(::poll(entries, 2, 50), 0);
    EXPECT_GE(watch.seconds(), 0.045);
    EXPECT_GE(ticks, 3);
    auto writer = green::spawn([&] {
      green::sleep(10ms);
      EXPECT_EQ(::write(fds[1], "x", 1), 1);
    });
    EXPECT_EQ(::poll(entries, 2, 5000), 1);
    EXPECT_EQ(entries[0].revents, POLLIN);
    writer.join();
    ticker.kill();
    ::close(fds[0]);
    ::close(fds[1]);
  });
}

TEST_P(Patched, LargeWritesToBlockingSocketsAndPipesDoNotBlockTheThread) {
  run([] {
    const std::string payload(2 << 20, 'p');
    auto [a, b] = blocking_pair();
    int pipe_fds[2];
    ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
    for (const auto& [out, in] : {std::pair{a, b}, std::pair{pipe_fds[1], pipe_fds[0]}}) {
      auto writer = green::spawn([&, out = out] {
        EXPECT_EQ(::write(out, payload.data(), payload.size()), static_cast<ssize_t>(payload.size()));
        iovec halves[2] = {{const_cast<char*>(payload.data()), payload.size() / 2},
                           {const_cast<char*>(payload.data()) + payload.size() / 2, payload.size() / 2}};
        EXPECT_EQ(::writev(out, halves, 2), static_cast<ssize_t>(payload.size()));
      });
      std::size_t received = 0;
      std::vector<char> buffer(100000);
      while (received < 2 * payload.size()) {
        const ssize_t n = ::read(in, buffer.data(), buffer.size());
        ASSERT_GT(n, 0);
        received += static_cast<std::size_t>(n);
      }
      writer.join();
      EXPECT_TRUE(writer.successful());
    }
    for (int fd : {a, b, pipe_fds[0], pipe_fds[1]}) ::close(fd);
  });
}

TEST_P(Patched, BlockingAcceptAndConnectInterleave) {
  run([] {
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), size), 0);
    ASSERT_EQ(::listen(listener, 16), 0);
    ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size), 0);
    auto server = green::spawn([&] {
      const int conn = ::accept(listener, nullptr, nullptr);
      EXPECT_GE(conn, 0);
      EXPECT_EQ(::fcntl(conn, F_GETFL) & O_NONBLOCK, 0) << "accept keeps libc's flags";
      char buffer[8];
      EXPECT_EQ(::recv(conn, buffer, 4, MSG_WAITALL), 4);
      EXPECT_EQ(::send(conn, buffer, 4, 0), 4);
      ::close(conn);
    });
    auto client = green::spawn([&] {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), size), 0);
      EXPECT_EQ(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0) << "connect restores the blocking mode";
      for (const char* part : {"ab", "cd"}) {
        EXPECT_EQ(::send(fd, part, 2, 0), 2);
        std::this_thread::sleep_for(5ms);
      }
      char buffer[8] = {};
      EXPECT_EQ(::recv(fd, buffer, 4, MSG_WAITALL), 4);
      EXPECT_STREQ(buffer, "abcd");
      ::close(fd);
    });
    green::joinall({server, client});
    EXPECT_TRUE(server.successful());
    EXPECT_TRUE(client.successful());
    ::close(listener);

    const int refused = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_EQ(::connect(refused, reinterpret_cast<sockaddr*>(&address), size), -1);
    EXPECT_EQ(errno, ECONNREFUSED);
    ::close(refused);
  });
}

TEST_P(Patched, NonBlockingDescriptorsAndTimeoutsKeepLibcSemantics) {
  run([] {
    auto [a, b] = blocking_pair();
    char buffer[4];
    ::fcntl(a, F_SETFL, ::fcntl(a, F_GETFL) | O_NONBLOCK);
    EXPECT_EQ(::recv(a, buffer, sizeof buffer, 0), -1);
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_EQ(::read(a, buffer, sizeof buffer), -1);
    EXPECT_EQ(errno, EAGAIN);
    ::fcntl(a, F_SETFL, ::fcntl(a, F_GETFL) & ~O_NONBLOCK);

    const timeval limit{0, 30'000};
    ASSERT_EQ(::setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit), 0);
    Stopwatch watch;
    EXPECT_EQ(::recv(a, buffer, sizeof buffer, 0), -1);
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_GE(watch.seconds(), 0.025);

    ::close(b);
    EXPECT_EQ(::recv(a, buffer, sizeof buffer, 0), 0);
    ::close(a);
  });
}

// A call that succeeds (or reads the end of the stream) leaves errno as libc's does: as it was,
// whatever attempts that would have blocked or did not fit the descriptor it made on the way
// (OpenSSL's socket BIO reads errno after a read() returning 0 to tell the end from a retry).
TEST_P(Patched, SuccessfulCallsLeaveErrnoAlone) {
  run([] {
    constexpr int kUntouched = EDOM;
    char buffer[8];
    int error = 0;
    const auto call = [&](auto f) {
      errno = kUntouched;
      const ssize_t result = f();
      error = errno;
      return result;
    };

    const auto [a, b] = blocking_pair();
    auto writer = green::spawn([b] {
      std::this_thread::sleep_for(10ms);
      EXPECT_EQ(::send(b, "hi", 2, 0), 2);
      std::this_thread::sleep_for(10ms);
      EXPECT_EQ(::write(b, "yo", 2), 2);
      std::this_thread::sleep_for(10ms);
      ::close(b);
    });
    const int fd = a;
    EXPECT_EQ(call([&] { return ::recv(fd, buffer, sizeof buffer, 0); }), 2);  // after waiting
    EXPECT_EQ(error, kUntouched);
    iovec iov{buffer, sizeof buffer};
    EXPECT_EQ(call([&] { return ::readv(fd, &iov, 1); }), 2);
    EXPECT_EQ(error, kUntouched);
    EXPECT_EQ(call([&] { return ::read(fd, buffer, sizeof buffer); }), 0);  // the end, after waiting
    EXPECT_EQ(error, kUntouched);
    writer.join();
    ::close(a);

    int pipe_fds[2];
    ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
    EXPECT_EQ(call([&] { return ::write(pipe_fds[1], "x", 1); }), 1);
    EXPECT_EQ(error, kUntouched);
    const iovec out{const_cast<char*>("y"), 1};
    EXPECT_EQ(call([&] { return ::writev(pipe_fds[1], &out, 1); }), 1);
    EXPECT_EQ(error, kUntouched);
    EXPECT_EQ(call([&] { return ::read(pipe_fds[0], buffer, sizeof buffer); }), 2);
    EXPECT_EQ(error, kUntouched);
    ::close(pipe_fds[1]);
    EXPECT_EQ(call([&] { return ::read(pipe_fds[0], buffer, sizeof buffer); }), 0);
    EXPECT_EQ(error, kUntouched);
    ::close(pipe_fds[0]);

    // A failure still reports its own errno.
    EXPECT_EQ(call([&] { return ::read(-1, buffer, sizeof buffer); }), -1);
    EXPECT_EQ(error, EBADF);
  });
}

// SO_RCVTIMEO bounds accept() and recvmsg(MSG_WAITALL) as it does in the kernel, and bounds a
// whole blocking call once, however many pieces it gathers. (A watchdog closes the descriptors
// if a call outstays its timeout, so that a failure cannot hang the test.)
TEST_P(Patched, SocketTimeoutsBoundAcceptAndWholeCalls) {
  run([] {
    const timeval limit{0, 100'000};
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(::listen(listener, 4), 0);
    ASSERT_EQ(::setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit), 0);
    auto [a, b] = blocking_pair();
    ASSERT_EQ(::setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit), 0);
    auto watchdog = green::spawn([&, fd = a] {
      green::sleep(5s);
      ::shutdown(listener, SHUT_RDWR);
      ::shutdown(fd, SHUT_RDWR);
    });

    Stopwatch watch;
    EXPECT_EQ(::accept(listener, nullptr, nullptr), -1);
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_GE(watch.seconds(), 0.09);
    EXPECT_LT(watch.seconds(), 2.0);

    char buffer[16];
    iovec piece{buffer, sizeof buffer};
    msghdr message{};
    message.msg_iov = &piece;
    message.msg_iovlen = 1;
    watch = Stopwatch();
    EXPECT_EQ(::recvmsg(a, &message, MSG_WAITALL), -1);
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_LT(watch.seconds(), 2.0);

    // Ten bytes trickle in over 0.5 s: a recv waiting for all of them gives up after its
    // 0.1 s with what it has.
    auto trickle = green::spawn([&, fd = b] {
      for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(::send(fd, "x", 1, 0), 1);
        green::sleep(50ms);
      }
    });
    watch = Stopwatch();
    const ssize_t got = ::recv(a, buffer, 10, MSG_WAITALL);
    EXPECT_GT(got, 0);
    EXPECT_LT(got, 10);
    EXPECT_LT(watch.seconds(), 0.4);
    trickle.join();
    watchdog.kill();
    ::close(listener);
    ::close(a);
    ::close(b);
  });
}

// A peek reads from the queue's start every time: MSG_PEEK | MSG_WAITALL waits for the first
// bytes and returns them once, as a Unix socket's blocking call does, never the same bytes
// gathered again behind themselves.
TEST_P(Patched, PeekingWithWaitAllReturnsTheQueuedBytesOnce) {
  run([] {
    auto [a, b] = blocking_pair();
    std::string peeked;
    auto reader = green::spawn([&, fd = a] {
      char buffer[10] = {};
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_PEEK | MSG_WAITALL);
      if (n > 0) peeked.assign(buffer, static_cast<std::size_t>(n));
    });
    green::sleep();  // the reader parks: nothing has arrived
    ASSERT_EQ(::send(b, "hello", 5, 0), 5);
    reader.join();
    EXPECT_EQ(peeked, "hello");
    ASSERT_EQ(::send(b, "world", 5, 0), 5);
    char buffer[11] = {};
    EXPECT_EQ(::recv(a, buffer, 10, MSG_WAITALL), 10);
    EXPECT_STREQ(buffer, "helloworld");
    ::close(a);
    ::close(b);
  });
}

TEST_P(Patched, ClosingADescriptorWakesItsWaiterWithEBADF) {
  run([] {
    auto [a, b] = blocking_pair();
    int error = 0;
    auto reader = green::spawn([&, fd = a] {
      char buffer[4];
      EXPECT_EQ(::recv(fd, buffer, sizeof buffer, 0), -1);
      error = errno;
    });
    green::sleep(5ms);
    ::close(a);
    reader.join();
    EXPECT_EQ(error, EBADF);
    ::close(b);
  });
}

TEST_P(Patched, OutsideGreenletsCallsBlockTheThreadAsLibcDoes) {
  run([] {
    // This thread has no hub: nothing to park on.
    auto [a, b] = blocking_pair();
    std::thread writer([fd = b] {
      const timespec pause{0, 20'000'000};
      ::nanosleep(&pause, nullptr);
      EXPECT_EQ(::write(fd, "x", 1), 1);
    });
    char buffer[1];
    EXPECT_EQ(::recv(a, buffer, 1, 0), 1);
    writer.join();
    Stopwatch watch;
    std::this_thread::sleep_for(20ms);
    EXPECT_GE(watch.seconds(), 0.019);
    ::close(a);
    ::close(b);
  });
}

TEST(Monkey, BeforePatchAllGreenletsBlockTheThread) {
  on_backend(io::Backend::automatic, [] {
    ASSERT_FALSE(monkey::is_patched());
    std::vector<green::AnyGreenlet> sleepers;
    Stopwatch watch;
    for (int i = 0; i < 4; ++i) sleepers.push_back(green::spawn([] { std::this_thread::sleep_for(30ms); }));
    green::joinall(sleepers);
    EXPECT_GE(watch.seconds(), 0.115) << "unpatched sleeps run one after the other";
  });
}

TEST(Monkey, NoDescriptorLeaks) {
  const int before = green::test::open_fds();
  monkey::patch_all();
  on_backend(io::Backend::automatic, [] {
    std::vector<green::AnyGreenlet> pairs;
    for (int i = 0; i < 20; ++i)
      pairs.push_back(green::spawn([] {
        auto [a, b] = blocking_pair();
        auto reader = green::spawn([fd = a] {
          char c;
          EXPECT_EQ(::read(fd, &c, 1), 1);
        });
        std::this_thread::sleep_for(1ms);
        EXPECT_EQ(::write(b, "x", 1), 1);
        reader.join();
        ::close(a);
        ::close(b);
      }));
    green::joinall(pairs);
  });
  monkey::unpatch_all();
  EXPECT_EQ(green::test::open_fds(), before);
}

std::size_t collect(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// One blocking transfer, as unmodified client code does it.
std::string fetch(const std::string& url, long* status) {
  CURL* curl = curl_easy_init();
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  const CURLcode result = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
  curl_easy_cleanup(curl);
  if (result != CURLE_OK) return std::string("curl: ") + curl_easy_strerror(result);
  return body;
}

TEST_P(Patched, AHundredBlockingCurlTransfersRunConcurrentlyOnOneThread) {
  constexpr int kTransfers = 100;
  constexpr auto kDelay = 200ms;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  green::test::DelayHttpServer server(kDelay);
  const int before = green::test::open_fds();
  run([&] {
    std::vector<std::string> bodies(kTransfers);
    std::vector<long> statuses(kTransfers);
    std::vector<green::AnyGreenlet> transfers;
    Stopwatch watch;
    for (int i = 0; i < kTransfers; ++i)
      transfers.push_back(green::spawn([&, i] {
        bodies[static_cast<std::size_t>(i)] = fetch(server.url(), &statuses[static_cast<std::size_t>(i)]);
      }));
    green::joinall(transfers);
    const double elapsed = watch.seconds();
    for (int i = 0; i < kTransfers; ++i) {
      EXPECT_EQ(bodies[static_cast<std::size_t>(i)], "hello");
      EXPECT_EQ(statuses[static_cast<std::size_t>(i)], 200);
    }
    const double sequential = kTransfers * std::chrono::duration<double>(kDelay).count();
    EXPECT_GE(elapsed, 0.19);
    EXPECT_LT(elapsed, 1.5) << "one after the other they would take " << sequential << " s";
    std::printf("%d curl transfers of a %g s response: %.3f s on one thread (sequential: %g s)\n", kTransfers,
                std::chrono::duration<double>(kDelay).count(), elapsed, sequential);
  });
  EXPECT_EQ(server.answered(), kTransfers);
  EXPECT_EQ(green::test::open_fds(), before);
}

// A redis-server on a free loopback port for the life of the object.
class RedisServer {
 public:
  RedisServer() {
    for (int attempt = 0; attempt < 3 && pid_ < 0; ++attempt) start();
  }
  ~RedisServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  bool running() const { return pid_ > 0; }
  std::uint16_t port() const { return port_; }

 private:
  void start() {
    {
      net::Socket probe;
      probe.bind(net::Address::ipv4("127.0.0.1", 0));
      port_ = probe.getsockname().port();
    }
    const std::string port = std::to_string(port_);
    const char* argv[] = {"redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--logfile", "/dev/null", "--maxclients", "1000", nullptr};
    pid_t pid = -1;
    if (::posix_spawnp(&pid, "redis-server", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) return;
    // Ready once it accepts a connection (bounded: five seconds).
    for (int i = 0; i < 500; ++i) {
      try {
        net::create_connection(net::Address::ipv4("127.0.0.1", port_)).close();
        pid_ = pid;
        return;
      } catch (const net::OSError&) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) return;  // it exited: try another port
        std::this_thread::sleep_for(10ms);
      }
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }

  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

bool have_redis_server() { return ::system("command -v redis-server >/dev/null 2>&1") == 0; }

TEST_P(Patched, AHundredBlockingHiredisCommandsRunConcurrentlyOnOneThread) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server is not installed";
  RedisServer redis;
  ASSERT_TRUE(redis.running()) << "redis-server did not start";
  constexpr int kClients = 100;
  run([&] {
    int timed_out = 0;
    std::vector<green::AnyGreenlet> clients;
    Stopwatch watch;
    for (int i = 0; i < kClients; ++i)
      clients.push_back(green::spawn([&, i] {
        redisContext* context = redisConnect("127.0.0.1", redis.port());
        ASSERT_TRUE(context != nullptr && context->err == 0) << (context ? context->errstr : "no context");
        // BLPOP on an empty list answers nil after its timeout: 200 ms.
        const std::string key = "weft-empty-" + std::to_string(i);
        auto* reply = static_cast<redisReply*>(redisCommand(context, "BLPOP %s 0.2", key.c_str()));
        ASSERT_TRUE(reply != nullptr) << context->errstr;
        if (reply->type == REDIS_REPLY_NIL) ++timed_out;
        freeReplyObject(reply);
        redisFree(context);
      }));
    green::joinall(clients);
    const double elapsed = watch.seconds();
    EXPECT_EQ(timed_out, kClients);
    EXPECT_GE(elapsed, 0.19);
    EXPECT_LT(elapsed, 1.5) << "one after the other they would take " << kClients * 0.2 << " s";
    std::printf("%d hiredis BLPOPs of 0.2 s: %.3f s on one thread (sequential: %g s)\n", kClients, elapsed,
                kClients * 0.2);
  });
}

}  // namespace
