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

enum class Ending { close, half_close, reset };

// A loop-driven client: connects, sends `payload` in random pieces while
// reading, and ends as `ending` says.
class Client {
 public:
  Client(io::Loop& loop, std::uint16_t port, std::string payload, std::string expected, Ending ending,
         std::uint32_t seed)
      : loop_(loop), payload_(std::move(payload)), expected_(std::move(expected)), received_(expected_.size(), '\0'),
        ending_(ending), random_(seed) {
    address_.sin_family = AF_INET;
    address_.sin_port = htons(port);
    address_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    loop_.connect(connecting_, fd_, reinterpret_cast<const sockaddr*>(&address_), sizeof address_);
  }
  ~Client() { finish(); }

  bool done() const { return done_; }
  std::string verdict() const {
    if (ending_ == Ending::reset) return "ok";
    if (error_ != 0) return "error " + std::to_string(error_) + " after " + std::to_string(got_) + " bytes";
    if (got_ != expected_.size()) return "got " + std::to_string(got_) + " of " + std::to_string(expected_.size());
    if (received_ != expected_) return "bytes differ";
    if (ending_ == Ending::half_close && !saw_eof_) return "no end of stream after the half-close";
    return "ok";
  }

 private:
  struct Op : io::Operation {
    Op(Client* c, Handler h) : Operation(h), client(c) {}
    Client* client;
  };
  static Client& of(io::Operation& op) { return *static_cast<Op&>(op).client; }

  static void on_connect(io::Operation& op, int result, std::uint32_t) noexcept {
    Client& c = of(op);
    if (result < 0) return c.fail(-result);
    const int one = 1;
    ::setsockopt(c.fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c.send_more();
    c.receive_more();
  }
  static void on_sent(io::Operation& op, int result, std::uint32_t) noexcept {
    Client& c = of(op);
    if (result < 0) return c.fail(-result);
    c.sent_ += static_cast<std::size_t>(result);
    if (c.ending_ == Ending::reset) {
      const linger abort{1, 0};
      ::setsockopt(c.fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
      return c.finish();
    }
    if (c.sent_ == c.payload_.size() && c.ending_ == Ending::half_close) ::shutdown(c.fd_, SHUT_WR);
    c.send_more();
  }
  static void on_received(io::Operation& op, int result, std::uint32_t) noexcept {
    Client& c = of(op);
    if (result < 0) return c.fail(-result);
    if (result == 0) {
      c.saw_eof_ = true;
      if (c.got_ < c.expected_.size()) c.error_ = -1;
      return c.finish();
    }
    c.got_ += static_cast<std::size_t>(result);
    if (c.got_ == c.expected_.size() && c.ending_ == Ending::close) return c.finish();
    c.receive_more();
  }

  void send_more() {
    if (sent_ == payload_.size() || done_) return;
    const std::size_t piece = std::min(payload_.size() - sent_, std::uniform_int_distribution<std::size_t>(1, 9000)(random_));
    loop_.send(sending_, fd_, std::as_bytes(std::span(payload_).subspan(sent_, piece)));
  }
  void receive_more() {
    if (done_) return;
    // After every expected byte, a half-closing client waits for the end of stream.
    auto room = std::as_writable_bytes(std::span(received_).subspan(got_));
    loop_.recv(receiving_, fd_, room.empty() ? std::as_writable_bytes(std::span(spare_)) : room);
  }
  void fail(int error) {
    if (done_) return;
    error_ = error;
    finish();
  }
  void finish() {
    if (fd_ >= 0) loop_.close(std::exchange(fd_, -1));
    done_ = true;
  }

  io::Loop& loop_;
  sockaddr_in address_{};
  std::string payload_, expected_, received_;
  char spare_[64];
  Ending ending_;
  std::mt19937 random_;
  int fd_ = -1;
  std::size_t sent_ = 0, got_ = 0;
  int error_ = 0;
  bool saw_eof_ = false, done_ = false;
  Op connecting_{this, &on_connect};
  Op sending_{this, &on_sent};
  Op receiving_{this, &on_received};
};

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

  static void drive(std::vector<std::unique_ptr<Client>>& clients, io::Loop& loop) {
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
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 200; ++i) {
    std::string payload(std::uniform_int_distribution<std::size_t>(1, 64 * 1024)(random), '\0');
    for (char& c : payload) c = static_cast<char>(random());
    const Ending ending = i % 10 == 3 ? Ending::reset : (i % 3 == 0 ? Ending::half_close : Ending::close);
    std::string expected = payload;
    clients.push_back(std::make_unique<Client>(loop, server->port(), std::move(payload), std::move(expected), ending,
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
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 20; ++i) {
    std::string requests, responses;
    for (int r = 0; r <= i; ++r) {
      requests += tool::kHttpRequest;
      responses += tool::kHttpResponse;
    }
    clients.push_back(std::make_unique<Client>(loop, server->port(), std::move(requests), std::move(responses),
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
                      ServeCase{"io_uring", {"--model", "io_uring"}},
                      ServeCase{"epoll_2_loops", {"--model", "epoll", "--loops", "2"}},
                      ServeCase{"io_uring_2_loops", {"--model", "io_uring", "--loops", "2"}}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace weft::test
