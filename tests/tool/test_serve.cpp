// `weft serve`: every IO model, run as its own process, serves 200
// concurrent loopback clients with random payloads sent in random pieces —
// some half-closing, some resetting mid-stream — echoes every byte of every
// surviving client in order, and ends with no more file descriptors open
// than it started with.
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "io/io_support.hpp"
#include "weft/io.hpp"
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
