// tools/weft/load/load_worker.cpp — one client thread of a load run. The
// hot path per readable connection is: read up to 64 KiB, read the clock
// once, match the bytes against the expected response (memcmp when
// verifying), and for every completed response record its latency and
// queue the next request; then one send (or sendmsg for several queued
// requests) writes whatever is queued.
#include "weft/load/load_worker.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <random>
#include <system_error>
#include <thread>

namespace weft::tool {

namespace {

constexpr int kMaxEvents = 256;
constexpr int kEpollTimeoutMs = 10;       // how long a phase change can go unnoticed
constexpr int kMaxReadsPerWakeup = 64;    // then the connection waits its next turn
constexpr int kMaxIovecs = 64;
constexpr int kMaxSendRounds = 64;
constexpr int kMaxConnectAttempts = 1000;
constexpr std::int64_t kBudgetClaim = 64;  // requests taken from the shared budget at once
constexpr auto kRefusedRetryPause = std::chrono::milliseconds(20);
constexpr auto kDrainTime = std::chrono::milliseconds(200);

std::string os_error(int error) { return std::system_category().message(error); }

double thread_cpu_seconds() noexcept {
  rusage usage{};
  if (::getrusage(RUSAGE_THREAD, &usage) != 0) return 0.0;
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::uint64_t to_ns(std::chrono::steady_clock::time_point t) noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

std::string random_payload(int id, std::size_t size) {
  std::mt19937_64 random(0x77656674'6c6f6164ULL + static_cast<std::uint64_t>(id) * 0x9e3779b97f4a7c15ULL);
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; i += 8) {
    const std::uint64_t word = random();
    std::memcpy(bytes.data() + i, &word, std::min<std::size_t>(8, size - i));
  }
  return bytes;
}

}  // namespace

LoadWorker::LoadWorker(const WorkerSetup& setup, RunControl& control)
    : setup_(setup), control_(control) {
  connections_.resize(static_cast<std::size_t>(setup_.connections));
  for (int i = 0; i < setup_.connections; ++i) {
    LoadConnection& c = connections_[static_cast<std::size_t>(i)];
    c.id = setup_.first_connection + i;
    if (setup_.protocol == Protocol::echo) {
      c.payload = random_payload(c.id, setup_.message_size);
      c.request = c.payload.data();
      c.request_size = c.payload.size();
      c.expected = c.payload.data();
      c.response_size = c.payload.size();
    } else {
      c.request = kHttpRequest.data();
      c.request_size = kHttpRequest.size();
      c.expected = kHttpResponse.data();
      c.response_size = kHttpResponse.size();
    }
    c.reset_ring(setup_.pipeline);
  }
  read_again_.reserve(connections_.size());
}

LoadWorker::~LoadWorker() {
  close_all();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

void LoadWorker::run() noexcept {
  try {
    run_phases();
  } catch (const std::exception& e) {
    record_error(std::string("client thread failed: ") + e.what());
  } catch (...) {
    record_error("client thread failed");
  }
  close_all();
  publish();
  if (!reported_connected_) control_.report_connected();
  if (!finished_) finish();
}

void LoadWorker::run_phases() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::system_error(errno, std::system_category(), "epoll_create1");
  connect_all();
  publish();
  reported_connected_ = true;
  control_.report_connected();

  control_.wait_while(RunPhase::connect);
  if (control_.phase() == RunPhase::stop || alive_ == 0) return;
  prime();
  event_loop();
  drain();
}

// ---- connecting -----------------------------------------------------------

void LoadWorker::connect_all() {
  for (LoadConnection& c : connections_) {
    if (control_.phase() == RunPhase::stop) return;
    const std::string failure = connect_one(c);
    if (!failure.empty()) {
      record_error(failure);
      continue;
    }
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT | EPOLLET;
    event.data.ptr = &c;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.fd, &event) != 0) {
      record_error("epoll_ctl: " + os_error(errno));
      ::close(c.fd);
      c.fd = -1;
      continue;
    }
    ++alive_;
  }
  connected_ = alive_;
}

