// The shared-memory call channel of local manager connections: calls go
// through it, messages too large for it fall back to the socket, a client
// or server that dies while the other waits on it is noticed promptly, and
// a hostile client writing garbage into it costs only itself.
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "manager_channel.hpp"
#include "mp/child_process.hpp"
#include "weft/mp/listener.hpp"
#include "weft/mp/managers.hpp"
#include "weft/mp/queues.hpp"
#include "weft/mp/remote_error.hpp"
#include "weft/net/fds.hpp"
#include "weft/net/socket.hpp"

namespace {

namespace mp = weft::mp;
namespace detail = weft::mp::manager::detail;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Request = std::tuple<std::uint8_t, std::uint64_t, std::string, std::string>;
using Reply = std::tuple<bool, std::string>;

constexpr std::uint8_t kCount = 7;
constexpr std::uint8_t kUpgrade = 8;

// How many call channels this process has open.
int open_channels() {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code error;
    const auto target = std::filesystem::read_symlink(entry.path(), error);
    if (!error && target.string().find("weft:manager-channel") != std::string::npos) ++count;
  }
  return count;
}

// How many descriptors this process has open.
int open_fds() {
  int count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++count;
  return count;
}

// How many call channels this process has mapped.
int mapped_channels() {
  std::ifstream maps("/proc/self/maps");
  int count = 0;
  for (std::string line; std::getline(maps, line);) count += line.find("weft:manager-channel") != std::string::npos;
  return count;
}

// The system call thread `tid` of this process is in (-1 when running).
long syscall_of(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/syscall");
  std::string first;
  in >> first;
  return first == "running" || first.empty() ? -1 : std::stol(first);
}

// Waits until thread `tid` is parked in futex_wait.
bool parked_on_futex(pid_t tid) {
  const auto until = Clock::now() + 10s;
  while (Clock::now() < until) {
    if (syscall_of(tid) == SYS_futex) return true;
    std::this_thread::yield();
  }
  return false;
}

// The type name of the error `reply` carries.
std::string error_of(const std::string& reply) {
  auto [ok, body] = weft::codec::decode<Reply>(reply);
  if (ok) return "(no error)";
  return weft::codec::decode<mp::detail::EncodedException>(body).type;
}

class ManagerChannel : public ::testing::Test {
 protected:
  void expect_serving() {
    d.setitem("alive", 1);
    EXPECT_EQ(d.getitem("alive"), 1);
  }

  mp::Manager manager;
  mp::DictProxy<std::string, int> d = manager.dict<std::string, int>();
};

TEST_F(ManagerChannel, CallsGoThroughAChannelOfTheCallingThread) {
  const int before = open_channels();
  d.setitem("x", 1);
  EXPECT_EQ(d.getitem("x"), 1);
  EXPECT_EQ(open_channels(), before + 1);
  std::thread([&] { EXPECT_EQ(d.getitem("x"), 1); }).join();
  EXPECT_EQ(open_channels(), before + 1);  // the thread's went with it
}

TEST_F(ManagerChannel, MessagesLargerThanTheChannelGoOverTheSocket) {
  auto big = manager.dict<int, std::string>();
  const std::size_t capacity = detail::CallChannel::kCapacity;
  std::vector<std::size_t> sizes = {1, 1000, 3 * capacity, 17 * capacity + 5};
  for (std::size_t size = capacity - 96; size <= capacity + 32; size += 8) sizes.push_back(size);
  for (const std::size_t size : sizes) {
    std::string value(size, '\0');
    for (std::size_t i = 0; i < size; ++i) value[i] = static_cast<char>('a' + (i * 7 + size) % 26);
    big.setitem(1, value);
    EXPECT_EQ(big.getitem(1), value) << size;
    expect_serving();  // small calls go on through the channel
  }
}

TEST_F(ManagerChannel, AClientKilledWhileTheServerWaitsReleasesItsLock) {
  auto lock = manager.Lock();
  mp::SimpleQueue<int> acquired;
  auto child = weft::test::Child::fork([lock, acquired]() mutable {
    lock.acquire();
    acquired.put(1);
    for (;;) ::pause();
  });
  ASSERT_EQ(acquired.get(), 1);
  EXPECT_FALSE(lock.acquire(false));
  child.kill();
  const auto start = Clock::now();
  EXPECT_TRUE(lock.acquire(10s));
  EXPECT_LT(Clock::now() - start, 5s);
  lock.release();
  expect_serving();
}

