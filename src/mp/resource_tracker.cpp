// The resource tracker: the program's side (messages on a SOCK_SEQPACKET
// socket, one per record) and the tracker's (a run of the executable that a
// constructor turns into the tracker before any of the program's own).
#include "resource_tracker.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <thread>

#include "pidfd.hpp"
#include "process_state.hpp"

namespace weft::mp::detail {
namespace {

// A record: 'R' (created) or 'U' (unlinked by its creator), then
// "<device> <inode> <name>", the name byte for byte (it may begin with
// blanks). A name is at most NAME_MAX bytes, so a record fits one message.
constexpr std::size_t kLongestRecord = 512;

// The tracker: this process's end of its socket and a pidfd for it. Fork
// children inherit both, and with them the tracker. Set once, both at once
// and without a lock: a fork while another thread starts the tracker leaves
// the child to start its own. Their numbers never change: a tracker started
// again after the first died takes the same two, so a thread sending
// meanwhile never uses a descriptor reused for something else.
struct Tracker {
  int socket = -1;
  int pidfd = -1;
};
std::atomic<Tracker> tracker{};
std::atomic<bool> tracker_failed{false};
// How many times this process started the tracker again, and which process
// is doing so now (0 if none; a fork child finds its parent's pid there).
std::atomic<unsigned> tracker_generation{0};
std::atomic<pid_t> relaunching{0};

// Waits for the tracker of `pidfd` to end and reaps it, if this process
// started it and nobody has reaped it yet: the program's own wait for any
// child may have, or the kernel if SIGCHLD is ignored (waitid then fails
// with ECHILD). Never waits for another child that took its pid since.
void reap(int pidfd) noexcept {
  siginfo_t info{};
  while (::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED) != 0 && errno == EINTR) {
  }
}

// Ends and reaps a tracker that was told nothing (a child forked meanwhile
// may hold its socket open), and closes its pidfd.
void end_tracker(int pidfd) noexcept {
  sys_pidfd_send_signal(pidfd, SIGKILL);
  reap(pidfd);
  ::close(pidfd);
}

// Starts a tracker: this process's end of its socket and a pidfd for it, or
// none. The pidfd is opened as soon as posix_spawn returns: only a tracker
// that died, was reaped by the program and had its pid given to another
// process in that instant could leave it naming another process.
Tracker start_tracker() noexcept {
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) return {};
  Tracker started{ends[0], -1};
  try {
    const pid_t pid =
        spawn_self(std::string(resource_tracker_variable) + "=" + std::to_string(ends[1]), {ends[1]});
    started.pidfd = sys_pidfd_open(pid);
    if (started.pidfd < 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  } catch (...) {
  }
  ::close(ends[1]);
  if (started.pidfd < 0) {
    ::close(ends[0]);
    return {};
  }
  return started;
}

// The tracker, starting it first if need be; none if it cannot be started.
Tracker started_tracker() noexcept {
  if (const Tracker current = tracker.load(std::memory_order_acquire); current.socket >= 0) return current;
  if (tracker_failed.load(std::memory_order_relaxed)) return {};
  const Tracker started = start_tracker();
  if (started.socket < 0) {
    tracker_failed.store(true, std::memory_order_relaxed);
    return {};
  }
  Tracker expected;
  if (tracker.compare_exchange_strong(expected, started, std::memory_order_acq_rel)) return started;
  // Another thread's tracker won.
  ::close(started.socket);
  end_tracker(started.pidfd);
  return expected;
}

// Starts the tracker again after a send found it gone (killed, say), unless
// another thread did so since `generation`, warning on stderr as Python
// does: what the dead one knew is lost. The new one's socket and pidfd take
// the numbers of the dead one's. False if none could be started.
bool relaunch_tracker(unsigned generation) noexcept {
  const pid_t self = ::getpid();
  for (pid_t owner = 0; !relaunching.compare_exchange_strong(owner, self, std::memory_order_acquire);
       owner = 0) {
    if (owner == self)
      std::this_thread::yield();
    else
      relaunching.compare_exchange_strong(owner, 0);  // left by the parent of this fork child
  }
  bool started = tracker_generation.load(std::memory_order_relaxed) != generation;
  if (!started) {
    std::fprintf(stderr,
                 "weft: resource_tracker: process died unexpectedly, relaunching. Some resources "
                 "might leak.\n");
    const Tracker dead = tracker.load(std::memory_order_acquire);
    reap(dead.pidfd);  // in a fork child, not its child: ECHILD at once
    if (const Tracker fresh = start_tracker(); fresh.socket >= 0) {
      started = ::dup3(fresh.socket, dead.socket, O_CLOEXEC) == dead.socket &&
                ::dup3(fresh.pidfd, dead.pidfd, O_CLOEXEC) == dead.pidfd;
      ::close(fresh.socket);
      if (started) {
        ::close(fresh.pidfd);
        tracker_generation.fetch_add(1, std::memory_order_release);
      } else {
        end_tracker(fresh.pidfd);
      }
    }
  }
  relaunching.store(0, std::memory_order_release);
  return started;
}

// Sends `record` to `to`; false if the tracker has gone (true too when an
// unexpected error leaves the record unsent). A child forked while the
// tracker started may hold the tracker's end of the socket open, and then
// no send to a dead tracker fails with EPIPE: so the tracker is first
// checked to be alive, as Python's ensure_running() does on every register,
// and a full socket is waited on together with the tracker's end.
bool send_to(const Tracker& to, const std::string& record) noexcept {
  pollfd end{to.pidfd, POLLIN, 0};
  if (::poll(&end, 1, 0) > 0 && (end.revents & POLLIN) != 0) return false;
  for (;;) {
    if (::send(to.socket, record.data(), record.size(), MSG_NOSIGNAL | MSG_DONTWAIT) >= 0) return true;
    if (errno == EPIPE || errno == ECONNRESET) return false;
    if (errno != EINTR && errno != EAGAIN) return true;
    if (errno == EAGAIN) {
      pollfd room_or_end[] = {{to.socket, POLLOUT, 0}, {to.pidfd, POLLIN, 0}};
      if (::poll(room_or_end, 2, -1) > 0 && (room_or_end[1].revents & POLLIN) != 0) return false;
    }
  }
}

// Sends a record; if the tracker has gone, starts it again and sends it
// there. Blocks only while the tracker, alive, has not read what it was sent.
void send_record(const Tracker& to, char kind, const std::string& name, dev_t device, ino_t inode) noexcept {
  if (to.socket < 0) return;
  try {
    const std::string record =
        kind + std::to_string(device) + " " + std::to_string(inode) + " " + name;
    if (record.size() > kLongestRecord) return;
    for (int attempt = 0; attempt < 2; ++attempt) {
      const unsigned generation = tracker_generation.load(std::memory_order_acquire);
      if (send_to(to, record) || !relaunch_tracker(generation)) return;
    }
  } catch (...) {
  }
}

// ---- the tracker process ----

struct Segment {
  dev_t device;
  ino_t inode;
  bool operator==(const Segment&) const = default;
};

// Closes every descriptor but the standard three and `keep`, so that the
// tracker holds none of the program's pipes and sockets open.
void close_all_but(int keep) noexcept {
  if (keep > 3 && ::close_range(3, static_cast<unsigned>(keep) - 1, 0) == 0 &&
      ::close_range(static_cast<unsigned>(keep) + 1, ~0U, 0) == 0)
    return;
  if (keep == 3 && ::close_range(4, ~0U, 0) == 0) return;
  DIR* fds = ::opendir("/proc/self/fd");
  if (fds == nullptr) return;
  const int listing = ::dirfd(fds);
  while (const dirent* entry = ::readdir(fds)) {
    const int fd = std::atoi(entry->d_name);
    if (fd > 2 && fd != keep && fd != listing) ::close(fd);
  }
  ::closedir(fds);
}

// Unlinks `name` if it still refers to `segment`.
bool unlink_if_same(const std::string& name, const Segment& segment) {
  struct stat info {};
  const std::string path = "/dev/shm/" + name;
  if (::stat(path.c_str(), &info) != 0 || Segment{info.st_dev, info.st_ino} != segment) return false;
  return ::shm_unlink(("/" + name).c_str()) == 0;
}

// Reads the number at `at` and the one blank after it; where the rest begins, or nullptr.
const char* read_number(const char* at, const char* end, unsigned long long& number) noexcept {
  const auto [after, error] = std::from_chars(at, end, number);
  return error == std::errc() && after != end && *after == ' ' ? after + 1 : nullptr;
}

// Points the standard input and output at /dev/null (closes them if it
// cannot), keeping standard error for the warnings, as Python's tracker
// does: a reader of the program's output is not kept waiting for its end.
// The socket `fd` is first moved above the three if need be; returns its
// number.
int keep_only_stderr(int fd) noexcept {
  if (fd <= STDERR_FILENO) {
    const int moved = ::fcntl(fd, F_DUPFD, STDERR_FILENO + 1);
    ::close(fd);
    fd = moved;
  }
  const int null = ::open("/dev/null", O_RDWR);
  for (const int standard : {STDIN_FILENO, STDOUT_FILENO})
    if (null < 0 || ::dup2(null, standard) != standard) ::close(standard);
  if (null > STDERR_FILENO) ::close(null);
  return fd;
}

[[noreturn]] void serve_tracker(int fd) {
  fd = keep_only_stderr(fd);
  close_all_but(fd);
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGTERM, SIG_IGN);
  std::map<std::string, Segment> created;
  char record[kLongestRecord];
  for (;;) {
    const ssize_t n = ::recv(fd, record, sizeof record, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // every process of the program has gone
    const char* const end = record + n;
    unsigned long long device = 0;
    unsigned long long inode = 0;
    const char* at = read_number(record + 1, end, device);
    if (at != nullptr) at = read_number(at, end, inode);
    if (at == nullptr) continue;
    const std::string name(at, end);  // byte for byte: a name may start with blanks
    const Segment segment{static_cast<dev_t>(device), static_cast<ino_t>(inode)};
    if (record[0] == 'R') {
      created[name] = segment;
    } else if (const auto found = created.find(name); found != created.end() && found->second == segment) {
      created.erase(found);  // not a newer segment of the same name
    }
  }
  std::size_t leaked = 0;
  std::string names;
  for (const auto& [name, segment] : created) {
    if (!unlink_if_same(name, segment)) continue;
    ++leaked;
    names += (names.empty() ? "'/" : ", '/") + name + "'";
  }
  if (leaked > 0)
    std::fprintf(stderr,
                 "weft: resource_tracker: There appear to be %zu leaked shared_memory objects to "
                 "clean up at shutdown: %s\n",
                 leaked, names.c_str());
  ::_exit(0);
}

// Runs before main() and before the program's own static initialisers
// (priority 101 comes first), so that the tracker runs none of them.
[[gnu::constructor(101)]] void become_tracker_if_asked() {
  if (const char* value = std::getenv(resource_tracker_variable)) {
    const int fd = std::atoi(value);
    ::unsetenv(resource_tracker_variable);
    serve_tracker(fd);
  }
}

}  // namespace

void track_segment(const std::string& name, dev_t device, ino_t inode) noexcept {
  send_record(started_tracker(), 'R', name, device, inode);
}

void untrack_segment(const std::string& name, dev_t device, ino_t inode) noexcept {
  send_record(tracker.load(std::memory_order_acquire), 'U', name, device, inode);
}

}  // namespace weft::mp::detail
