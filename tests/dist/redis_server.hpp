// tests/dist/redis_server.hpp — a real redis-server for one test, on a free
// loopback port, in a temporary directory of its own.
//
//   weft::dist::testing::RedisServer redis;            // started and ready
//   weft::dist::RedisConnection c(weft::dist::RedisUrl::parse(redis.url()));
//   redis.kill();  redis.start();                       // crash and come back
//
// Readiness is an event: the server runs under `--supervised systemd` and
// says "READY=1" on a datagram socket of ours once it accepts connections
// (with AOF on, after it has reloaded its data). The server is a child of
// the test process and dies with it, even on SIGKILL: every fork happens on
// a thread the RedisServer owns, because PR_SET_PDEATHSIG follows the thread
// that forked, not the process, and start() may be called from a thread that
// ends first.
//
// Not thread-safe: one thread at a time calls its members (the server
// itself is shared freely over TCP). A forked child of the test that
// destroys its copy leaves the server and its directory alone.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

extern char** environ;

namespace weft::dist::testing {

class RedisServer {
 public:
  struct Options {
    // Append-only file, fsynced on every write: the data survives kill().
    bool aof = false;
    // `--requirepass`: clients must AUTH with it.
    std::string password{};
  };

  // Starts the server and waits until it is ready. Throws
  // std::runtime_error if redis-server is not installed or does not start
  // (the message ends with the tail of its log).
  RedisServer() : RedisServer(Options()) {}
  explicit RedisServer(Options options) : options_(std::move(options)) {
    executable_ = find_executable("redis-server");
    dir_ = make_directory();
    try {
      launcher_ = std::thread([this] { run_launcher(); });
      open_notify_socket();
      start_on_free_port();
    } catch (...) {
      release();
      throw;
    }
  }

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // SIGKILL, reap, remove the directory.
  ~RedisServer() { release(); }

  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  // The server's process id; 0 while it is not running.
  pid_t pid() const { return pid_; }
  // The directory holding its log and (with aof) its data.
  const std::filesystem::path& directory() const { return dir_; }

  // True while the server process is alive (it may have exited on its own).
  bool running() const {
    if (pid_ <= 0) return false;
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return false;
    return info.si_pid == 0;
  }

  // A crash: SIGKILL, then reaps the process. Nothing is saved beyond what
  // the AOF already holds. No-op when not running.
  void kill() { terminate(SIGKILL); }

  // A clean shutdown: SIGTERM, then reaps the process (SIGKILL if it has
  // not exited within 10 s). No-op when not running.
  void stop() { terminate(SIGTERM); }

  // Starts the server again on the same port and directory and waits until
  // it is ready (with aof, its data reloaded). Throws std::runtime_error if
  // it does not start. No-op when running.
  void start() {
    if (running()) return;
    reap();
    if (!launch()) {
      throw std::runtime_error("redis-server did not start again on port " + std::to_string(port_) +
                               log_tail());
    }
  }

 private:
  static constexpr auto ready_timeout = std::chrono::seconds(10);
  static constexpr int port_attempts = 8;

  static std::string find_executable(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string dirs = path != nullptr && *path != '\0' ? path : "/usr/local/bin:/usr/bin:/bin";
    dirs += ":/usr/sbin:/usr/bin";
    std::size_t begin = 0;
    while (begin <= dirs.size()) {
      std::size_t end = dirs.find(':', begin);
      if (end == std::string::npos) end = dirs.size();
      std::string candidate = dirs.substr(begin, end - begin) + "/" + name;
      if (end > begin && ::access(candidate.c_str(), X_OK) == 0) return candidate;
      begin = end + 1;
    }
    throw std::runtime_error(name + " is not installed (not found in PATH); the weft::dist tests need it");
  }

