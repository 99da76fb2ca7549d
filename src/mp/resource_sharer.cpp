// The resource sharer: this process's lent descriptors, the thread that
// hands them over, and the client side that takes one.
#include "weft/mp/detail/resource_sharer.hpp"

#include <fcntl.h>
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
constexpr auto kKeyPatience = 5s;

struct Sharer {
  std::mutex mutex;
  std::map<Key, int> lent;
  std::optional<net::Socket> listener;
  std::string address;
};

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

// Closes the listener and every lent duplicate, which nobody can take any
// more; the next lend_fd() starts afresh. Called with the mutex held.
void forget_everything(Sharer& state) {
  for (const auto& [key, fd] : state.lent) ::close(fd);
  state.lent.clear();
  state.listener.reset();
  state.address.clear();
}

// In a child of fork(): the parent's duplicates and listener are copies
// that only the parent serves. The mutex was taken by the prepare handler
// on this very thread.
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

bool same_user(const net::Socket& peer) {
  ucred credentials{};
  socklen_t size = sizeof(credentials);
  if (::getsockopt(peer.fileno(), SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0) return false;
  return credentials.uid == ::geteuid();
}

std::optional<Key> read_key(net::Socket& peer) {
  Key key;
  std::size_t filled = 0;
  while (filled < key.size()) {
    const auto got =
        peer.recv_into(std::as_writable_bytes(std::span(key.data() + filled, key.size() - filled)));
    if (got == 0) return std::nullopt;
    filled += got;
  }
  return key;
}

// Answers one peer: the descriptor lent under its key, or a refusal.
void answer(net::Socket& peer) {
  peer.settimeout(kKeyPatience);
  const std::optional<Key> key = read_key(peer);
  if (!key) return;
  if (!same_user(peer)) {
    peer.sendall(std::string_view(&kNotYourUser, 1));
    return;
  }
  int fd = -1;
  {
    std::lock_guard lock(sharer().mutex);
    if (const auto found = sharer().lent.find(*key); found != sharer().lent.end()) {
      fd = found->second;
      sharer().lent.erase(found);
    }
  }
  if (fd < 0) {
    peer.sendall(std::string_view(&kNothingLent, 1));
    return;
  }
  try {
    net::send_fds(peer, std::string_view(&kHandedOver, 1), std::span(&fd, 1));
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

void serve(net::Socket* listener) {
  for (;;) {
    std::optional<net::Socket> peer;
    try {
      peer.emplace(listener->accept().first);
    } catch (const net::OSError& error) {
      const int err = error.code().value();
      if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        std::this_thread::sleep_for(100ms);  // out of descriptors or memory: let some go
        continue;
      }
      if (err == ECONNABORTED || err == EPROTO || err == EPERM) continue;
      stop_serving();
      return;
    }
    try {
      answer(*peer);
    } catch (const std::exception&) {
      // One misbehaving peer; the next is served as usual.
    }
  }
}

// Starts the sharer thread with every signal blocked, so that signals meant
// for the program are not delivered to it.
void start_thread(net::Socket* listener) {
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
  listener.setblocking(true);
  listener.bind(net::Address::unix_path(""));
  listener.listen(SOMAXCONN);
  std::string address = listener.getsockname().path();
  state.listener.emplace(std::move(listener));
  try {
    start_thread(&*state.listener);
  } catch (...) {
    state.listener.reset();
    throw;
  }
  state.address = std::move(address);
}

}  // namespace

LentFd lend_fd(int fd) {
  Sharer& state = sharer();
  LentFd lent{.address = {}, .key = random_key()};
  const int duplicate = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (duplicate < 0) net::raise_os_error(errno, "dup");
  try {
    std::lock_guard lock(state.mutex);
    start_serving(state);
    state.lent.emplace(lent.key, duplicate);
    lent.address = state.address;
  } catch (...) {
    ::close(duplicate);
    throw;
  }
  return lent;
}

int take_lent_fd(const LentFd& lent) {
  if (lent.address.empty() || lent.address.front() != '\0')
    throw codec::DecodeError("a lent descriptor's address must be an abstract socket name");
  net::Socket sock(AF_UNIX, SOCK_STREAM);
  sock.setblocking(true);
  sock.connect(net::Address::unix_path(lent.address));
  sock.sendall(std::as_bytes(std::span(lent.key)));
  net::ReceivedFds answer = net::recv_fds(sock, 1, 1);
  const bool handed_over = answer.data.size() == 1 && answer.data[0] == kHandedOver &&
                           answer.fds.size() == 1 && (answer.msg_flags & MSG_CTRUNC) == 0;
  if (handed_over) {
    // The lender closes its duplicate, then the connection: once that end
    // of file is read, this process holds the only copy.
    const int fd = answer.fds[0];
    try {
      char rest;
      while (sock.recv_into(std::as_writable_bytes(std::span(&rest, 1))) != 0) {
      }
    } catch (...) {
      ::close(fd);
      throw;
    }
    return fd;
  }
  for (const int fd : answer.fds) ::close(fd);
  if (answer.data.empty())
    throw codec::DecodeError("the process that lent a descriptor hung up without handing it over");
  if (answer.data[0] == kNotYourUser)
    throw AuthenticationError("the process that lent a descriptor hands it only to its own user");
  throw codec::DecodeError("no descriptor is lent under this key: it was taken already");
}

}  // namespace weft::mp::detail
