// The forkserver: a single-threaded process, spawned on first use, that
// forks children on request. Each request is one SOCK_SEQPACKET message
// whose SCM_RIGHTS carry the child's payload channel, its status pipe, the
// program's current standard output and error (the child writes there) and
// the descriptors it inherits. The server writes the child's pid, then its
// exit code, to the status pipe (the parent's sentinel), as CPython's does;
// it exits when the program closes its end of the socket (exits or dies).
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <system_error>
#include <vector>

#include "pidfd.hpp"
#include "process_state.hpp"

namespace weft::mp::detail {
namespace {

constexpr std::size_t max_fds = 253;  // SCM_MAX_FD

[[noreturn]] void throw_errno(int error, const char* what) {
  throw std::system_error(error, std::generic_category(), what);
}

struct Client {
  std::mutex mutex;
  int sock = -1;
  int pidfd = -1;  // the server's
};

Client*& client() {
  static Client* instance = new Client;
  return instance;
}

// Under the client's mutex: a running server, started or restarted.
void ensure_running(Client& c) {
  if (c.sock >= 0) {
    siginfo_t info{};
    if (::waitid(P_PIDFD, static_cast<id_t>(c.pidfd), &info, WEXITED | WNOHANG) == 0 &&
        info.si_pid == 0)
      return;
    ::close(c.sock);
    ::close(c.pidfd);
    c.sock = c.pidfd = -1;
  }
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
    throw_errno(errno, "socketpair");
  pid_t pid;
  try {
    pid = spawn_self(std::string(forkserver_variable) + "=" + std::to_string(pair[1]), {pair[1]});
  } catch (...) {
    ::close(pair[0]);
    ::close(pair[1]);
    throw;
  }
  ::close(pair[1]);
  c.pidfd = sys_pidfd_open(pid);
  if (c.pidfd < 0) {
    const int error = errno;
    ::close(pair[0]);
    throw_errno(error, "pidfd_open");
  }
  c.sock = pair[0];
}

void send_request(int sock, const std::vector<int>& fds) {
  char byte = 'F';
  iovec data{&byte, 1};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  msghdr message{};
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  message.msg_control = control.data();
  message.msg_controllen = control.size();
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
  ssize_t n;
  do n = ::sendmsg(sock, &message, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n != 1) throw_errno(n < 0 ? errno : EPIPE, "cannot reach the forkserver");
}

// Reads exactly one int32 from `fd`; false at end of file.
bool read_int(int fd, std::int32_t& value) {
  std::size_t got = 0;
  auto* bytes = reinterpret_cast<char*>(&value);
  while (got < sizeof value) {
    const ssize_t n = ::read(fd, bytes + got, sizeof value - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

void write_int(int fd, std::int32_t value) noexcept {
  ssize_t n;
  do n = ::write(fd, &value, sizeof value);
  while (n < 0 && errno == EINTR);
}

// One request received by the server: [payload, status, stdout, stderr,
// inherited...].
std::vector<int> receive_request(int sock, bool& closed) {
  char byte;
  iovec data{&byte, 1};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * max_fds));
  msghdr message{};
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  message.msg_control = control.data();
  message.msg_controllen = control.size();
  ssize_t n;
  do n = ::recvmsg(sock, &message, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  closed = n <= 0;
  std::vector<int> fds;
  for (cmsghdr* h = CMSG_FIRSTHDR(&message); h != nullptr; h = CMSG_NXTHDR(&message, h)) {
    if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const std::size_t first = fds.size();
    fds.resize(first + count);
    std::memcpy(fds.data() + first, CMSG_DATA(h), count * sizeof(int));
  }
  return fds;
}

}  // namespace

void forget_forkserver() noexcept {
  Client* old = client();
  if (old->sock >= 0) ::close(old->sock);
  if (old->pidfd >= 0) ::close(old->pidfd);
  client() = new Client;  // another thread may have held the mutex at the fork
}

Launched launch_forkserver(std::string_view payload, const std::vector<int>& fds) {
  if (fds.size() + 4 > max_fds) throw ValueError("too many descriptors for one child");
  int channel[2];
  int status[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel) != 0)
    throw_errno(errno, "socketpair");
  if (::pipe2(status, O_CLOEXEC) != 0) {
    const int error = errno;
    ::close(channel[0]);
    ::close(channel[1]);
    throw_errno(error, "pipe2");
  }
  // The child writes where the parent's standard output and error go now.
  std::vector<int> passed{channel[0], status[1], STDOUT_FILENO, STDERR_FILENO};
  passed.insert(passed.end(), fds.begin(), fds.end());
  Launched launched{0, status[0], true};
  try {
    Client& c = *client();
    std::lock_guard guard(c.mutex);
    ensure_running(c);
    send_request(c.sock, passed);
    ::close(channel[0]);
    ::close(status[1]);
    channel[0] = status[1] = -1;
    std::int32_t pid = 0;
    if (!read_int(status[0], pid)) throw ProcessError("the forkserver died");
    launched.pid = pid;
  } catch (...) {
    for (const int fd : {channel[0], channel[1], status[0], status[1]})
      if (fd >= 0) ::close(fd);
    throw;
  }
  send_payload(channel[1], payload);
  ::close(channel[1]);
  return launched;
}

void serve_forkserver(int sock) {
  sigset_t child_signal;
  sigemptyset(&child_signal);
  sigaddset(&child_signal, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &child_signal, nullptr);
  const int signals = ::signalfd(-1, &child_signal, SFD_CLOEXEC);
  ::signal(SIGPIPE, SIG_IGN);  // a parent may close a status pipe early
  const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, STDIN_FILENO);
    ::close(null);
  }
  const pid_t server = ::getpid();
  std::map<pid_t, int> status_of;

  while (true) {
    pollfd ready[2] = {{sock, POLLIN, 0}, {signals, POLLIN, 0}};
    if (::poll(ready, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (ready[1].revents != 0) {
      signalfd_siginfo info;
      while (::read(signals, &info, sizeof info) < 0 && errno == EINTR) {
      }
      int wait_status;
      pid_t pid;
      while ((pid = ::waitpid(-1, &wait_status, WNOHANG)) > 0) {
        const auto found = status_of.find(pid);
        if (found == status_of.end()) continue;
        write_int(found->second, exitcode_from_status(wait_status));
        ::close(found->second);
        status_of.erase(found);
      }
    }
    if (ready[0].revents == 0) continue;
    bool closed = false;
    std::vector<int> fds = receive_request(sock, closed);
    if (closed) break;  // the program is gone
    if (fds.size() < 4) {
      for (const int fd : fds) ::close(fd);
      continue;
    }
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(sock);
      ::close(signals);
      for (const auto& [_, fd] : status_of) ::close(fd);
      ::close(fds[1]);
      ::dup2(fds[2], STDOUT_FILENO);
      ::dup2(fds[3], STDERR_FILENO);
      ::close(fds[2]);
      ::close(fds[3]);
      ::signal(SIGPIPE, SIG_DFL);
      ::sigprocmask(SIG_UNBLOCK, &child_signal, nullptr);
      run_encoded_child(fds[0], std::vector<int>(fds.begin() + 4, fds.end()), server);
    }
    ::close(fds[0]);
    for (std::size_t i = 2; i < fds.size(); ++i) ::close(fds[i]);
    if (pid < 0) {
      ::close(fds[1]);  // the parent reads end of file and raises ProcessError
      continue;
    }
    write_int(fds[1], pid);
    status_of[pid] = fds[1];
  }
  ::_exit(0);
}

}  // namespace weft::mp::detail