  static std::filesystem::path make_directory() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/weft-redis-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) {
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
    }
    return std::filesystem::path(buffer.data());
  }

  static int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof(address);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      int error = errno;
      ::close(fd);
      throw std::system_error(error, std::generic_category(), "bind 127.0.0.1:0");
    }
    ::close(fd);
    return ntohs(address.sin_port);
  }

  // An autobound abstract datagram socket; sd_notify reaches it as "@name".
  void open_notify_socket() {
    notify_fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (notify_fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket AF_UNIX");
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (::bind(notify_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(sa_family_t)) != 0) {
      throw std::system_error(errno, std::generic_category(), "bind notify socket");
    }
    socklen_t length = sizeof(address);
    if (::getsockname(notify_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::system_error(errno, std::generic_category(), "getsockname notify socket");
    }
    std::size_t name_length = length - offsetof(sockaddr_un, sun_path);
    notify_address_ = "@" + std::string(address.sun_path + 1, name_length - 1);
  }

  void start_on_free_port() {
    for (int attempt = 0; attempt < port_attempts; ++attempt) {
      port_ = free_port();
      std::error_code ignored;
      std::filesystem::remove(dir_ / "redis.log", ignored);
      if (launch()) return;
      // Another process took the port between free_port() and redis
      // binding it: try another.
      if (log_says_port_taken()) continue;
      break;
    }
    throw std::runtime_error("redis-server did not start" + log_tail());
  }

  std::vector<std::string> arguments() const {
    std::vector<std::string> args = {executable_,
                                     "--port", std::to_string(port_),
                                     "--bind", "127.0.0.1",
                                     "--dir", dir_.string(),
                                     "--logfile", (dir_ / "redis.log").string(),
                                     "--save", "",
                                     "--daemonize", "no",
                                     "--supervised", "systemd"};
    if (options_.aof) {
      args.insert(args.end(), {"--appendonly", "yes", "--appendfsync", "always"});
    }
    if (!options_.password.empty()) {
      args.insert(args.end(), {"--requirepass", options_.password});
    }
    return args;
  }

  // Forks redis-server (on the launcher thread) and waits for READY=1.
  // False if it exited first or did not become ready in time (then it is
  // killed and reaped).
  bool launch() {
    drain_notifications();
    std::vector<std::string> args = arguments();
    std::vector<std::string> env;
    for (char** entry = environ; *entry != nullptr; ++entry) {
      if (std::strncmp(*entry, "NOTIFY_SOCKET=", 14) != 0) env.emplace_back(*entry);
    }
    env.push_back("NOTIFY_SOCKET=" + notify_address_);
    pid_ = on_launcher([&] { return spawn(args, env); });
    if (wait_ready()) return true;
    terminate(SIGKILL);
    return false;
  }

  static pid_t spawn(const std::vector<std::string>& args, const std::vector<std::string>& env) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    pid_t parent = ::getpid();
    pid_t child = ::fork();
    if (child < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (child == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      // The server keeps none of the test's descriptors (its connections).
      ::syscall(SYS_close_range, 3u, ~0u, 0u);
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    return child;
  }

  // Waits for a datagram saying READY=1, or for the process to exit.
  bool wait_ready() {
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    auto deadline = std::chrono::steady_clock::now() + ready_timeout;
    bool ready = false;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd fds[2] = {{notify_fd_, POLLIN, 0}, {pidfd, POLLIN, 0}};
      // Without a pidfd (old kernels), check on the process now and then.
      int wait_ms = pidfd >= 0 ? static_cast<int>(left.count()) : std::min<int>(static_cast<int>(left.count()), 50);
      int n = ::poll(fds, pidfd >= 0 ? 2 : 1, wait_ms);
      if (n < 0 && errno != EINTR) break;
      if (fds[0].revents & POLLIN) {
        char buffer[4096];
        ssize_t got;
        while ((got = ::recv(notify_fd_, buffer, sizeof(buffer), 0)) > 0) {
          if (std::string_view(buffer, static_cast<std::size_t>(got)).find("READY=1") != std::string_view::npos) {
            ready = true;
          }
        }
        if (ready) break;
      }
      if ((pidfd >= 0 && (fds[1].revents & POLLIN)) || !running()) break;
    }
    if (pidfd >= 0) ::close(pidfd);
    return ready;
  }

  void drain_notifications() {
    char buffer[4096];
    while (::recv(notify_fd_, buffer, sizeof(buffer), 0) > 0) {
    }
  }

  void terminate(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    if (signal != SIGKILL && !exits_within(std::chrono::seconds(10))) ::kill(pid_, SIGKILL);
    reap();
  }

  bool exits_within(std::chrono::milliseconds timeout) {
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd < 0) {
      auto deadline = std::chrono::steady_clock::now() + timeout;
      while (running() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      return !running();
    }
    pollfd fd{pidfd, POLLIN, 0};
    int n;
    do {
      n = ::poll(&fd, 1, static_cast<int>(timeout.count()));
    } while (n < 0 && errno == EINTR);
    ::close(pidfd);
    return n > 0;
  }

  void reap() {
    if (pid_ <= 0) return;
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    pid_ = 0;
  }

  std::string log() const {
    std::ifstream in(dir_ / "redis.log");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  bool log_says_port_taken() const { return log().find("Address already in use") != std::string::npos; }

  std::string log_tail() const {
    std::string text = log();
    if (text.empty()) return " (its log is empty)";
    std::size_t from = text.size();
    for (int lines = 0; lines <= 15 && from > 0; ++lines) {
      std::size_t newline = text.rfind('\n', from - 1);
      from = newline == std::string::npos ? 0 : newline;
    }
    return "; the end of its log:\n" + text.substr(from == 0 ? 0 : from + 1);
  }

  // Runs `job` on the launcher thread and returns its result.
  template <class Job>
  auto on_launcher(Job job) -> decltype(job()) {
    using Result = decltype(job());
    Result result{};
    std::exception_ptr error;
    bool done = false;
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back([&] {
        try {
          result = job();
        } catch (...) {
          error = std::current_exception();
        }
        std::lock_guard inner(mutex_);
        done = true;
        finished_.notify_all();
      });
    }
    posted_.notify_one();
    std::unique_lock lock(mutex_);
    finished_.wait(lock, [&] { return done; });
    if (error) std::rethrow_exception(error);
    return result;
  }

  void run_launcher() {
    std::unique_lock lock(mutex_);
    for (;;) {
      posted_.wait(lock, [&] { return quitting_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  void release() noexcept {
    // A forked copy of the test (a worker) leaves the server to its owner.
    if (::getpid() != owner_) return;
    terminate(SIGKILL);
    if (launcher_.joinable()) {
      {
        std::lock_guard lock(mutex_);
        quitting_ = true;
      }
      posted_.notify_one();
      launcher_.join();
    }
    if (notify_fd_ >= 0) ::close(notify_fd_);
    notify_fd_ = -1;
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  Options options_;
  pid_t owner_ = ::getpid();
  std::string executable_;
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = 0;
  int notify_fd_ = -1;
  std::string notify_address_;

  std::mutex mutex_;
  std::condition_variable posted_;
  std::condition_variable finished_;
  std::deque<std::function<void()>> jobs_;
  bool quitting_ = false;
  std::thread launcher_;
};

}  // namespace weft::dist::testing
