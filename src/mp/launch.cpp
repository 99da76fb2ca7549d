// Starting children: fork, spawn (posix_spawn of /proc/self/exe), the
// launcher thread of daemons started off the main thread, and the payload
// spawn and forkserver children read.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>

#include "pidfd.hpp"
#include "process_state.hpp"
#include "weft/codec.hpp"
#include "weft/codec/function.hpp"

extern char** environ;

namespace weft::mp::detail {
namespace {

[[noreturn]] void throw_errno(int error, const char* what) {
  throw std::system_error(error, std::generic_category(), what);
}

// Threads of this process, from field 20 of /proc/self/stat.
long thread_count() {
  std::ifstream stat("/proc/self/stat");
  const std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const std::size_t paren = text.rfind(')');
  if (paren == std::string::npos) return 1;
  long field = 0;
  int index = 2;  // the fields after ") " start with field 3
  const char* at = text.c_str() + paren + 1;
  while (index < 20 && *at != '\0') {
    char* end = nullptr;
    while (*at == ' ') ++at;
    field = std::strtol(at, &end, 10);
    while (*at != ' ' && *at != '\0') ++at;
    ++index;
  }
  return index == 20 ? field : 1;
}

// Python 3.12's warning from os.fork().
void warn_if_threaded() {
  if (thread_count() <= 1) return;
  std::fprintf(stderr,
               "DeprecationWarning: This process (pid=%d) is multi-threaded, use of fork() may "
               "lead to deadlocks in the child.\n",
               static_cast<int>(::getpid()));
  std::fflush(stderr);
}

int open_pidfd(pid_t pid) {
  const int fd = sys_pidfd_open(pid);
  if (fd < 0) {
    const int error = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    throw_errno(error, "pidfd_open");
  }
  return fd;
}

// The executable's argv, as the kernel recorded it.
const std::vector<std::string>& own_argv() {
  static const std::vector<std::string> argv = [] {
    std::ifstream cmdline("/proc/self/cmdline", std::ios::binary);
    std::vector<std::string> words;
    for (std::string word; std::getline(cmdline, word, '\0');) words.push_back(word);
    if (words.empty()) words.emplace_back("weft-child");
    return words;
  }();
  return argv;
}

// Read while the program starts, on one thread: a fork while another thread
// was reading it first would leave the child waiting on that read for ever
// (the resource tracker is started from whichever thread creates a segment).
[[maybe_unused]] const std::vector<std::string>& argv_at_start = own_argv();

// Serialises the starts of daemons requested off the main thread onto one
// thread that never exits.
struct Launcher {
  struct Request {
    weft::detail::UniqueFunction<Launched()>* job;
    Launched result;
    std::exception_ptr error;
    bool done = false;
  };
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<Request*> requests;
  bool running = false;

  void serve() {
    std::unique_lock lock(mutex);
    while (true) {
      wake.wait(lock, [&] { return !requests.empty(); });
      Request* request = requests.front();
      requests.pop_front();
      lock.unlock();
      try {
        request->result = (*request->job)();
      } catch (...) {
        request->error = std::current_exception();
      }
      lock.lock();
      request->done = true;
      wake.notify_all();
    }
  }

  Launched run(weft::detail::UniqueFunction<Launched()>& job) {
    Request request{&job, {}, {}, false};
    std::unique_lock lock(mutex);
    if (!running) {
      std::thread([this] { serve(); }).detach();
      running = true;
    }
    requests.push_back(&request);
    wake.notify_all();
    wake.wait(lock, [&] { return request.done; });
    if (request.error) std::rethrow_exception(request.error);
    return request.result;
  }
};

Launcher*& launcher() {
  static Launcher* instance = new Launcher;
  return instance;
}

}  // namespace

Launched launch(const ChildSpec& spec, weft::detail::UniqueFunction<Launched()> job) {
  if (!spec.daemon || ::gettid() == ::getpid()) return job();
  return launcher()->run(job);
}

Launched launch_fork(const ChildSpec& spec, weft::detail::UniqueFunction<void()>& body) {
  warn_if_threaded();
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw_errno(errno, "fork");
  if (pid == 0) {
    launcher() = new Launcher;  // the parent's launcher thread is not in the child
    run_child(spec, parent, std::move(body));
  }
  return {pid, open_pidfd(pid), false};
}

pid_t spawn_self(const std::string& variable, const std::vector<int>& inherited) {
  const std::vector<std::string>& words = own_argv();
  std::vector<char*> argv;
  for (const std::string& word : words) argv.push_back(const_cast<char*>(word.c_str()));
  argv.push_back(nullptr);

  std::vector<char*> envp;
  for (char** entry = environ; *entry != nullptr; ++entry)
    if (std::strncmp(*entry, spawn_variable, std::strlen(spawn_variable)) != 0 &&
        std::strncmp(*entry, forkserver_variable, std::strlen(forkserver_variable)) != 0 &&
        std::strncmp(*entry, resource_tracker_variable, std::strlen(resource_tracker_variable)) != 0)
      envp.push_back(*entry);
  envp.push_back(const_cast<char*>(variable.c_str()));
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawnattr_init(&attributes);
  // dup2 of a descriptor onto itself clears its close-on-exec flag: exactly
  // the inherited ones survive the exec.
  for (const int fd : inherited) ::posix_spawn_file_actions_adddup2(&actions, fd, fd);
  sigset_t none;
  sigemptyset(&none);
  ::posix_spawnattr_setsigmask(&attributes, &none);
  ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = 0;
  const int error = ::posix_spawn(&pid, "/proc/self/exe", &actions, &attributes, argv.data(),
                                  envp.data());
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attributes);
  if (error != 0) throw_errno(error, "posix_spawn");
  return pid;
}

namespace {

// False if the peer is gone.
bool send_all(int fd, std::string_view bytes) noexcept {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

void send_payload(int fd, std::string_view payload) noexcept {
  const std::uint64_t length = payload.size();
  // A child that died early reports itself through its exit code.
  if (send_all(fd, std::string_view(reinterpret_cast<const char*>(&length), sizeof length)))
    send_all(fd, payload);
}

Launched launch_spawn(std::string_view payload, const std::vector<int>& fds) {
  int channel[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel) != 0)
    throw_errno(errno, "socketpair");
  std::string variable = std::string(spawn_variable) + "=" + std::to_string(channel[0]) + ":";
  for (std::size_t i = 0; i < fds.size(); ++i)
    variable += (i == 0 ? "" : ",") + std::to_string(fds[i]);
  std::vector<int> inherited{channel[0]};
  inherited.insert(inherited.end(), fds.begin(), fds.end());
  pid_t pid;
  try {
    pid = spawn_self(variable, inherited);
  } catch (...) {
    ::close(channel[0]);
    ::close(channel[1]);
    throw;
  }
  ::close(channel[0]);
  Launched launched{pid, -1, false};
  try {
    launched.sentinel = open_pidfd(pid);
  } catch (...) {
    ::close(channel[1]);
    throw;
  }
  send_payload(channel[1], payload);
  ::close(channel[1]);
  return launched;
}

std::string encode_payload(const ChildSpec& spec, Rebuild rebuild, const std::string& args) {
  return codec::encode(std::forward_as_tuple(spec.name, spec.identity, spec.daemon,
                                             static_cast<std::int64_t>(spec.parent_pid),
                                             spec.parent_name, static_cast<int>(spec.method),
                                             rebuild, args));
}

}  // namespace weft::mp::detail
