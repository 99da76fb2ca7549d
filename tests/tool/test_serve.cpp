// `weft serve`: every IO model, run as its own process, serves 200
// concurrent loopback clients with random payloads sent in random pieces —
// some half-closing, some resetting mid-stream — echoes every byte of every
// surviving client in order, and ends with no more file descriptors open
// than it started with.
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "io/io_support.hpp"
#include "weft/io.hpp"
#include "weft/load/server_cpu.hpp"
#include "weft/protocol.hpp"
#include "weft/shootout/server_process.hpp"

namespace weft::test {
namespace {

using tool::ServerProcess;

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

int process_fds(pid_t pid) {
  DIR* dir = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (dir == nullptr) return 0;
  int count = 0;
  while (const dirent* entry = ::readdir(dir))
    if (entry->d_name[0] != '.') ++count;
  ::closedir(dir);
  return count;
}

// Open fds of pid and every process below it.
int tree_fds(pid_t pid) {
  int count = process_fds(pid);
  std::ifstream children("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  for (pid_t child; children >> child;) count += tree_fds(child);
  return count;
}

struct ServeCase {
  std::string name;
  std::vector<std::string> arguments;
};

class ServeTest : public ::testing::TestWithParam<ServeCase> {
 protected:
  std::unique_ptr<ServerProcess> start(const std::string& protocol) {
    std::vector<std::string> argv{WEFT_TOOL_PATH, "serve", "--port", "0", "--protocol", protocol};
    argv.insert(argv.end(), GetParam().arguments.begin(), GetParam().arguments.end());
    return std::make_unique<ServerProcess>(argv, std::nullopt, std::chrono::seconds(20));
  }

  static void drive(std::vector<std::unique_ptr<EchoClient>>& clients, io::Loop& loop) {
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (!std::all_of(clients.begin(), clients.end(), [](auto& c) { return c->done(); })) {
      ASSERT_LT(Clock::now(), deadline) << "clients did not finish in time";
      auto bound = loop.call_later(std::chrono::milliseconds(100), [] {});
      loop.run(io::RunMode::once);
      bound.cancel();
    }
  }

  static void expect_fds_back_to(pid_t pid, int baseline) {
    EXPECT_TRUE(eventually([&] { return tree_fds(pid) <= baseline; }))
        << "server holds " << tree_fds(pid) << " fds, started with " << baseline;
  }
};

TEST_P(ServeTest, EchoesEveryByteTo200ClientsThroughResetsAndHalfCloses) {
  auto server = start("echo");
  const int baseline = tree_fds(server->pid());
  io::Loop loop;
  std::mt19937 random(12345);
  std::vector<std::unique_ptr<EchoClient>> clients;
  for (int i = 0; i < 200; ++i) {
    std::string payload(std::uniform_int_distribution<std::size_t>(1, 64 * 1024)(random), '\0');
    for (char& c : payload) c = static_cast<char>(random());
    const Ending ending = i % 10 == 3 ? Ending::reset : (i % 3 == 0 ? Ending::half_close : Ending::close);
    std::string expected = payload;
    clients.push_back(std::make_unique<EchoClient>(loop, loopback(server->port()), std::move(payload), std::move(expected), ending,
                                               static_cast<std::uint32_t>(i)));
  }
  drive(clients, loop);
  int failures = 0;
  for (std::size_t i = 0; i < clients.size(); ++i) {
    const std::string verdict = clients[i]->verdict();
    if (verdict != "ok" && ++failures <= 5) ADD_FAILURE() << "client " << i << ": " << verdict;
  }
  EXPECT_EQ(failures, 0);
  clients.clear();
  loop.run();
  expect_fds_back_to(server->pid(), baseline);
}

TEST_P(ServeTest, AnswersPipelinedHttpRequestsSplitAnywhere) {
  auto server = start("http");
  io::Loop loop;
  std::vector<std::unique_ptr<EchoClient>> clients;
  for (int i = 0; i < 20; ++i) {
    std::string requests, responses;
    for (int r = 0; r <= i; ++r) {
      requests += tool::kHttpRequest;
      responses += tool::kHttpResponse;
    }
    clients.push_back(std::make_unique<EchoClient>(loop, loopback(server->port()), std::move(requests), std::move(responses),
                                               Ending::close, static_cast<std::uint32_t>(i)));
  }
  drive(clients, loop);
  for (std::size_t i = 0; i < clients.size(); ++i) EXPECT_EQ(clients[i]->verdict(), "ok") << "client " << i;
}

// A connected blocking socket to the server, closed at the end.
struct BlockingClient {
  explicit BlockingClient(std::uint16_t port) : BlockingClient(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    const sockaddr_in address = loopback(port);
    EXPECT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  }
  // Takes over a socket (connected or not).
  explicit BlockingClient(int socket) : fd(socket) {
    const timeval patience{20, 0};  // a server that stops answering fails the test, not hangs it
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &patience, sizeof patience);
  }
  ~BlockingClient() { ::close(fd); }
  bool send_all(const std::string& bytes) const {
    for (std::size_t sent = 0; sent < bytes.size();) {
      const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }
  // Up to `limit` bytes, until end of stream or an error.
  std::string receive(std::size_t limit) const {
    std::string got;
    char chunk[64 * 1024];
    while (got.size() < limit) {
      const ssize_t n = ::recv(fd, chunk, std::min(sizeof chunk, limit - got.size()), 0);
      if (n <= 0) break;
      got.append(chunk, static_cast<std::size_t>(n));
    }
    return got;
  }
  int fd;
};

// CPU ticks (utime + stime) the process has used.
long cpu_ticks(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::string field;
  for (int i = 3; i < 14; ++i) fields >> field;
  long user = 0, system = 0;
  fields >> user >> system;
  return user + system;
}

std::string pattern(std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>('a' + i % 23);
  return bytes;
}

// The models that read whatever arrives and buffer the replies: a client that sends everything
// before it reads anything, then half-closes, is still owed every byte; and once the backlog is
// sent the server sleeps again instead of watching a socket that stays writable.
using BufferingServeTest = ServeTest;

TEST_P(BufferingServeTest, AHalfClosedClientGetsEveryByteBack) {
  auto server = start("echo");
  const std::string payload = pattern(8 << 20);
  BlockingClient client(server->port());
  ASSERT_TRUE(client.send_all(payload));
  ::shutdown(client.fd, SHUT_WR);
  const std::string echoed = client.receive(payload.size() + 1);
  EXPECT_EQ(echoed.size(), payload.size());
  EXPECT_TRUE(echoed == payload);
  EXPECT_EQ(server->stop(), 0);
}

TEST_P(BufferingServeTest, AfterABacklogIsSentTheServerSleeps) {
  if (GetParam().name == "nonblocking") GTEST_SKIP() << "seed 002's loop busy-polls by design";
  auto server = start("echo");
  const std::string payload = pattern(8 << 20);
  BlockingClient client(server->port());
  ASSERT_TRUE(client.send_all(payload));
  ASSERT_EQ(client.receive(payload.size()).size(), payload.size());
  // The connection stays open and idle: a server still watching for writability spins.
  const long before = cpu_ticks(server->pid());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the idle window measured
  EXPECT_LT(cpu_ticks(server->pid()) - before, ::sysconf(_SC_CLK_TCK) / 5) << "the idle server burned CPU";
}

INSTANTIATE_TEST_SUITE_P(Models, BufferingServeTest,
                         ::testing::Values(ServeCase{"nonblocking", {"--model", "nonblocking"}},
                                           ServeCase{"select", {"--model", "select"}},
                                           ServeCase{"poll", {"--model", "poll"}}),
                         [](const auto& info) { return info.param.name; });

// The event-loop models with a pool of 8 receive buffers, and a dozen peers that send megabytes
// and never read: every echo to them ends up waiting for room, and none may keep a pool buffer
// while it waits. Otherwise the pool runs dry, and with it every receive: a new client is never
// answered, and the server spins or ignores the signal to stop.
using PoolServeTest = ServeTest;

TEST_P(PoolServeTest, PeersThatStopReadingHoldNoReceiveBuffers) {
  auto server = start("echo");
  constexpr std::size_t kTarget = 8 << 20;
  const std::string chunk = pattern(256 * 1024);
  std::vector<std::unique_ptr<BlockingClient>> silent;
  for (int i = 0; i < 12; ++i) {
    const int small = 4096;  // a small window: the server's sends soon find no room
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    const sockaddr_in address = loopback(server->port());
    ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    silent.push_back(std::make_unique<BlockingClient>(fd));
  }
  // Each sends kTarget bytes, as far as the server takes them: sending stops once no socket has
  // had room for a second.
  std::vector<std::size_t> sent(silent.size(), 0);
  for (;;) {
    std::vector<pollfd> waiting;
    for (std::size_t i = 0; i < silent.size(); ++i)
      if (sent[i] < kTarget) waiting.push_back({silent[i]->fd, POLLOUT, 0});
    if (waiting.empty() || ::poll(waiting.data(), waiting.size(), 1000) <= 0) break;
    for (std::size_t i = 0; i < silent.size(); ++i) {
      if (sent[i] >= kTarget) continue;
      const ssize_t n = ::send(silent[i]->fd, chunk.data(), std::min(chunk.size(), kTarget - sent[i]),
                               MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) sent[i] += static_cast<std::size_t>(n);
    }
  }
  BlockingClient late(server->port());
  ASSERT_TRUE(late.send_all("ping"));
  EXPECT_EQ(late.receive(4), "ping") << "a new client was not answered";
  const long before = cpu_ticks(server->pid());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the idle window measured
  EXPECT_LT(cpu_ticks(server->pid()) - before, ::sysconf(_SC_CLK_TCK) / 5) << "the server burned CPU";
  const int status = server->stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
}

INSTANTIATE_TEST_SUITE_P(Models, PoolServeTest,
                         ::testing::Values(ServeCase{"epoll", {"--model", "epoll", "--pool-buffers", "8"}},
                                           ServeCase{"io_uring", {"--model", "io_uring", "--pool-buffers", "8"}}),
                         [](const auto& info) { return info.param.name; });

// Peers that send and then reset, against a pool of one buffer: a connection whose receive found
// the pool empty while its own echo held the buffer, and whose echo then failed, must give the
// buffer back. Otherwise every later receive starves and no client is answered again.
using OneBufferServeTest = ServeTest;

TEST_P(OneBufferServeTest, PeersThatResetGiveTheirBufferBack) {
  auto server = start("echo");
  const std::string chunk = pattern(10000);
  for (int i = 0; i < 200; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    const int small = 4096;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    const linger reset{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    const sockaddr_in address = loopback(server->port());
    ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    for (int part = 0; part < 3; ++part) ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
    ::close(fd);
  }
  BlockingClient late(server->port());
  ASSERT_TRUE(late.send_all("ping"));
  EXPECT_EQ(late.receive(4), "ping") << "a new client was not answered";
  const int status = server->stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
}

INSTANTIATE_TEST_SUITE_P(Models, OneBufferServeTest,
                         ::testing::Values(ServeCase{"epoll", {"--model", "epoll", "--pool-buffers", "1"}},
                                           ServeCase{"io_uring", {"--model", "io_uring", "--pool-buffers", "1"}}),
                         [](const auto& info) { return info.param.name; });

// Stopped while a client is connected, every model exits cleanly (the green one used to
// abort: the greenlet unwound at shutdown met a noexcept function).
TEST_P(ServeTest, StopsCleanlyWithAClientConnected) {
  auto server = start("echo");
  BlockingClient client(server->port());
  ASSERT_TRUE(client.send_all("ping"));
  EXPECT_EQ(client.receive(4), "ping");
  const int status = server->stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
}

// A client that sends and does not read: the server stops reading from it once a bounded amount
// of its replies waits to be sent, so the client's sends soon find no room, and once the client
// reads, the server takes up again and echoes every byte in order.
TEST_P(ServeTest, StopsReadingFromAClientThatDoesNotRead) {
  auto server = start("echo");
  constexpr std::size_t kLimit = 64 << 20;  // far more than the socket buffers and the server's limit hold
  const std::string stream = pattern(kLimit);
  const int small = 4096;  // a small window: the server's sends soon find no room
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  const sockaddr_in address = loopback(server->port());
  ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  const BlockingClient client(fd);
  // Sends until the limit, or until the socket has had no room for a second.
  std::size_t sent = 0;
  for (pollfd room{fd, POLLOUT, 0}; sent < kLimit && ::poll(&room, 1, 1000) == 1;) {
    const ssize_t n = ::send(fd, stream.data() + sent, std::min<std::size_t>(256 * 1024, kLimit - sent),
                             MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) sent += static_cast<std::size_t>(n);
    else if (errno != EAGAIN && errno != EWOULDBLOCK) break;
  }
  EXPECT_LT(sent, kLimit) << "the server kept reading from a client that never reads";
  const std::string echoed = client.receive(sent);
  ASSERT_EQ(echoed.size(), sent);
  EXPECT_TRUE(echoed == stream.substr(0, sent)) << "the echo lost or reordered bytes";
  ASSERT_TRUE(client.send_all("ping"));
  EXPECT_EQ(client.receive(4), "ping");
  const int status = server->stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
}

// Out of descriptors (the server runs under prlimit --nofile=32), with 40 clients at once that
// then all leave: the server answers the next client, and then sleeps rather than spinning on a
// listener that stays readable.
TEST_P(ServeTest, RecoversFromRunningOutOfDescriptors) {
#if defined(__SANITIZE_ADDRESS__)
  // The sanitizers' runtime needs descriptors of its own (UBSan probes memory through a pipe)
  // and fails first.
  GTEST_SKIP() << "not under the sanitizers";
#endif
  std::vector<std::string> argv{"prlimit", "--nofile=32", WEFT_TOOL_PATH, "serve", "--port", "0", "--protocol", "echo"};
  argv.insert(argv.end(), GetParam().arguments.begin(), GetParam().arguments.end());
  ServerProcess server(argv, std::nullopt, std::chrono::seconds(20));
  {
    std::vector<std::unique_ptr<BlockingClient>> crowd;
    for (int i = 0; i < 40; ++i) crowd.push_back(std::make_unique<BlockingClient>(server.port()));
  }
  BlockingClient late(server.port());
  ASSERT_TRUE(late.send_all("ping"));
  EXPECT_EQ(late.receive(4), "ping");
  if (GetParam().name == "nonblocking") return;  // it busy-polls by design
  const long before = cpu_ticks(server.pid());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the idle window measured
  EXPECT_LT(cpu_ticks(server.pid()) - before, ::sysconf(_SC_CLK_TCK) / 5) << "the idle server burned CPU";
}

// The threads model in too little address space for a thread per client (prlimit --as): the
// clients it has no thread for are dropped, and once the others leave it answers the next one.
TEST(ThreadsServe, DropsTheConnectionsItHasNoThreadFor) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "not under the sanitizers, whose runtime reserves address space of its own";
#endif
  ServerProcess server({"prlimit", "--as=100000000", WEFT_TOOL_PATH, "serve", "--port", "0", "--model", "threads"},
                       std::nullopt, std::chrono::seconds(20));
  {
    std::vector<std::unique_ptr<BlockingClient>> crowd;
    int echoed = 0;
    for (int i = 0; i < 60; ++i) {
      crowd.push_back(std::make_unique<BlockingClient>(server.port()));
      if (crowd.back()->send_all("hi") && crowd.back()->receive(2) == "hi") ++echoed;
    }
    ASSERT_LT(echoed, 60) << "the address space sufficed for every thread: nothing was tested";
    ASSERT_TRUE(server.running()) << "the server died when it could not start a thread";
  }
  EXPECT_TRUE(eventually([&] {
    BlockingClient late(server.port());
    return late.send_all("ping") && late.receive(4) == "ping";
  }));
  const int status = server.stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
}

// The live (not zombie) children of pid.
std::vector<pid_t> live_children(pid_t pid) {
  std::vector<pid_t> live;
  std::ifstream children("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  for (pid_t child; children >> child;) {
    std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto paren = line.rfind(')');
    if (paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z') live.push_back(child);
  }
  return live;
}

// Waits (up to 20 s) for the process to exit, without reaping it.
bool exits_within_20s(pid_t pid) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return false;
  pollfd gone{pidfd, POLLIN, 0};
  const bool exited = ::poll(&gone, 1, 20'000) == 1;
  ::close(pidfd);
  return exited;
}

// A prefork server whose workers cannot start (too few descriptors: from some limit on, the
// server itself starts but its workers cannot make their loops) must not announce that it serves.
TEST(PreforkServe, NeverAnnouncesWithWorkersMissing) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "not under the sanitizers, whose runtime needs descriptors of its own";
#endif
  int refused = 0;
  for (int limit = 4; limit <= 24; ++limit) {
    std::vector<std::string> argv{"prlimit", "--nofile=" + std::to_string(limit), WEFT_TOOL_PATH, "serve",
                                  "--port", "0", "--model", "prefork", "--workers", "2"};
    try {
      ServerProcess server(argv, std::nullopt, std::chrono::seconds(20));
      EXPECT_EQ(live_children(server.pid()).size(), 2u) << "announced with workers missing, --nofile=" << limit;
    } catch (const std::runtime_error&) {
      ++refused;  // it exited: too few descriptors for the server or for its workers
    }
  }
  EXPECT_GT(refused, 0) << "no limit was low enough to stop the server";
}

// A worker that dies while the server serves ends the server with a failure status, whether it
// is killed or stopped with SIGTERM (which must not pass for a stop of the whole server).
TEST(PreforkServe, AWorkerThatDiesStopsTheServer) {
  for (const int signal : {SIGKILL, SIGTERM}) {
    SCOPED_TRACE(::strsignal(signal));
    ServerProcess server({WEFT_TOOL_PATH, "serve", "--port", "0", "--model", "prefork", "--workers", "2"},
                         std::nullopt, std::chrono::seconds(20));
    const std::vector<pid_t> workers = live_children(server.pid());
    ASSERT_EQ(workers.size(), 2u);
    ASSERT_EQ(::kill(workers.front(), signal), 0);
    ASSERT_TRUE(exits_within_20s(server.pid())) << "the server went on with one worker";
    const int status = server.stop();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << "wait status " << status;
    EXPECT_TRUE(eventually([&] { return ::kill(workers.back(), 0) != 0; })) << "the other worker outlived the server";
  }
}

// SIGTERM to the process of one connection (processes model) ends that process only: the server
// and every other connection go on.
TEST(ProcessesServe, SigtermToAConnectionsProcessEndsOnlyThatConnection) {
  ServerProcess server({WEFT_TOOL_PATH, "serve", "--port", "0", "--model", "processes"}, std::nullopt,
                       std::chrono::seconds(20));
  BlockingClient first(server.port());
  ASSERT_TRUE(first.send_all("a"));
  ASSERT_EQ(first.receive(1), "a");
  const std::vector<pid_t> children = live_children(server.pid());
  ASSERT_EQ(children.size(), 1u);
  BlockingClient second(server.port());
  ASSERT_TRUE(second.send_all("b"));
  ASSERT_EQ(second.receive(1), "b");
  // Opened before the signal: the server reaps the process as soon as it exits.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, children.front(), 0));
  ASSERT_GE(pidfd, 0);
  ASSERT_EQ(::kill(children.front(), SIGTERM), 0);
  pollfd gone{pidfd, POLLIN, 0};
  EXPECT_EQ(::poll(&gone, 1, 20'000), 1) << "the connection's process went on";
  ::close(pidfd);
  EXPECT_EQ(first.receive(1), "") << "the connection outlived its process";
  EXPECT_TRUE(server.running()) << "the server stopped";
  ASSERT_TRUE(second.send_all("ping"));
  EXPECT_EQ(second.receive(4), "ping");
  const int status = server.stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
}

// A server that cannot set itself up (here: too few descriptors for its event loop, or for the
// listeners or loops of a multi-loop server) says why and exits 1, whatever the model, rather
// than ending in std::terminate.
TEST(Serve, ASetupFailureEndsTheServerWithItsReason) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "not under the sanitizers, whose runtime needs descriptors of its own";
#endif
  const std::pair<const char*, std::string> setups[] = {
      {"6", "--model epoll"},           {"6", "--model green"},           {"6", "--model asyncio"},
      {"6", "--model epoll --loops 4"}, {"12", "--model epoll --loops 4"}, {"12", "--model io_uring --loops 4"}};
  for (const auto& [descriptors, model] : setups) {
    const std::string command = std::string("timeout 20 prlimit --nofile=") + descriptors + " " WEFT_TOOL_PATH
                                " serve --port 0 " + model + " 2>&1 >/dev/null";
    FILE* output = ::popen(command.c_str(), "r");
    ASSERT_NE(output, nullptr);
    std::string said;
    char chunk[512];
    for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, output)) > 0;) said.append(chunk, n);
    const int status = ::pclose(output);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << model << ": wait status " << status;
    EXPECT_EQ(said.rfind("weft serve: ", 0), 0u) << model << " said: " << said;
  }
}

// The soft and hard "Max open files" limits of a process, from /proc/PID/limits.
std::pair<std::string, std::string> descriptor_limits(pid_t pid) {
  std::ifstream limits("/proc/" + std::to_string(pid) + "/limits");
  for (std::string line; std::getline(limits, line);) {
    if (line.rfind("Max open files", 0) != 0) continue;
    std::istringstream fields(line.substr(sizeof("Max open files") - 1));
    std::string soft, hard;
    fields >> soft >> hard;
    return {soft, hard};
  }
  return {};
}

// Like the peers it is compared with, `weft serve` gives itself every descriptor it may have.
TEST(Serve, RaisesItsDescriptorLimitToTheHardLimit) {
  ServerProcess server({"prlimit", "--nofile=256:1024", WEFT_TOOL_PATH, "serve", "--port", "0"}, std::nullopt,
                       std::chrono::seconds(20));
  const auto [soft, hard] = descriptor_limits(server.pid());
  EXPECT_EQ(hard, "1024");
  EXPECT_EQ(soft, "1024");
}

// The processes model forks a child per connection; a child that exits takes its CPU time to
// the server's cutime/cstime, where the tree's total still counts it — the total never drops.
TEST(Serve, TheCpuTimeOfExitedConnectionProcessesIsKept) {
  ServerProcess server({WEFT_TOOL_PATH, "serve", "--port", "0", "--model", "processes"}, std::nullopt,
                       std::chrono::seconds(20));
  const double before = tool::read_process_tree_cpu(server.pid()).value().total_seconds();
  const std::string chunk = pattern(64 * 1024);
  {
    std::vector<std::unique_ptr<BlockingClient>> clients;
    for (int i = 0; i < 8; ++i) {
      clients.push_back(std::make_unique<BlockingClient>(server.port()));
      for (int round = 0; round < 256; ++round) {  // 16 MiB echoed by each connection's process
        ASSERT_TRUE(clients.back()->send_all(chunk));
        ASSERT_EQ(clients.back()->receive(chunk.size()).size(), chunk.size());
      }
    }
    ASSERT_EQ(live_children(server.pid()).size(), 8u);
    const double busy = tool::read_process_tree_cpu(server.pid()).value().total_seconds();
    ASSERT_GT(busy - before, 0.05) << "the connections' processes did too little to tell";
    clients.clear();  // each process sees EOF and exits
    EXPECT_TRUE(eventually([&] {
      std::ifstream children("/proc/" + std::to_string(server.pid()) + "/task/" + std::to_string(server.pid()) +
                             "/children");
      pid_t child = 0;
      return !(children >> child);  // none left, not even a zombie
    }));
    const double after = tool::read_process_tree_cpu(server.pid()).value().total_seconds();
    EXPECT_GE(after, busy - 0.021) << "the CPU time of the exited processes was lost (slack: a tick for each of cutime and cstime)";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Models, ServeTest,
    ::testing::Values(ServeCase{"threads", {"--model", "threads"}}, ServeCase{"processes", {"--model", "processes"}},
                      ServeCase{"prefork", {"--model", "prefork", "--workers", "3"}},
                      ServeCase{"nonblocking", {"--model", "nonblocking"}}, ServeCase{"select", {"--model", "select"}},
                      ServeCase{"poll", {"--model", "poll"}}, ServeCase{"epoll", {"--model", "epoll"}},
                      ServeCase{"io_uring", {"--model", "io_uring"}}, ServeCase{"green", {"--model", "green"}},
                      ServeCase{"asyncio", {"--model", "asyncio", "--backend", "epoll"}},
                      ServeCase{"asyncio_io_uring", {"--model", "asyncio", "--backend", "io_uring"}},
                      ServeCase{"epoll_2_loops", {"--model", "epoll", "--loops", "2"}},
                      ServeCase{"io_uring_2_loops", {"--model", "io_uring", "--loops", "2"}}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace weft::test
