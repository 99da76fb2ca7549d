// Starting a worker process: the options travel in the environment
// (WEFT_DIST_WORKER, hex of their MessagePack encoding) to a fresh run of
// the executable, which the bootstrap (worker_bootstrap.cpp) turns into a
// worker.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <vector>

#include "weft/codec.hpp"
#include "weft/dist/worker.hpp"
#include "weft/errors.hpp"

extern char** environ;

namespace weft::dist::detail {
namespace {

using EncodedOptions = std::tuple<std::string, std::string, std::string, std::chrono::milliseconds, std::uint64_t,
                                  std::optional<std::uint64_t>, std::chrono::milliseconds, std::chrono::milliseconds>;

constexpr char hex_digits[] = "0123456789abcdef";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// `executable` itself if it names a path, else the first match on PATH.
std::string find_executable(const std::string& executable) {
  if (executable.find('/') != std::string::npos) return executable;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    const std::size_t colon = dirs.find(':');
    std::string candidate(dirs.substr(0, colon));
    candidate += (candidate.empty() ? "./" : "/") + executable;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
  }
  throw std::system_error(ENOENT, std::generic_category(), "cannot find " + executable + " on PATH");
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> result;
  result.reserve(strings.size() + 1);
  for (std::string& s : strings) result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

}  // namespace

std::string encode_worker_options(const WorkerOptions& options) {
  std::optional<std::uint64_t> max_tasks;
  if (options.max_tasks) max_tasks = *options.max_tasks;
  const std::string bytes =
      codec::encode(EncodedOptions(options.redis_url, options.queue, options.consumer, options.visibility_timeout,
                                   options.threads, max_tasks, options.connection.connect_timeout,
                                   options.connection.io_timeout));
  std::string text;
  text.reserve(bytes.size() * 2);
  for (const char byte : bytes) {
    const auto value = static_cast<unsigned char>(byte);
    text.push_back(hex_digits[value >> 4]);
    text.push_back(hex_digits[value & 0xf]);
  }
  return text;
}

WorkerOptions decode_worker_options(std::string_view text) {
  if (text.size() % 2 != 0) throw ValueError("encoded worker options have an odd number of hex digits");
  std::string bytes;
  bytes.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int high = hex_value(text[i]);
    const int low = hex_value(text[i + 1]);
    if (high < 0 || low < 0) throw ValueError("encoded worker options are not lowercase hex");
    bytes.push_back(static_cast<char>(high << 4 | low));
  }
  auto [url, queue, consumer, visibility, threads, max_tasks, connect_timeout, io_timeout] =
      codec::decode<EncodedOptions>(bytes);
  WorkerOptions options;
  options.redis_url = std::move(url);
  options.queue = std::move(queue);
  options.consumer = std::move(consumer);
  options.visibility_timeout = visibility;
  options.threads = static_cast<std::size_t>(threads);
  if (max_tasks) options.max_tasks = static_cast<std::size_t>(*max_tasks);
  options.connection.connect_timeout = connect_timeout;
  options.connection.io_timeout = io_timeout;
  return options;
}

// fork and exec rather than posix_spawn: the child asks for SIGTERM when
// its parent dies (PR_SET_PDEATHSIG). That signal follows the thread that
// forked, so call this from a thread that lives as long as the workers.
// Between fork and exec the child makes async-signal-safe calls only.
pid_t spawn_worker_process(const std::string& executable, const std::vector<std::string>& arguments,
                           const WorkerOptions& options) {
  std::string path = find_executable(executable);
  std::vector<std::string> argv{executable};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  const std::string prefix = std::string(worker_variable) + "=";
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry)
    if (std::strncmp(*entry, prefix.c_str(), prefix.size()) != 0) env.emplace_back(*entry);
  env.push_back(prefix + encode_worker_options(options));
  std::vector<char*> argv_pointers = pointers(argv);
  std::vector<char*> env_pointers = pointers(env);

  // The child writes exec's errno here; the pipe closes empty on success.
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  const pid_t parent = ::getpid();
  const long limit = ::sysconf(_SC_OPEN_MAX);
  const int open_max = limit > 0 && limit < (1 << 20) ? static_cast<int>(limit) : (1 << 20);
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int error = errno;
    ::close(report[0]);
    ::close(report[1]);
    throw std::system_error(error, std::generic_category(), "fork");
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);  // the parent died before we asked
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (const int signal : {SIGTERM, SIGINT, SIGPIPE, SIGCHLD}) ::signal(signal, SIG_DFL);
    // Only the three standard streams pass to the program (close_range's
    // flag needs Linux 5.11; before, each descriptor is marked).
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
      for (int fd = 3; fd < open_max; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    ::execve(path.c_str(), argv_pointers.data(), env_pointers.data());
    const int error = errno;
    [[maybe_unused]] const ssize_t written = ::write(report[1], &error, sizeof error);
    ::_exit(127);
  }
  ::close(report[1]);
  int error = 0;
  ssize_t got;
  do {
    got = ::read(report[0], &error, sizeof error);
  } while (got < 0 && errno == EINTR);
  ::close(report[0]);
  if (got == static_cast<ssize_t>(sizeof error)) {
    ::waitpid(pid, nullptr, 0);
    throw std::system_error(error, std::generic_category(), "cannot run " + path);
  }
  return pid;
}

}  // namespace weft::dist::detail
