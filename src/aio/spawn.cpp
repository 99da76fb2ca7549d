// Starting a child for create_subprocess_exec: its standard streams, the
// posix_spawn call (and the search of PATH), and the pidfd the loop watches
// it by.
#include "spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <string_view>
#include <utility>

#include "weft/errors.hpp"
#include "weft/net/errors.hpp"

extern char** environ;

namespace weft::aio::detail {
namespace {

// An fd closed unless released.
class OwnedFd {
 public:
  OwnedFd() noexcept = default;
  explicit OwnedFd(int fd) noexcept : fd_(fd) {}
  OwnedFd(OwnedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  OwnedFd& operator=(OwnedFd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~OwnedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

[[noreturn]] void raise_errno(const char* what) { net::raise_os_error(errno, what); }

// A close-on-exec duplicate of fd numbered 3 or more, so that no dup2 onto
// 0, 1 or 2 in the child can overwrite it before it is used.
OwnedFd duplicate_above_stdio(int fd) {
  const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) raise_errno("fcntl(F_DUPFD_CLOEXEC)");
  return OwnedFd(copy);
}

// The two ends of one standard stream: the child's (dup2'd onto its 0, 1 or
// 2) and the parent's (non-blocking), or neither.
struct StreamEnds {
  OwnedFd child;
  OwnedFd parent;
};

StreamEnds socket_pipe() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) raise_errno("socketpair");
  StreamEnds ends{OwnedFd(fds[0]), OwnedFd(fds[1])};
  if (ends.child.get() < 3) ends.child = duplicate_above_stdio(ends.child.get());
  const int flags = ::fcntl(ends.parent.get(), F_GETFL);
  if (flags < 0 || ::fcntl(ends.parent.get(), F_SETFL, flags | O_NONBLOCK) != 0) raise_errno("fcntl(O_NONBLOCK)");
  return ends;
}

// posix_spawn's file actions and attributes, destroyed with it.
class SpawnSetup {
 public:
  SpawnSetup() {
    ::posix_spawn_file_actions_init(&actions_);
    ::posix_spawnattr_init(&attributes_);
  }
  ~SpawnSetup() {
    ::posix_spawn_file_actions_destroy(&actions_);
    ::posix_spawnattr_destroy(&attributes_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  void check(int error, const char* what) {
    if (error != 0) net::raise_os_error(error, what);
  }
  void dup2(int fd, int target) { check(::posix_spawn_file_actions_adddup2(&actions_, fd, target), "posix_spawn"); }
  void open(int target, const char* path, int flags) {
    check(::posix_spawn_file_actions_addopen(&actions_, target, path, flags, 0), "posix_spawn");
  }

  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attributes_;
};

// Sets up one of the child's standard streams (`target` is 0, 1 or 2);
// returns the parent's end of a pipe, if it is one. `keep` holds the
// child's ends and duplicates until the child has been started.
OwnedFd redirect(SpawnSetup& setup, const Stdio& stdio, int target, std::vector<OwnedFd>& keep) {
  switch (stdio.kind()) {
    case Stdio::Kind::inherit:
      return {};
    case Stdio::Kind::devnull:
      setup.open(target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY);
      return {};
    case Stdio::Kind::stdout_:
      if (target != 2) throw ValueError("STDOUT can only be used for stderr");
      setup.dup2(1, 2);
      return {};
    case Stdio::Kind::file:
      keep.push_back(duplicate_above_stdio(stdio.fd()));
      setup.dup2(keep.back().get(), target);
      return {};
    case Stdio::Kind::pipe: {
      StreamEnds ends = socket_pipe();
      setup.dup2(ends.child.get(), target);
      keep.push_back(std::move(ends.child));
      return std::move(ends.parent);
    }
  }
  return {};
}

// Starts `program`, a name without '/', searched in the PATH of `env` — or
// in /bin:/usr/bin when it has none — as Python's os.get_exec_path(env)
// does (posix_spawnp would search this process's PATH instead). The errors
// are execvpe's: a directory where it is missing is passed over, the first
// EACCES is remembered, any other error ends the search. Returns 0 or the
// errno.
int spawn_in_path(pid_t& pid, const std::string& program, const std::map<std::string, std::string>& env,
                  SpawnSetup& setup, char* const argv[], char* const envp[]) {
  if (program.empty()) return ENOENT;
  const auto found = env.find("PATH");
  const std::string_view path = found != env.end() ? std::string_view(found->second) : "/bin:/usr/bin";
  bool denied = false;
  int error = ENOENT;
  for (std::size_t start = 0;;) {
    const std::size_t end = path.find(':', start);
    const std::string_view directory = path.substr(start, end - start);
    // An empty entry is the working directory.
    const std::string candidate = directory.empty() ? program : std::string(directory) + "/" + program;
    error = ::posix_spawn(&pid, candidate.c_str(), &setup.actions_, &setup.attributes_, argv, envp);
    switch (error) {
      case 0:
        return 0;
      case EACCES:
        denied = true;
        break;
      case ENOENT:
      case ENOTDIR:
      case ESTALE:
      case ENODEV:
      case ETIMEDOUT:
        break;
      default:
        return error;
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return denied ? EACCES : error;
}

int open_pidfd(pid_t pid) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    const int error = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    net::raise_os_error(error, "pidfd_open");
  }
  return pidfd;
}

}  // namespace

Spawned spawn(const std::string& program, const std::vector<std::string>& args, const SubprocessOptions& options) {
  SpawnSetup setup;
  std::vector<OwnedFd> keep;
  // In this order: stderr = STDOUT duplicates the child's new stdout.
  OwnedFd stdin_end = redirect(setup, options.stdin_, 0, keep);
  OwnedFd stdout_end = redirect(setup, options.stdout_, 1, keep);
  OwnedFd stderr_end = redirect(setup, options.stderr_, 2, keep);
  setup.check(::posix_spawn_file_actions_addclosefrom_np(&setup.actions_, 3), "posix_spawn");
  if (options.cwd) setup.check(::posix_spawn_file_actions_addchdir_np(&setup.actions_, options.cwd->c_str()), "posix_spawn");

  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGXFSZ);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (options.start_new_session) flags |= POSIX_SPAWN_SETSID;
  setup.check(::posix_spawnattr_setsigmask(&setup.attributes_, &none), "posix_spawn");
  setup.check(::posix_spawnattr_setsigdefault(&setup.attributes_, &defaults), "posix_spawn");
  setup.check(::posix_spawnattr_setflags(&setup.attributes_, flags), "posix_spawn");

  std::vector<char*> argv;
  argv.reserve(args.size() + 2);
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  std::vector<std::string> variables;
  std::vector<char*> envp;
  if (options.env) {
    variables.reserve(options.env->size());
    for (const auto& [name, value] : *options.env) {
      variables.push_back(name + "=" + value);
      envp.push_back(variables.back().data());
    }
    envp.push_back(nullptr);
  }

  pid_t pid = -1;
  const int error = options.env && program.find('/') == std::string::npos
                        ? spawn_in_path(pid, program, *options.env, setup, argv.data(), envp.data())
                        : ::posix_spawnp(&pid, program.c_str(), &setup.actions_, &setup.attributes_, argv.data(),
                                         options.env ? envp.data() : environ);
  if (error != 0) net::raise_os_error(error, "'" + program + "'");

  Spawned spawned;
  spawned.pid = pid;
  spawned.pidfd = open_pidfd(pid);
  spawned.stdin_fd = stdin_end.release();
  spawned.stdout_fd = stdout_end.release();
  spawned.stderr_fd = stderr_end.release();
  return spawned;
}

}  // namespace weft::aio::detail
