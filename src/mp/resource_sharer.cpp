// The resource sharer: this process's lent descriptors, the thread that
// hands them over, and the client side that takes one.
#include "weft/mp/detail/resource_sharer.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>

#include "weft/codec.hpp"
#include "weft/mp/errors.hpp"
#include "weft/net/errors.hpp"
#include "weft/net/fds.hpp"
#include "weft/net/socket.hpp"

namespace weft::mp::detail {
namespace {

using Key = std::array<std::uint8_t, 16>;
using namespace std::chrono_literals;

// What a peer gets back: one byte, with the descriptor attached or not.
constexpr char kHandedOver = '\x01';
constexpr char kNothingLent = '\x00';
constexpr char kNotYourUser = '\x02';
// How long the sharer waits for a peer's whole key, and a taker for the
// whole exchange.
constexpr auto kKeyPatience = 5s;
constexpr auto kTakePatience = 30s;

using Clock = std::chrono::steady_clock;

struct Sharer {
  std::mutex mutex;
  std::map<Key, int> lent;
  std::optional<net::Socket> listener;  // non-blocking
  std::string address;
  // The connection being answered, and the descriptor being handed over on
  // it: a child forked meanwhile closes its copies of both.
  std::optional<net::Socket> peer;
  int in_flight = -1;
};

// The Loans whose record() runs on this thread.
thread_local Loans* recording_loans = nullptr;

void forget_in_child();

// Never destroyed: the sharer thread may still run while the process exits.
Sharer& sharer() {
  static Sharer* const instance = [] {
    ::pthread_atfork([] { sharer().mutex.lock(); }, [] { sharer().mutex.unlock(); },
                     forget_in_child);
    return new Sharer;
  }();
  return *instance;
}

// Closes the listener, the connection being answered and every lent
// duplicate, which nobody can take any more; the next lend_fd() starts
// afresh. Called with the mutex held.
void forget_everything(Sharer& state) {
  for (const auto& [key, fd] : state.lent) ::close(fd);
  state.lent.clear();
  if (state.in_flight >= 0) ::close(std::exchange(state.in_flight, -1));
  state.peer.reset();
  state.listener.reset();
  state.address.clear();
}

// In a child of fork(): the parent's duplicates, listener and connection
// are copies that only the parent serves. The mutex was taken by the
// prepare handler on this very thread.
void forget_in_child() {
  forget_everything(sharer());
  sharer().mutex.unlock();
}

// The listener failed for good: takers must be refused, not left waiting.
void stop_serving() {
  std::lock_guard lock(sharer().mutex);
  forget_everything(sharer());
}

Key random_key() {
  Key key;
  std::size_t filled = 0;
  while (filled < key.size()) {
    const ssize_t got = ::getrandom(key.data() + filled, key.size() - filled, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      net::raise_os_error(errno, "getrandom");
    }
    filled += static_cast<std::size_t>(got);
  }
  return key;
}

ucred credentials_of(const net::Socket& peer) {
  ucred credentials{-1, static_cast<uid_t>(-1), static_cast<gid_t>(-1)};
  socklen_t size = sizeof(credentials);
  ::getsockopt(peer.fileno(), SOL_SOCKET, SO_PEERCRED, &credentials, &size);
  return credentials;
}

// Gives `sock` the time left until `deadline` for its next call; throws
// net::TimeoutError when none is left.
void time_left(net::Socket& sock, Clock::time_point deadline) {
  const auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) net::raise_os_error(ETIMEDOUT, "timed out");
  sock.settimeout(left);
}

std::optional<Key> read_key(net::Socket& peer, Clock::time_point deadline) {
  Key key;
  std::size_t filled = 0;
  while (filled < key.size()) {
    time_left(peer, deadline);
    const auto got =
        peer.recv_into(std::as_writable_bytes(std::span(key.data() + filled, key.size() - filled)));
    if (got == 0) return std::nullopt;
    filled += got;
  }
  return key;
}

// Answers the peer being served: the descriptor lent under its key, or a
// refusal. The descriptor handed over stays in_flight; finish() closes it.
void answer(net::Socket& peer) {
  const auto deadline = Clock::now() + kKeyPatience;
  if (credentials_of(peer).uid != ::geteuid()) {
    time_left(peer, deadline);
    peer.sendall(std::string_view(&kNotYourUser, 1));
    return;
  }
  const std::optional<Key> key = read_key(peer, deadline);
  if (!key) return;
  time_left(peer, Clock::now() + kKeyPatience);  // for the reply
  int fd = -1;
  {
    std::lock_guard lock(sharer().mutex);
    if (const auto found = sharer().lent.find(*key); found != sharer().lent.end()) {
      fd = sharer().in_flight = found->second;
      sharer().lent.erase(found);
    }
  }
  if (fd < 0) {
    peer.sendall(std::string_view(&kNothingLent, 1));
    return;
  }
  net::send_fds(peer, std::string_view(&kHandedOver, 1), std::span(&fd, 1));
}

// Closes the descriptor handed over, then the connection.
void finish() {
  std::lock_guard lock(sharer().mutex);
  if (sharer().in_flight >= 0) ::close(std::exchange(sharer().in_flight, -1));
  sharer().peer.reset();
}

// Connects `sock` to a Unix address, waiting until `deadline` while the
// listener's queue is full (a non-blocking Unix connect would fail at once
// with EAGAIN). Throws net::TimeoutError when the queue stays full.
void connect_within(net::Socket& sock, const net::Address& address, Clock::time_point deadline) {
  sock.setblocking(true);
  const auto left = std::chrono::ceil<std::chrono::microseconds>(deadline - Clock::now());
  const timeval limit{.tv_sec = static_cast<time_t>(left.count() / 1'000'000),
                      .tv_usec = static_cast<suseconds_t>(left.count() % 1'000'000)};
  if (::setsockopt(sock.fileno(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) != 0)
    net::raise_os_error(errno, "setsockopt");
  try {
    sock.connect(address);
  } catch (const net::BlockingIOError&) {
    net::raise_os_error(ETIMEDOUT, "timed out");
  }
}

// Takes the next connection into Sharer::peer, under the mutex so that a
// fork never copies a connection the child would not know to close.
// Returns false when the listener failed for good.
bool accept_next(int listener) {
  pollfd entry{listener, POLLIN, 0};
  if (::poll(&entry, 1, -1) < 0) return errno == EINTR;
  int err = 0;
  {
    std::lock_guard lock(sharer().mutex);
    if (!sharer().listener) return false;
    try {
      if (auto got = sharer().listener->try_accept()) sharer().peer.emplace(std::move(got->first));
    } catch (const net::OSError& error) {
      err = error.code().value();
    }
  }
  if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
    std::this_thread::sleep_for(100ms);  // out of descriptors or memory: let some go
    return true;
  }
  return err == 0 || err == ECONNABORTED || err == EPROTO || err == EPERM;
}

void serve(int listener) {
  while (accept_next(listener)) {
    if (!sharer().peer) continue;
    try {
      answer(*sharer().peer);
    } catch (const std::exception&) {
      // One misbehaving peer; the next is served as usual.
    }
    finish();
  }
  stop_serving();
}

// Starts the sharer thread with every signal blocked, so that signals meant
// for the program are not delivered to it.
void start_thread(int listener) {
  sigset_t all;
  sigset_t saved;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &saved);
  try {
    std::thread(serve, listener).detach();
  } catch (...) {
    ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    throw;
  }
  ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
}

