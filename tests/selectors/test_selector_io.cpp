// Selectors driving real I/O: CPython's socket-pair exchange, callbacks as data, a thousand
// socket pairs, loopback TCP accept/connect, descriptors at FD_SETSIZE, and EpollSelector's own
// surface (fileno, refusals, DefaultSelector).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <weft/errors.hpp>
#include <weft/selectors.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <functional>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include "selectors/selectors_support.hpp"

namespace {

using namespace weft::test;

template <class P>
class SelectorIo : public SelectorTest<P> {};
TYPED_TEST_SUITE(SelectorIo, AllSelectors, SelectorName);

// CPython's test_selector: twelve pairs; write on a ready writer, read exactly its reader.
TYPED_TEST(SelectorIo, ExchangeOverTwelvePairs) {
  SelectorOf<TypeParam, int> s;
  constexpr int kPairs = 12;
  const std::string msg = " This is a test.";
  std::vector<SocketPair> pairs;
  for (int i = 0; i < kPairs; ++i) {
    pairs.push_back(socket_pair());
    s.register_(pairs.back().a.get(), EVENT_READ, i);
    s.register_(pairs.back().b.get(), EVENT_WRITE, i);
  }
  std::vector<int> writers(kPairs);
  for (int i = 0; i < kPairs; ++i) writers[i] = i;
  std::vector<std::string> bufs;
  unsigned pick = 7;
  while (!writers.empty()) {
    std::vector<int> ready_writers;
    for (const auto& [key, events] : s.select(kPatience))
      if (events & EVENT_WRITE) ready_writers.push_back(key.data);
    ASSERT_FALSE(ready_writers.empty()) << "no sockets ready for writing";
    pick = pick * 1103515245u + 12345u;
    const int w = ready_writers[pick % ready_writers.size()];
    send_text(pairs[w].b, msg);

    std::vector<int> ready_readers;
    for (const auto& [key, events] : s.select(kPatience))
      if (events & EVENT_READ) ready_readers.push_back(key.data);
    ASSERT_EQ(ready_readers, std::vector<int>{w});
    bufs.push_back(recv_text(pairs[w].a, msg.size()));
    s.unregister(pairs[w].b.get());
    s.unregister(pairs[w].a.get());
    writers.erase(std::find(writers.begin(), writers.end(), w));
  }
  EXPECT_EQ(bufs, std::vector<std::string>(kPairs, msg));
  EXPECT_TRUE(s.get_map().empty());
}

using Callback = std::function<void(int fd, int events)>;

// The seeds' pattern: the data of each key is the callback that serves its file.
TYPED_TEST(SelectorIo, CallbacksAsData) {
  SelectorOf<TypeParam, Callback> s;
  auto [server, client] = socket_pair();
  std::vector<std::string> served;
  bool hung_up = false;
  s.register_(server.get(), EVENT_READ, [&](int fd, int events) {
    EXPECT_EQ(events, EVENT_READ);
    const std::string text = recv_text(server);
    if (text.empty()) {
      s.unregister(fd);
      hung_up = true;
      return;
    }
    served.push_back(text);
    send_text(server, text);
  });
  for (const std::string text : {"ping", "pong"}) {
    send_text(client, text);
    for (const auto& [key, events] : s.select(kPatience)) key.data(key.fd, events);
    EXPECT_EQ(recv_text(client), text);
  }
  client.reset();
  for (const auto& [key, events] : s.select(kPatience)) key.data(key.fd, events);
  EXPECT_TRUE(hung_up);
  EXPECT_EQ(served, (std::vector<std::string>{"ping", "pong"}));
  EXPECT_TRUE(s.get_map().empty());
}

// Keys returned by select() are copies: a callback that unregisters and closes another ready file
// leaves that file's key (and its data) intact for the rest of the loop, which can tell it is gone.
TYPED_TEST(SelectorIo, ReturnedKeysOutliveAnUnregister) {
  SelectorOf<TypeParam, Callback> s;
  auto [a, a_peer] = socket_pair();
  auto [b, b_peer] = socket_pair();
  std::vector<std::string> calls;
  bool closed_one = false;
  auto closer = [&](Fd& other, std::string name) {
    return [&, name](int, int) {
      calls.push_back(name);
      if (closed_one) return;
      closed_one = true;
      s.unregister(other.get());
      other.reset();
    };
  };
  s.register_(a.get(), EVENT_WRITE, closer(b, "a"));
  s.register_(b.get(), EVENT_WRITE, closer(a, "b"));
  const auto ready = s.select(kPatience);
  ASSERT_EQ(ready.size(), 2u);
  std::vector<weft::selectors::SelectorKey<Callback>> gone;
  for (const auto& [key, events] : ready) {
    if (s.try_get_key(key.fd) == nullptr) {
      gone.push_back(key);
      continue;
    }
    key.data(key.fd, events);
  }
  ASSERT_EQ(calls.size(), 1u);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].events, EVENT_WRITE);
  gone[0].data(gone[0].fd, EVENT_WRITE);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_NE(calls[0], calls[1]);
  EXPECT_EQ(s.get_map().size(), 1u);
}