std::string LoadWorker::connect_one(LoadConnection& c) {
  for (int attempt = 0; attempt < kMaxConnectAttempts; ++attempt) {
    const int fd = ::socket(setup_.address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return "socket: " + os_error(errno);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int error = 0;
    if (::connect(fd, setup_.address.get(), setup_.address.length) != 0) {
      error = errno;
      if (error == EINPROGRESS) error = wait_connected(fd);
    }
    if (error == 0) {
      c.fd = fd;
      return {};
    }
    ::close(fd);
    if (error == ECONNREFUSED && std::chrono::steady_clock::now() < setup_.retry_refused_until &&
        control_.phase() != RunPhase::stop) {
      std::this_thread::sleep_for(kRefusedRetryPause);
      continue;
    }
    if (error == ETIMEDOUT) return "connect: timed out";
    if (error == ECANCELED) return "connect: cancelled (the run was stopped)";
    return "connect: " + os_error(error);
  }
  return "connect: still refused after retrying";
}

// Waits for a non-blocking connect to finish; returns its errno (0 = up).
int LoadWorker::wait_connected(int fd) {
  for (;;) {
    const auto left = setup_.connect_deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return ETIMEDOUT;
    if (control_.phase() == RunPhase::stop) return ECANCELED;
    const auto slice = std::min<long long>(
        100, std::chrono::duration_cast<std::chrono::milliseconds>(left).count() + 1);
    pollfd p{fd, POLLOUT, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(slice));
    if (ready < 0 && errno != EINTR) return errno;
    if (ready <= 0) continue;
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return errno;
    return error;
  }
}

// ---- the loop -------------------------------------------------------------

void LoadWorker::prime() {
  const std::uint64_t now = monotonic_ns();
  for (LoadConnection& c : connections_) {
    if (!c.alive()) continue;
    for (int i = 0; i < setup_.pipeline; ++i) c.push_sent(now);
    c.queued = setup_.pipeline;
    flush(c);
  }
}

void LoadWorker::event_loop() {
  std::array<epoll_event, kMaxEvents> events{};
  std::vector<LoadConnection*> again;
  again.reserve(connections_.size());
  // Bounded by the driver's stop and, should that never come, by the
  // worker's own hard deadline.
  for (std::uint64_t iteration = 0;; ++iteration) {
    const RunPhase phase = control_.phase();
    if (phase == RunPhase::stop || finished_ || alive_ == 0) break;
    if (phase == RunPhase::measure && !measuring_) begin_measure();
    if ((iteration & 63) == 0 && past_hard_deadline()) break;

    const int timeout = read_again_.empty() ? kEpollTimeoutMs : 0;
    const int ready = ::epoll_wait(epoll_fd_, events.data(), kMaxEvents, timeout);
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::system_category(), "epoll_wait");
    }
    for (int i = 0; i < ready; ++i) handle(events[static_cast<std::size_t>(i)]);
    if (!read_again_.empty()) {
      again.swap(read_again_);
      for (LoadConnection* c : again) {
        if (c->alive()) on_readable(*c);
      }
      again.clear();
    }
    publish();
  }
  if (!finished_) finish();
}