// Binds the listener and starts the thread, once per process. Called with
// the mutex held.
void start_serving(Sharer& state) {
  if (state.listener) return;
  net::Socket listener(AF_UNIX, SOCK_STREAM);
  listener.setblocking(false);
  listener.bind(net::Address::unix_path(""));
  listener.listen(SOMAXCONN);
  std::string address = listener.getsockname().path();
  state.listener.emplace(std::move(listener));
  try {
    start_thread(state.listener->fileno());
  } catch (...) {
    state.listener.reset();
    throw;
  }
  state.address = std::move(address);
}

}  // namespace

Loans::Recording::Recording(Loans& loans) noexcept { recording_loans = &loans; }

Loans::Recording::~Recording() { recording_loans = nullptr; }

Loans::~Loans() {
  if (kept_ || keys_.empty()) return;
  std::lock_guard lock(sharer().mutex);
  for (const Key& key : keys_) {
    if (const auto found = sharer().lent.find(key); found != sharer().lent.end()) {
      ::close(found->second);
      sharer().lent.erase(found);
    }
  }
}

LentFd lend_fd(int fd) {
  Sharer& state = sharer();
  LentFd lent{.address = {}, .key = random_key(), .pid = ::getpid()};
  if (recording_loans != nullptr) recording_loans->keys_.reserve(recording_loans->keys_.size() + 1);
  std::lock_guard lock(state.mutex);
  const int duplicate = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (duplicate < 0) net::raise_os_error(errno, "dup");
  try {
    start_serving(state);
    state.lent.emplace(lent.key, duplicate);
  } catch (...) {
    ::close(duplicate);
    throw;
  }
  lent.address = state.address;
  if (recording_loans != nullptr) recording_loans->keys_.push_back(lent.key);
  return lent;
}

int take_lent_fd(const LentFd& lent) {
  if (lent.address.empty() || lent.address.front() != '\0')
    throw codec::DecodeError("a lent descriptor's address must be an abstract socket name");
  const auto deadline = Clock::now() + kTakePatience;
  net::Socket sock(AF_UNIX, SOCK_STREAM);
  connect_within(sock, net::Address::unix_path(lent.address), deadline);
  const ucred lender = credentials_of(sock);
  if (lender.uid != ::geteuid() || lender.pid != lent.pid)
    throw AuthenticationError("the process at a lent descriptor's address is not its lender");
  time_left(sock, deadline);
  sock.sendall(std::as_bytes(std::span(lent.key)));
  time_left(sock, deadline);
  net::ReceivedFds answer = net::recv_fds(sock, 1, 1);
  // The lender closes its duplicate, then the connection: once that end of
  // file is read, this process holds the only copy, and the lender no
  // connection. A lender too slow to get there still answered.
  try {
    char rest;
    do time_left(sock, deadline);
    while (sock.recv_into(std::as_writable_bytes(std::span(&rest, 1))) != 0);
  } catch (const net::OSError&) {
  }
  const bool handed_over = answer.data.size() == 1 && answer.data[0] == kHandedOver;
  if (handed_over && answer.fds.size() == 1 && (answer.msg_flags & MSG_CTRUNC) == 0)
    return answer.fds[0];
  for (const int fd : answer.fds) ::close(fd);
  if (handed_over) net::raise_os_error(EMFILE, "a lent descriptor was handed over but not received");
  if (answer.data.empty())
    throw codec::DecodeError("the process that lent a descriptor hung up without handing it over");
  if (answer.data[0] == kNotYourUser)
    throw AuthenticationError("the process that lent a descriptor hands it only to its own user");
  throw codec::DecodeError("no descriptor is lent under this key: it was taken already");
}

}  // namespace weft::mp::detail
