// src/io/epoll_backend.cpp — the readiness backend: level-triggered epoll
// tells which fds are ready, and the loop performs each operation's system
// call itself.
//
// Per fd it keeps a queue of reading operations (accept, recv and their
// multishot forms), a queue of writing ones (send, connect), and at most one
// watch per direction. Interest in EPOLLIN/EPOLLOUT is added when an
// operation needs it and dropped lazily — only when epoll reports readiness
// nobody wants — so a connection that answers each request and reads again
// costs no epoll_ctl at all: per request one recv, one send, and a share of
// one epoll_wait, as in a hand-written epoll server. Sends are tried at
// once (a socket is almost always writable).
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <memory>
#include <optional>
#include <system_error>
#include <vector>

#include "backend.hpp"
#include "op_queue.hpp"
#include "weft/errors.hpp"

namespace weft::io::detail {
namespace {

constexpr std::uint32_t kReadEvents = EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP;
constexpr std::uint32_t kWriteEvents = EPOLLOUT | EPOLLHUP | EPOLLERR;
// Results one fd's readers (or writers) may deliver per poll phase before
// the other fds and the timers get their turn (level-triggered epoll brings
// it back): a multishot operation, or one its handler starts again at once
// (an accept failing with EMFILE, a receive at end of stream), would
// otherwise keep the loop here.
constexpr int kDispatchBudget = 32;

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void make_nonblocking(int fd) noexcept {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0 && (flags & O_NONBLOCK) == 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

int result_of(ssize_t n) noexcept { return n >= 0 ? static_cast<int>(n) : -errno; }

struct FdState {
  OpQueue readers;
  OpQueue writers;
  Operation* read_watch = nullptr;
  Operation* write_watch = nullptr;
  std::uint32_t registered = 0;  // the interest epoll holds for this fd

  std::uint32_t wanted() const noexcept {
    std::uint32_t events = 0;
    if (!readers.empty() || read_watch != nullptr) events |= EPOLLIN;
    if (!writers.empty() || write_watch != nullptr) events |= EPOLLOUT;
    return events;
  }
};

// Fd states in pages of fixed size, so a state's address survives the table
// growing while a handler runs.
class FdTable {
 public:
  FdState& operator[](int fd) {
    const auto page = static_cast<std::size_t>(fd) / kPage;
    if (page >= pages_.size()) pages_.resize(page + 1);
    if (!pages_[page]) pages_[page] = std::make_unique<FdState[]>(kPage);
    return pages_[page][static_cast<std::size_t>(fd) % kPage];
  }

 private:
  static constexpr std::size_t kPage = 1024;
  std::vector<std::unique_ptr<FdState[]>> pages_;
};

class EpollPool final : public BufferPool {
 public:
  EpollPool(std::uint16_t group, std::uint16_t count, std::uint32_t size)
      : BufferPool(group, count, size) {
    free_.reserve(count);
    for (std::uint16_t id = count; id > 0; --id) free_.push_back(static_cast<std::uint16_t>(id - 1));
  }
  void release(std::uint16_t id) noexcept override { free_.push_back(id); }
  std::optional<std::uint16_t> acquire() noexcept {
    if (free_.empty()) return std::nullopt;
    const std::uint16_t id = free_.back();
    free_.pop_back();
    return id;
  }

 private:
  std::vector<std::uint16_t> free_;
};

}  // namespace

class EpollBackend final : public BackendBase {
 public:
  EpollBackend() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) throw_errno("epoll_create1");
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) {
      const int error = errno;
      ::close(epoll_fd_);
      throw std::system_error(error, std::generic_category(), "eventfd");
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = wake_fd_;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event);
  }

  ~EpollBackend() override {
    ::close(wake_fd_);
    ::close(epoll_fd_);
  }

  void start(Operation& op) override {
    check_process();
    FdState& state = fds_[op.fd_];
    switch (op.kind_) {
      case OpKind::send: {
        const bool no_wait = (op.events_ & MSG_DONTWAIT) != 0;
        if (state.writers.empty()) {
          const ssize_t n = ::send(op.fd_, op.buffer_, op.length_, send_flags(op));
          if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK) || no_wait) {
            started(op);
            finish_later(op, result_of(n));
            return;
          }
        } else if (no_wait) {  // behind sends that wait for room
          started(op);
          finish_later(op, -EAGAIN);
          return;
        }
        state.writers.push_back(op);
        break;
      }
      case OpKind::connect: {
        make_nonblocking(op.fd_);
        const int rc = ::connect(op.fd_, op.address_, op.address_length_);
        if (rc == 0 || errno != EINPROGRESS) {
          const int result = rc == 0 ? 0 : -errno;
          started(op);
          finish_later(op, result);
          return;
        }
        state.writers.push_back(op);
        break;
      }
      case OpKind::accept:
      case OpKind::accept_multishot:
        make_nonblocking(op.fd_);
        state.readers.push_back(op);
        break;
      case OpKind::recv:
      case OpKind::recv_multishot:
        state.readers.push_back(op);
        break;
      case OpKind::watch: {
        const bool reading = (op.events_ & EPOLLIN) != 0;
        if (reading == ((op.events_ & EPOLLOUT) != 0))
          throw ValueError("a watch is for EPOLLIN or EPOLLOUT, one at a time");
        Operation*& slot = reading ? state.read_watch : state.write_watch;
        if (slot != nullptr) throw ValueError("fd already has a watch in that direction");
        slot = &op;
        break;
      }
    }
    started(op);
    const int error = want(op.fd_, state);
    if (error != 0) {
      unlink(state, op);
      finish_later(op, -error);
    }
  }

  void cancel(Operation& op) noexcept override {
    if (!op.pending_ || op.cancelling_) return;
    FdState& state = fds_[op.fd_];
    if (!unlink(state, op)) return;  // already finished, its result queued
    op.cancelling_ = true;
    finish_later(op, -ECANCELED);
  }

  void forget(int fd) noexcept override {
    FdState& state = fds_[fd];
    for (Operation* watch : {state.read_watch, state.write_watch})
      if (watch != nullptr) cancel(*watch);
    for (OpQueue* queue : {&state.readers, &state.writers}) {
      OpQueue taken = queue->take();
      while (Operation* op = taken.pop_front()) {
        op->cancelling_ = true;
        finish_later(*op, -ECANCELED);
      }
    }
    // A child of fork() shares the epoll instance: the parent's interest stays.
    if (state.registered != 0 && !in_forked_child()) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    state.registered = 0;
  }

  std::unique_ptr<BufferPool> create_pool(std::uint16_t group, std::uint16_t count,
                                          std::uint32_t size) override {
    check_process();
    auto pool = std::make_unique<EpollPool>(group, count, size);
    if (pools_.size() <= group) pools_.resize(group + 1u, nullptr);
    pools_[group] = pool.get();
    return pool;
  }

  void poll(Timeout timeout) override {
    check_process();
    timespec ts{};
    const timespec* wait = nullptr;
    if (timeout) {
      ts.tv_sec = static_cast<time_t>(timeout->count() / 1'000'000'000);
      ts.tv_nsec = static_cast<long>(timeout->count() % 1'000'000'000);
      wait = &ts;
    }
    const int n = ::epoll_pwait2(epoll_fd_, events_.data(), static_cast<int>(events_.size()), wait,
                                 nullptr);
    if (n < 0) {
      if (errno == EINTR) return;
      throw_errno("epoll_pwait2");
    }
    // With many connections each ready fd's state and its first operation
    // are cache misses; fetch them all before dispatching any.
    for (int i = 0; i < n; ++i) {
      const int fd = events_[static_cast<std::size_t>(i)].data.fd;
      if (fd != wake_fd_) __builtin_prefetch(&fds_[fd]);
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events_[static_cast<std::size_t>(i)].data.fd;
      if (fd == wake_fd_) continue;
      const FdState& state = fds_[fd];
      if (const Operation* op = state.readers.front()) __builtin_prefetch(op);
      if (const Operation* op = state.writers.front()) __builtin_prefetch(op);
    }
    for (int i = 0; i < n; ++i) dispatch(events_[static_cast<std::size_t>(i)]);
    if (static_cast<std::size_t>(n) == events_.size()) events_.resize(events_.size() * 2);
    deliver_ready();
  }

  void wake() noexcept override {
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }

 private:
  static int send_flags(const Operation& op) noexcept {
    return static_cast<int>(op.events_) | MSG_DONTWAIT | MSG_NOSIGNAL;
  }

  // Adds the interest fd's operations need; returns 0 or an errno.
  int want(int fd, FdState& state) noexcept {
    const std::uint32_t wanted = state.wanted();
    if ((wanted & ~state.registered) == 0) return 0;
    return set_interest(fd, state, state.registered | wanted);
  }

  int set_interest(int fd, FdState& state, std::uint32_t events) noexcept {
    if (events == 0 && state.registered == 0) return 0;  // not in the set, and nothing to add
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    int op = state.registered == 0 ? EPOLL_CTL_ADD : (events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD);
    int rc = ::epoll_ctl(epoll_fd_, op, fd, &event);
    if (rc < 0 && op == EPOLL_CTL_ADD && errno == EEXIST) rc = ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event);
    else if (rc < 0 && op == EPOLL_CTL_MOD && errno == ENOENT) rc = ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
    if (rc < 0 && op == EPOLL_CTL_DEL) rc = 0;  // the fd is gone already
    if (rc < 0) return errno;
    state.registered = events;
    return 0;
  }

  bool unlink(FdState& state, Operation& op) noexcept {
    if (state.read_watch == &op) {
      state.read_watch = nullptr;
      return true;
    }
    if (state.write_watch == &op) {
      state.write_watch = nullptr;
      return true;
    }
    return state.readers.remove(op) || state.writers.remove(op);
  }

  void dispatch(const epoll_event& event) {
    const int fd = event.data.fd;
    if (fd == wake_fd_) {
      std::uint64_t count;
      [[maybe_unused]] ssize_t n = ::read(wake_fd_, &count, sizeof count);
      return;
    }
    FdState& state = fds_[fd];
    const std::uint32_t events = event.events;
    if ((events & kReadEvents) != 0) {
      if (state.read_watch != nullptr) state.read_watch->complete(static_cast<int>(events & kReadEvents), kMore);
      run_readers(fd, state);
    }
    if ((events & kWriteEvents) != 0) {
      if (state.write_watch != nullptr) state.write_watch->complete(static_cast<int>(events & kWriteEvents), kMore);
      run_writers(fd, state);
    }
    // Lazy disarm: readiness that no operation wanted. Hang-up and error
    // are reported whatever the interest: only leaving the set ends them.
    const std::uint32_t wanted = state.wanted();
    if (wanted == 0 && (events & (EPOLLHUP | EPOLLERR)) != 0) {
      set_interest(fd, state, 0);
      return;
    }
    const std::uint32_t unwanted = state.registered & ~wanted & (EPOLLIN | EPOLLOUT);
    if ((events & unwanted) != 0) set_interest(fd, state, state.registered & ~unwanted);
  }

  void run_readers(int fd, FdState& state) {
    for (int budget = kDispatchBudget; budget > 0; --budget) {
      Operation* op = state.readers.front();
      if (op == nullptr) return;
      switch (op->kind_) {
        case OpKind::recv: {
          const ssize_t n = ::recv(fd, op->buffer_, op->length_, MSG_DONTWAIT);
          if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
          state.readers.pop_front();
          finish(*op, result_of(n));
          break;
        }
        case OpKind::accept: {
          const int client = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (client < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED)) return;
          state.readers.pop_front();
          finish(*op, client < 0 ? -errno : client);
          break;
        }
        case OpKind::accept_multishot: {
          const int client = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (client < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED)) return;
          if (client < 0) {
            state.readers.pop_front();
            finish(*op, -errno);
            break;
          }
          op->complete(client, kMore);
          break;
        }
        case OpKind::recv_multishot: {
          EpollPool& pool = *pools_[op->pool_];
          const auto id = pool.acquire();
          if (!id) {
            // Delivered after this poll phase: a handler that starts the
            // receive again at once finds the pool as empty, and must not
            // keep the loop here.
            state.readers.pop_front();
            finish_later(*op, -ENOBUFS);
            break;
          }
          const auto buffer = pool.buffer(*id);
          const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
          if (n <= 0) {
            pool.release(*id);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
            state.readers.pop_front();
            finish(*op, result_of(n));
            break;
          }
          op->complete(static_cast<int>(n), kBuffer | kMore | (std::uint32_t{*id} << 16));
          // A short read drained the socket: asking again would only say
          // EAGAIN, and level-triggered epoll reports it when more arrives.
          if (static_cast<std::size_t>(n) < buffer.size()) return;
          break;
        }
        default:
          return;
      }
    }
  }

  void run_writers(int fd, FdState& state) {
    for (int budget = kDispatchBudget; budget > 0; --budget) {
      Operation* op = state.writers.front();
      if (op == nullptr) return;
      if (op->kind_ == OpKind::connect) {
        int error = 0;
        socklen_t length = sizeof error;
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) < 0) error = errno;
        if (error == EINPROGRESS) return;
        state.writers.pop_front();
        finish(*op, -error);
        continue;
      }
      const ssize_t n = ::send(fd, op->buffer_, op->length_, send_flags(*op));
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      state.writers.pop_front();
      finish(*op, result_of(n));
    }
  }

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  FdTable fds_;
  std::vector<epoll_event> events_ = std::vector<epoll_event>(256);
  std::vector<EpollPool*> pools_;
};

std::unique_ptr<Backend> make_epoll_backend() { return std::make_unique<EpollBackend>(); }

}  // namespace weft::io::detail