void LoadWorker::handle(const epoll_event& event) {
  auto& c = *static_cast<LoadConnection*>(event.data.ptr);
  if (!c.alive()) return;
  if ((event.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0 && !on_readable(c)) return;
  if ((event.events & EPOLLOUT) != 0 && c.queued > 0) flush(c);
}

// Reads until the socket is drained (a short read or EAGAIN). Returns false
// if the connection was lost.
bool LoadWorker::on_readable(LoadConnection& c) {
  for (int reads = 0; reads < kMaxReadsPerWakeup; ++reads) {
    const ssize_t n = ::read(c.fd, buffer_.data(), buffer_.size());
    if (n > 0) {
      if (!consume(c, buffer_.data(), static_cast<std::size_t>(n), monotonic_ns())) return false;
      if (static_cast<std::size_t>(n) < buffer_.size()) break;
      if (reads + 1 == kMaxReadsPerWakeup) read_again_.push_back(&c);
      continue;
    }
    if (n == 0) {
      lose(c, c.in_flight() > 0 ? "server closed the connection with responses outstanding"
                                : "server closed the connection");
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    lose(c, "read: " + os_error(errno));
    return false;
  }
  if (c.queued > 0) return flush(c);
  return true;
}

bool LoadWorker::consume(LoadConnection& c, const char* data, std::size_t size, std::uint64_t now) {
  if (measuring_) bytes_ += size;
  while (size > 0) {
    if (c.in_flight() == 0) {
      lose(c, "server sent more bytes than were asked for");
      return false;
    }
    const std::size_t take = std::min(size, c.response_size - c.in_offset);
    if (setup_.verify && std::memcmp(data, c.expected + c.in_offset, take) != 0) {
      lose(c, setup_.protocol == Protocol::echo ? "echo response differs from the bytes sent"
                                                : "http response differs from the expected response");
      return false;
    }
    c.in_offset += take;
    data += take;
    size -= take;
    if (c.in_offset == c.response_size) {
      c.in_offset = 0;
      complete(c, now);
    }
  }
  return true;
}

void LoadWorker::complete(LoadConnection& c, std::uint64_t now) {
  const std::uint64_t sent = c.pop_sent();
  if (measuring_) {
    if (control_.limited() && allowance_ == 0) {
      allowance_ = control_.claim(kBudgetClaim);
      if (allowance_ == 0) finish();
    }
    if (measuring_) {
      if (control_.limited()) --allowance_;
      histogram_.record(now - sent);
      ++requests_;
      ++c.measured;
    }
  }
  if (!finished_) {
    c.push_sent(now);
    ++c.queued;
  }
}

// Writes every queued request it can. Returns false if the connection was
// lost; a full socket buffer just leaves requests queued for EPOLLOUT.
bool LoadWorker::flush(LoadConnection& c) {
  for (int round = 0; round < kMaxSendRounds && c.queued > 0; ++round) {
    std::array<iovec, kMaxIovecs> iov{};
    int count = 0;
    iov[0] = {const_cast<char*>(c.request) + c.out_offset, c.request_size - c.out_offset};
    std::size_t total = iov[0].iov_len;
    for (count = 1; count < c.queued && count < kMaxIovecs; ++count) {
      iov[static_cast<std::size_t>(count)] = {const_cast<char*>(c.request), c.request_size};
      total += c.request_size;
    }
    ssize_t n = 0;
    if (count == 1) {
      n = ::send(c.fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
    } else {
      msghdr message{};
      message.msg_iov = iov.data();
      message.msg_iovlen = static_cast<std::size_t>(count);
      n = ::sendmsg(c.fd, &message, MSG_NOSIGNAL);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      lose(c, "send: " + os_error(errno));
      return false;
    }
    const std::size_t written = c.out_offset + static_cast<std::size_t>(n);
    c.queued -= static_cast<int>(written / c.request_size);
    c.out_offset = written % c.request_size;
    if (static_cast<std::size_t>(n) < total) return true;
  }
  return true;
}

// ---- stopping -------------------------------------------------------------

// Shuts every connection down for writing and reads (discarding) until the
// server closes its side or kDrainTime passes, so servers see a clean EOF
// rather than a reset; then closes whatever is left.
void LoadWorker::drain() {
  draining_ = true;
  for (LoadConnection& c : connections_) {
    if (c.alive()) ::shutdown(c.fd, SHUT_WR);
  }
  const auto deadline = std::chrono::steady_clock::now() + kDrainTime;
  std::array<epoll_event, kMaxEvents> events{};
  while (alive_ > 0 && std::chrono::steady_clock::now() < deadline) {
    const int ready = ::epoll_wait(epoll_fd_, events.data(), kMaxEvents, kEpollTimeoutMs);
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < ready; ++i) {
      auto& c = *static_cast<LoadConnection*>(events[static_cast<std::size_t>(i)].data.ptr);
      for (int reads = 0; c.alive() && reads < kMaxReadsPerWakeup; ++reads) {
        const ssize_t n = ::read(c.fd, buffer_.data(), buffer_.size());
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        close_connection(c);
      }
    }
  }
  close_all();
}

void LoadWorker::lose(LoadConnection& c, const std::string& why) {
  if (!draining_) {
    record_error(why);
    ++lost_;
  }
  close_connection(c);
}

void LoadWorker::close_connection(LoadConnection& c) noexcept {
  if (!c.alive()) return;
  ::close(c.fd);
  c.fd = -1;
  --alive_;
}

void LoadWorker::close_all() noexcept {
  for (LoadConnection& c : connections_) close_connection(c);
}

// ---- bookkeeping ----------------------------------------------------------

void LoadWorker::begin_measure() {
  measuring_ = true;
  cpu_begin_ = thread_cpu_seconds();
}

// Stops counting (for good) and tells the driver.
void LoadWorker::finish() {
  if (measuring_) {
    cpu_seconds_ = thread_cpu_seconds() - cpu_begin_;
    measure_end_ns_ = monotonic_ns();
    // What never came back. A run cut short by its request budget may leave
    // connections idle by design: only stalled requests count then.
    for (const LoadConnection& c : connections_) {
      if (!c.alive()) continue;
      if (c.measured == 0 && !control_.limited()) ++idle_;
      if (c.in_flight() > 0 && measure_end_ns_ - c.oldest_sent() > setup_.stalled_after_ns) {
        stalled_ += c.in_flight();  // the oldest is late, so are those behind it
        oldest_stalled_seconds_ =
            std::max(oldest_stalled_seconds_, static_cast<double>(measure_end_ns_ - c.oldest_sent()) / 1e9);
      }
    }
  }
  measuring_ = false;
  finished_ = true;
  publish();
  control_.report_finished();
}

void LoadWorker::record_error(const std::string& message) {
  ++errors_[message];
  ++error_count_;
  live_errors_.store(error_count_, std::memory_order_relaxed);
}

void LoadWorker::publish() noexcept {
  live_requests_.store(requests_, std::memory_order_relaxed);
  live_alive_.store(alive_, std::memory_order_relaxed);
}

bool LoadWorker::past_hard_deadline() const noexcept {
  return monotonic_ns() >= to_ns(setup_.hard_deadline);
}

}  // namespace weft::tool