TEST_F(ManagerChannel, AServerKilledWhileTheClientWaitsRaisesManagerGoneErrorPromptly) {
  auto event = manager.Event();
  std::atomic<pid_t> waiter{0};
  std::atomic<bool> gone{false};
  std::thread thread([&] {
    EXPECT_FALSE(event.is_set());  // the thread's channel is made
    waiter.store(static_cast<pid_t>(::syscall(SYS_gettid)));
    try {
      event.wait();
    } catch (const mp::ManagerGoneError&) {
      gone.store(true);
    }
  });
  while (waiter.load() == 0) std::this_thread::yield();
  EXPECT_TRUE(parked_on_futex(waiter.load()));
  ASSERT_TRUE(manager.pid());
  ::kill(*manager.pid(), SIGKILL);
  const auto start = Clock::now();
  thread.join();
  EXPECT_TRUE(gone.load());
  EXPECT_LT(Clock::now() - start, 2s);
}

// A client that speaks the channel by hand.
class HostileClient {
 public:
  explicit HostileClient(mp::Manager& manager)
      : conn_(mp::Client(manager.address(), AF_UNSPEC, manager.authkey())),
        channel_(detail::CallChannel::create()) {
    conn_.send_bytes(weft::codec::encode(Request{kUpgrade, 0, "", ""}));
    detail::send_channel(conn_, *channel_);
    EXPECT_EQ(error_of(conn_.recv_bytes()), "(no error)");
    words_ = ::mmap(nullptr, detail::CallChannel::kPayloadOffset + detail::CallChannel::kCapacity,
                    PROT_READ | PROT_WRITE, MAP_SHARED, channel_->fd(), 0);
    EXPECT_NE(words_, MAP_FAILED);
  }
  ~HostileClient() { ::munmap(words_, detail::CallChannel::kPayloadOffset + detail::CallChannel::kCapacity); }

  // Writes `payload` and `length` into the request lane.
  void fill(std::string_view payload, std::uint32_t length) {
    std::memcpy(static_cast<char*>(words_) + detail::CallChannel::kPayloadOffset, payload.data(),
                payload.size());
    lane().length.store(length);
  }
  // Bumps the request lane's seq to `seq` (the next one when 0).
  void bump(std::uint32_t seq = 0) {
    lane().seq.store(seq != 0 ? seq : lane().seq.load() + 1);
    weft::detail::futex_wake(lane().seq, 1, weft::detail::FutexScope::process_shared);
  }
  void write(std::string_view payload, std::uint32_t length, std::uint32_t seq = 0) {
    fill(payload, length);
    bump(seq);
  }
  void write(std::string_view payload) { write(payload, static_cast<std::uint32_t>(payload.size())); }

  std::string reply() {
    return channel_->replies().take(conn_, spinner_, [] { return true; }, 1 << 20);
  }
  mp::Connection& conn() { return conn_; }

 private:
  detail::LaneWords& lane() { return static_cast<detail::ChannelWords*>(words_)->requests; }

  mp::Connection conn_;
  std::unique_ptr<detail::CallChannel> channel_;
  detail::Spinner spinner_;
  void* words_ = nullptr;
};

TEST_F(ManagerChannel, GarbageInTheChannelGetsTypedErrorsAndTheServerServesOn) {
  HostileClient hostile(manager);
  hostile.write(std::string("\xc1 this is not MessagePack", 25));
  EXPECT_EQ(error_of(hostile.reply()), "weft::codec::DecodeError");
  hostile.write("", 0xfffffffe);  // longer than the lane
  EXPECT_NE(error_of(hostile.reply()), "(no error)");
  hostile.write("", detail::CallChannel::kCapacity + 1);
  EXPECT_NE(error_of(hostile.reply()), "(no error)");
  hostile.write(weft::codec::encode(Request{kCount, 0, "", ""}), 3);  // cut short
  EXPECT_EQ(error_of(hostile.reply()), "weft::codec::DecodeError");
  hostile.write(weft::codec::encode(Request{kUpgrade, 0, "", ""}));  // a second channel
  EXPECT_EQ(error_of(hostile.reply()), "ValueError");
  // A message said to be on the socket, which holds garbage.
  hostile.conn().send_bytes(std::string("\xc1\xc1", 2));
  hostile.write("", detail::Lane::kOnSocket);
  EXPECT_EQ(error_of(hostile.reply()), "weft::codec::DecodeError");
  const auto count = weft::codec::encode(Request{kCount, 0, "", ""});
  hostile.write(count, static_cast<std::uint32_t>(count.size()), 12345);  // any new seq counts
  EXPECT_EQ(error_of(hostile.reply()), "(no error)");
  expect_serving();
}