// CPython's test_above_fd_setsize, within FD_SETSIZE for SelectSelector: every file is reported by
// one select().
TYPED_TEST(SelectorIo, ManySocketPairs) {
  const int pairs_wanted =
      TypeParam::kBelowFdSetsize ? (FD_SETSIZE - static_cast<int>(open_fd_count()) - 32) / 2 : 1000;
  const rlim_t fds_needed = TypeParam::kBelowFdSetsize ? FD_SETSIZE : 2 * pairs_wanted + open_fd_count() + 64;
  if (!allow_open_fds(fds_needed)) GTEST_SKIP() << "RLIMIT_NOFILE too low";
  SelectorOf<TypeParam, int> s;
  std::vector<SocketPair> pairs;
  pairs.reserve(static_cast<std::size_t>(pairs_wanted));
  for (int i = 0; i < pairs_wanted; ++i) {
    pairs.push_back(socket_pair());
    s.register_(pairs.back().a.get(), EVENT_READ, i);
    s.register_(pairs.back().b.get(), EVENT_WRITE, i);
  }
  EXPECT_EQ(s.get_map().size(), static_cast<std::size_t>(2 * pairs_wanted));

  auto ready = s.select(kPatience);
  ASSERT_EQ(ready.size(), static_cast<std::size_t>(pairs_wanted));
  for (const auto& [key, events] : ready) EXPECT_EQ(events, EVENT_WRITE);

  for (auto& pair : pairs) send_text(pair.b, "x");
  s.select_into(ready, kPatience);
  ASSERT_EQ(ready.size(), static_cast<std::size_t>(2 * pairs_wanted));
  std::vector<int> readable(static_cast<std::size_t>(pairs_wanted));
  for (const auto& [key, events] : ready)
    if (events == EVENT_READ) ++readable[static_cast<std::size_t>(key.data)];
  EXPECT_TRUE(std::all_of(readable.begin(), readable.end(), [](int n) { return n == 1; }));

  for (auto& pair : pairs) {
    s.unregister(pair.a.get());
    s.unregister(pair.b.get());
  }
  EXPECT_TRUE(s.get_map().empty());
}

TYPED_TEST(SelectorIo, DescriptorsAtFdSetsize) {
  if (!allow_open_fds(FD_SETSIZE + 64)) GTEST_SKIP() << "RLIMIT_NOFILE too low";
  SelectorOf<TypeParam, int> s;
  auto [a, b] = socket_pair();
  Fd below = dup_at_least(a, FD_SETSIZE - 1);
  Fd above = dup_at_least(b, FD_SETSIZE);
  ASSERT_EQ(below.get(), FD_SETSIZE - 1);
  s.register_(below.get(), EVENT_WRITE, 1);
  if (TypeParam::kBelowFdSetsize) {
    EXPECT_THROW(s.register_(above.get(), EVENT_WRITE, 2), weft::ValueError);
    EXPECT_EQ(s.get_map().size(), 1u);
    EXPECT_EQ(s.select(kPatience).size(), 1u);
  } else {
    s.register_(above.get(), EVENT_WRITE, 2);
    EXPECT_EQ(s.select(kPatience).size(), 2u);
  }
}

