// The resource tracker: the program's side (messages on a SOCK_SEQPACKET
// socket, one per record) and the tracker's (a run of the executable that
// a static constructor turns into the tracker before main()).
#include "resource_tracker.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "process_state.hpp"

namespace weft::mp::detail {
namespace {

constexpr const char* kTrackerVariable = "WEFT_MP_RESOURCE_TRACKER";

// A record: 'R' and "<device> <inode> <name>" for a creation, 'U' and the
// name for an unlink. A name is at most NAME_MAX bytes, so a record fits
// one message.
constexpr std::size_t kLongestRecord = 512;

std::mutex tracker_mutex;
int tracker_fd = -1;      // this process's end; inherited by fork children
bool tracker_failed = false;

// The socket to the tracker, starting it first if need be; -1 without one.
int tracker_socket() noexcept {
  std::lock_guard lock(tracker_mutex);
  if (tracker_fd >= 0 || tracker_failed) return tracker_fd;
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) {
    tracker_failed = true;
    return -1;
  }
  try {
    spawn_self(std::string(kTrackerVariable) + "=" + std::to_string(ends[1]), {ends[1]});
    tracker_fd = ends[0];
  } catch (...) {
    ::close(ends[0]);
    tracker_failed = true;
  }
  ::close(ends[1]);
  return tracker_fd;
}

void send_record(int fd, const std::string& record) noexcept {
  if (fd < 0 || record.size() > kLongestRecord) return;
  while (::send(fd, record.data(), record.size(), MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
}

// ---- the tracker process ----

struct Segment {
  dev_t device;
  ino_t inode;
};

// Unlinks `name` if it still refers to `segment`.
bool unlink_if_same(const std::string& name, const Segment& segment) {
  struct stat info {};
  const std::string path = "/dev/shm/" + name;
  if (::stat(path.c_str(), &info) != 0 || info.st_dev != segment.device || info.st_ino != segment.inode)
    return false;
  return ::shm_unlink(("/" + name).c_str()) == 0;
}

[[noreturn]] void serve_tracker(int fd) {
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGTERM, SIG_IGN);
  std::map<std::string, Segment> created;
  char record[kLongestRecord + 1];
  for (;;) {
    const ssize_t n = ::recv(fd, record, sizeof record, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // every process of the program has gone
    const std::string_view text(record + 1, static_cast<std::size_t>(n) - 1);
    if (record[0] == 'U') {
      created.erase(std::string(text));
    } else if (record[0] == 'R') {
      unsigned long long device = 0;
      unsigned long long inode = 0;
      int name_at = 0;
      const std::string fields(text);
      if (std::sscanf(fields.c_str(), "%llu %llu %n", &device, &inode, &name_at) == 2 && name_at > 0)
        created[fields.substr(static_cast<std::size_t>(name_at))] = {static_cast<dev_t>(device),
                                                                     static_cast<ino_t>(inode)};
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

// Runs before main() in every run of a program that creates SharedMemory.
struct TrackerBootstrap {
  TrackerBootstrap() {
    if (const char* value = std::getenv(kTrackerVariable)) {
      const int fd = std::atoi(value);
      ::unsetenv(kTrackerVariable);
      serve_tracker(fd);
    }
  }
};

const TrackerBootstrap tracker_bootstrap;

}  // namespace

void track_segment(const std::string& name, dev_t device, ino_t inode) noexcept {
  try {
    send_record(tracker_socket(), "R" + std::to_string(device) + " " + std::to_string(inode) + " " + name);
  } catch (...) {
  }
}

void untrack_segment(const std::string& name) noexcept {
  int fd;
  {
    std::lock_guard lock(tracker_mutex);
    fd = tracker_fd;
  }
  try {
    send_record(fd, "U" + name);
  } catch (...) {
  }
}

}  // namespace weft::mp::detail