TEST_F(ManagerChannel, AnOfferWithoutAChannelIsAValueErrorAndTheSocketServesOn) {
  auto conn = mp::Client(manager.address(), AF_UNSPEC, manager.authkey());
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  conn.send_bytes(weft::codec::encode(Request{kUpgrade, 0, "", ""}));
  {
    auto sock = weft::net::Socket::from_fd(conn.fileno());
    weft::net::send_fds(sock, std::string_view("C", 1), std::span<const int>(&pipe_fds[0], 1));
    sock.detach();
  }
  EXPECT_EQ(error_of(conn.recv_bytes()), "ValueError");
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  conn.send_bytes(weft::codec::encode(Request{kCount, 0, "", ""}));
  EXPECT_EQ(error_of(conn.recv_bytes()), "(no error)");
  expect_serving();
}

TEST_F(ManagerChannel, AHostileClientKilledMidWriteCostsOnlyItself) {
  mp::SimpleQueue<int> ready;
  auto child = weft::test::Child::fork([this, ready]() mutable {
    HostileClient hostile(manager);
    hostile.fill(std::string(1000, 'x'), 1000);  // a request half written: never posted
    ready.put(1);
    for (;;) ::pause();
  });
  ASSERT_EQ(ready.get(), 1);
  child.kill();
  expect_serving();
}

TEST_F(ManagerChannel, ManyThreadsEachCallThroughTheirOwnChannel) {
  constexpr int kThreads = 8;
  constexpr int kCalls = 300;
  auto l = manager.list<int>();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string key = "t" + std::to_string(t);
      for (int i = 0; i < kCalls; ++i) {
        d.setitem(key, i);
        EXPECT_EQ(d.getitem(key), i);
        l.append(t);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(l.len(), std::size_t{kThreads * kCalls});
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(d.getitem("t" + std::to_string(t)), kCalls - 1);
}

TEST_F(ManagerChannel, AForkedChildMakesItsOwnChannel) {
  d.setitem("parent", 1);
  auto child = weft::test::Child::fork([this] {
    for (int i = 0; i < 100; ++i) d.setitem("child", i);
    if (d.getitem("parent") != 1) std::_Exit(3);
  });
  EXPECT_EQ(child.wait(), 0);
  EXPECT_EQ(d.getitem("child"), 99);
  EXPECT_EQ(d.getitem("parent"), 1);
}

// Makes and uses a manager: what the first one sets up for good is then
// set up.
void use_a_manager() {
  mp::Manager manager;
  manager.dict<int, int>().setitem(1, 2);
}

TEST(ManagerChannelLifetime, ADestroyedManagerLeavesNoChannelOfItsCallingThreadsBehind) {
  use_a_manager();
  const int fds = open_fds();
  const int maps = mapped_channels();
  for (int i = 0; i < 10; ++i) use_a_manager();
  EXPECT_EQ(open_fds(), fds);
  EXPECT_EQ(mapped_channels(), maps);
}

TEST(ManagerChannelLifetime, AThreadThatOutlivesAManagerKeepsNothingOfIt) {
  use_a_manager();
  const int fds = open_fds();
  const int maps = mapped_channels();
  const int channels = open_channels();
  std::promise<void> called, finish;
  std::optional<mp::Manager> manager(std::in_place);
  std::optional<mp::DictProxy<int, int>> d(manager->dict<int, int>());
  std::thread caller([&] {
    d->setitem(1, 2);
    called.set_value();
    finish.get_future().wait();
  });
  const bool ready = called.get_future().wait_for(10s) == std::future_status::ready;
  EXPECT_TRUE(ready);
  if (ready) {
    EXPECT_EQ(open_channels(), channels + 1);
    d.reset();
    manager.reset();
    EXPECT_EQ(open_fds(), fds);
    EXPECT_EQ(mapped_channels(), maps);
    EXPECT_EQ(open_channels(), channels);
  }
  finish.set_value();
  caller.join();
}

TEST(ManagerChannelRemote, ATcpConnectionStaysOnTheSocket) {
  mp::BaseManager manager(weft::net::Address::ipv4("127.0.0.1", 0), std::string("key"));
  manager.start();
  auto d = manager.create<mp::DictProxy<int, int>>("dict", mp::detail::encode_items<int, int>({}));
  const int before = open_channels();
  d.setitem(1, 2);
  EXPECT_EQ(d.getitem(1), 2);
  EXPECT_EQ(open_channels(), before);
}

}  // namespace
