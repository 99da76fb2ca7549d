// Starting a child for create_subprocess_exec: its standard streams, the
// search of PATH, the posix_spawn call, and the pidfd the loop watches it
// by.
#include "spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// Why the child could not enter `directory` (its chdir), as an errno, or 0.
int chdir_error(const std::string& directory) noexcept {
  struct stat status;
  if (::stat(directory.c_str(), &status) != 0) return errno;
  if (!S_ISDIR(status.st_mode)) return ENOTDIR;
  return ::faccessat(AT_FDCWD, directory.c_str(), X_OK, AT_EACCESS) == 0 ? 0 : errno;
}

// Why execve could not run `candidate`, as its errno, or 0: a relative
// candidate as seen from the child's working directory `cwd` (this
// process's when unset).
int exec_error(const std::string& candidate, const std::optional<std::string>& cwd) {
  const std::string seen = cwd && candidate.front() != '/' ? *cwd + "/" + candidate : candidate;
  struct stat status;
  if (::stat(seen.c_str(), &status) != 0) return errno;
  if (!S_ISREG(status.st_mode)) return EACCES;
  return ::faccessat(AT_FDCWD, seen.c_str(), X_OK, AT_EACCESS) == 0 ? 0 : errno;
}

// The paths execve is tried on for `program`, in order, as Python's
// subprocess lists them: the program itself if its name has a '/', else
// the program in each entry of `path` (a PATH value), an empty entry being
// the child's working directory.
std::vector<std::string> exec_candidates(const std::string& program, std::string_view path) {
  if (program.find('/') != std::string::npos) return {program};
  std::vector<std::string> candidates;
  if (program.empty()) return candidates;
  for (std::size_t start = 0;;) {
    const std::size_t end = path.find(':', start);
    const std::string_view directory = path.substr(start, end - start);
    candidates.push_back(directory.empty() ? program : std::string(directory) + "/" + program);
    if (end == std::string_view::npos) return candidates;
    start = end + 1;
  }
}

// The PATH the child's program is searched in, as Python's
// os.get_exec_path(env): the given environment's, else this process's, and
// /bin:/usr/bin where there is none.
std::string_view exec_path(const SubprocessOptions& options) {
  constexpr std::string_view fallback = "/bin:/usr/bin";
  if (options.env) {
    const auto found = options.env->find("PATH");
    return found != options.env->end() ? std::string_view(found->second) : fallback;
  }
  const char* path = std::getenv("PATH");
  return path != nullptr ? std::string_view(path) : fallback;
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

  // Each candidate is tried in turn, as Python's child tries execve on
  // each: one that is missing or fails with ENOENT or ENOTDIR (a #!
  // interpreter missing) is passed over, the first other error (EACCES,
  // ENOEXEC, ...) is remembered and raised if none runs. A candidate that
  // cannot run is known without a spawn where stat tells.
  pid_t pid = -1;
  int error = ENOENT;
  int first_error = 0;
  for (const std::string& candidate : exec_candidates(program, exec_path(options))) {
    error = exec_error(candidate, options.cwd);
    if (error == 0)
      error = ::posix_spawn(&pid, candidate.c_str(), &setup.actions_, &setup.attributes_, argv.data(),
                            options.env ? envp.data() : environ);
    if (error == 0) break;
    if (error != ENOENT && error != ENOTDIR && first_error == 0) first_error = error;
  }
  if (error != 0) {
    // The child enters its working directory before it runs the program:
    // a directory it cannot enter is the error, named as Python names it.
    if (options.cwd)
      if (const int cwd_error = chdir_error(*options.cwd); cwd_error != 0)
        net::raise_os_error(cwd_error, "'" + *options.cwd + "'");
    net::raise_os_error(first_error != 0 ? first_error : error, "'" + program + "'");
  }

  Spawned spawned;
  spawned.pid = pid;
  spawned.pidfd = open_pidfd(pid);
  spawned.stdin_fd = stdin_end.release();
  spawned.stdout_fd = stdout_end.release();
  spawned.stderr_fd = stderr_end.release();
  return spawned;
}

}  // namespace weft::aio::detail