TYPED_TEST(SelectorIo, LoopbackTcpAcceptAndConnect) {
  SelectorOf<TypeParam, std::string> s;
  sockaddr_in address{};
  Fd listener = tcp_listener(address);
  Fd client = tcp_connecting(address);
  Fd accepted;
  s.register_(listener, EVENT_READ, "listener");
  s.register_(client, EVENT_WRITE, "client");
  bool connected = false;
  for (int round = 0; round < 10 && !(connected && accepted.get() >= 0); ++round) {
    for (const auto& [key, events] : s.select(kPatience)) {
      if (key.data == "listener") {
        EXPECT_EQ(events, EVENT_READ);
        accepted.reset(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        ASSERT_GE(accepted.get(), 0);
        s.unregister(listener);
        s.register_(accepted, EVENT_READ, "accepted");
      } else if (key.data == "client") {
        EXPECT_EQ(events, EVENT_WRITE);
        int error = -1;
        socklen_t len = sizeof error;
        ASSERT_EQ(::getsockopt(client.get(), SOL_SOCKET, SO_ERROR, &error, &len), 0);
        EXPECT_EQ(error, 0);
        connected = true;
        s.modify(client, EVENT_READ, "client");
      }
    }
  }
  ASSERT_TRUE(connected);
  ASSERT_GE(accepted.get(), 0);
  send_text(client, "hello");
  auto ready = s.select(kPatience);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].first.data, "accepted");
  EXPECT_EQ(recv_text(accepted), "hello");
  s.unregister(accepted);
  s.unregister(client);
}

template <class P>
class EpollOnly : public SelectorTest<P> {};
using Epoll = ::testing::Types<UseEpoll>;
TYPED_TEST_SUITE(EpollOnly, Epoll, SelectorName);

TYPED_TEST(EpollOnly, FilenoIsACloseOnExecEpollDescriptor) {
  const auto before = open_fd_count();
  {
    weft::selectors::EpollSelector<> s;
    EXPECT_EQ(open_fd_count(), before + 1);
    const int fd = s.fileno();
    ASSERT_GE(fd, 0);
    EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
    s.close();
    EXPECT_THROW(s.fileno(), weft::RuntimeError);
    EXPECT_EQ(open_fd_count(), before);
  }
  { weft::selectors::EpollSelector<> s; }
  EXPECT_EQ(open_fd_count(), before);
}

TYPED_TEST(EpollOnly, NestsInAnotherSelector) {
  weft::selectors::EpollSelector<int> inner;
  weft::selectors::PollSelector<int> outer;
  auto [a, b] = socket_pair();
  inner.register_(a.get(), EVENT_READ, 1);
  outer.register_(inner.fileno(), EVENT_READ, 2);
  EXPECT_TRUE(outer.select(0s).empty());
  send_text(b, "x");
  auto ready = outer.select(kPatience);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].first.data, 2);
  outer.unregister(inner.fileno());
}

TYPED_TEST(EpollOnly, RefusesARegularFile) {
  weft::selectors::EpollSelector<int> s;
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  EXPECT_THROW(s.register_(::fileno(file), EVENT_READ, 1), std::system_error);
  EXPECT_TRUE(s.get_map().empty());
  EXPECT_EQ(s.try_get_key(::fileno(file)), nullptr);
  std::fclose(file);
}

TYPED_TEST(EpollOnly, RegisteringAClosedDescriptorThrowsEBADF) {
  weft::selectors::EpollSelector<int> s;
  auto [a, b] = socket_pair();
  const int fd = a.get();
  a.reset();
  try {
    s.register_(fd, EVENT_READ, 1);
    ADD_FAILURE() << "registered a closed descriptor";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EBADF);
  }
  EXPECT_THROW(s.get_key(fd), weft::KeyError);
}

TYPED_TEST(EpollOnly, ModifyTheKernelRefusesUnregisters) {
  weft::selectors::EpollSelector<int> s;
  auto [a, b] = socket_pair();
  const int fd = a.get();
  s.register_(fd, EVENT_READ, 1);
  a.reset();
  EXPECT_THROW(s.modify(fd, EVENT_WRITE, 2), std::system_error);
  EXPECT_EQ(s.try_get_key(fd), nullptr);
  EXPECT_TRUE(s.get_map().empty());
}

TEST(DefaultSelector, IsEpollSelector) {
  static_assert(std::is_same_v<weft::selectors::DefaultSelector<>, weft::selectors::EpollSelector<std::any>>);
  static_assert(std::is_same_v<weft::selectors::DefaultSelector<int>, weft::selectors::EpollSelector<int>>);
  weft::selectors::DefaultSelector s;
  EXPECT_GE(s.fileno(), 0);
}

}  // namespace
