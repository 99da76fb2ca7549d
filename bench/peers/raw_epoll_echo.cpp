// bench/peers/raw_epoll_echo.cpp — the shootout's "physical limit" peer: an
// echo (or minimal http) server in plain C-style code on raw Linux epoll.
// One thread, one level-triggered epoll_wait loop, non-blocking accept4,
// and per ready connection one read into a static 64 KiB buffer followed by
// one write of the reply; a short write keeps the rest in a per-connection
// buffer and waits for EPOLLOUT (not reading meanwhile).
//
//   weft_peer_raw_epoll --port P [--protocol echo|http] [--threads N]
//
// Binds 127.0.0.1:P (0 = any free port), prints "listening on
// 127.0.0.1:PORT" once accepting, serves until SIGTERM or SIGINT, exits 0.
// With --threads N, N loops each own a SO_REUSEPORT listener on that port.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "weft/protocol.hpp"

namespace {

constexpr size_t kBufferSize = 64 * 1024;
constexpr int kMaxEvents = 256;
constexpr int kMaxThreads = 64;
constexpr int kMaxAcceptsPerWakeup = 256;

struct conn {
  int fd;
  char* pending;  // reply bytes not yet written
  size_t pending_len;
  size_t pending_off;
  weft::tool::HttpRequestCounter requests;
};

struct loop_args {
  int listen_fd;
  int stop_fd;  // an eventfd that becomes readable at shutdown
  bool http;
};

thread_local char buffer[kBufferSize];
thread_local char replies[kBufferSize];

void die(const char* what) {
  perror(what);
  exit(1);
}

void close_conn(int epfd, conn* c) {
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, nullptr);
  close(c->fd);
  free(c->pending);
  delete c;
}

void watch(int epfd, conn* c, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = c;
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

// Queues bytes that could not be written yet; returns false on out of memory.
bool keep(conn* c, const char* data, size_t len) {
  char* grown = static_cast<char*>(realloc(c->pending, c->pending_len + len));
  if (grown == nullptr) return false;
  memcpy(grown + c->pending_len, data, len);
  c->pending = grown;
  c->pending_len += len;
  return true;
}

// Writes `len` bytes, or queues what did not fit. Returns false if the
// connection failed.
bool send_or_keep(int epfd, conn* c, const char* data, size_t len) {
  if (c->pending_len > c->pending_off) return keep(c, data, len);
  ssize_t n = 0;
  for (int tries = 0; tries < 8; ++tries) {
    n = write(c->fd, data, len);
    if (n >= 0 || errno != EINTR) break;
  }
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
    n = 0;
  }
  if (static_cast<size_t>(n) == len) return true;
  if (!keep(c, data + n, len - static_cast<size_t>(n))) return false;
  watch(epfd, c, EPOLLOUT);
  return true;
}

// Writes queued bytes; back to reading once they are all out.
bool flush_pending(int epfd, conn* c) {
  while (c->pending_off < c->pending_len) {
    const ssize_t n = write(c->fd, c->pending + c->pending_off, c->pending_len - c->pending_off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    c->pending_off += static_cast<size_t>(n);
  }
  free(c->pending);
  c->pending = nullptr;
  c->pending_len = 0;
  c->pending_off = 0;
  watch(epfd, c, EPOLLIN);
  return true;
}

bool reply_http(int epfd, conn* c, const char* data, size_t len) {
  size_t count = c->requests.feed(std::string_view(data, len));
  const size_t one = weft::tool::kHttpResponse.size();
  const size_t per_batch = kBufferSize / one;
  while (count > 0) {
    const size_t batch = count < per_batch ? count : per_batch;
    for (size_t i = 0; i < batch; ++i) memcpy(replies + i * one, weft::tool::kHttpResponse.data(), one);
    if (!send_or_keep(epfd, c, replies, batch * one)) return false;
    count -= batch;
  }
  return true;
}

// One read, one reply. Returns false when the connection is done.
bool on_readable(int epfd, conn* c, bool http) {
  const ssize_t n = read(c->fd, buffer, kBufferSize);
  if (n == 0) return false;
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  if (http) return reply_http(epfd, c, buffer, static_cast<size_t>(n));
  return send_or_keep(epfd, c, buffer, static_cast<size_t>(n));
}

void accept_all(int epfd, int listen_fd) {
  for (int i = 0; i < kMaxAcceptsPerWakeup; ++i) {
    const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn* c = new conn{fd, nullptr, 0, 0, {}};
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = c;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
      close(fd);
      delete c;
    }
  }
}

void* serve(void* raw) {
  const loop_args* args = static_cast<const loop_args*>(raw);
  const int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1");
  // data.ptr == nullptr marks the listener, &args->stop_fd the stop event.
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, args->listen_fd, &ev) != 0) die("epoll_ctl");
  ev.data.ptr = const_cast<int*>(&args->stop_fd);
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, args->stop_fd, &ev) != 0) die("epoll_ctl");

  epoll_event events[kMaxEvents];
  bool running = true;
  while (running) {
    const int ready = epoll_wait(epfd, events, kMaxEvents, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < ready; ++i) {
      void* tag = events[i].data.ptr;
      if (tag == nullptr) {
        accept_all(epfd, args->listen_fd);
        continue;
      }
      if (tag == &args->stop_fd) {
        running = false;
        continue;
      }
      conn* c = static_cast<conn*>(tag);
      const uint32_t e = events[i].events;
      bool ok = true;
      if (e & EPOLLOUT) {
        ok = flush_pending(epfd, c);
      } else if (e & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        ok = on_readable(epfd, c, args->http);
      }
      if (!ok) close_conn(epfd, c);
    }
  }
  close(epfd);
  return nullptr;
}

int listen_on(int port, bool reuse_port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("bind");
  if (listen(fd, 4096) != 0) die("listen");
  return fd;
}

int bound_port(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) die("getsockname");
  return ntohs(addr.sin_port);
}

void raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

[[noreturn]] void usage(const char* argv0) {
  fprintf(stderr, "usage: %s --port P [--protocol echo|http] [--threads N]\n", argv0);
  exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int port = -1;
  bool http = false;
  int threads = 1;
  for (int i = 1; i < argc; ++i) {
    if (i + 1 >= argc) usage(argv[0]);
    if (strcmp(argv[i], "--port") == 0) {
      port = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--protocol") == 0) {
      const char* name = argv[++i];
      if (strcmp(name, "http") == 0) {
        http = true;
      } else if (strcmp(name, "echo") != 0) {
        usage(argv[0]);
      }
    } else if (strcmp(argv[i], "--threads") == 0) {
      threads = atoi(argv[++i]);
    } else {
      usage(argv[0]);
    }
  }
  if (port < 0 || port > 65535 || threads < 1 || threads > kMaxThreads) usage(argv[0]);

  // Every thread inherits the blocked signals; the main thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();

  const int stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd < 0) die("eventfd");
  loop_args args[kMaxThreads];
  args[0] = {listen_on(port, threads > 1), stop_fd, http};
  const int actual_port = bound_port(args[0].listen_fd);
  for (int t = 1; t < threads; ++t) args[t] = {listen_on(actual_port, true), stop_fd, http};

  pthread_t loops[kMaxThreads];
  for (int t = 0; t < threads; ++t) {
    if (pthread_create(&loops[t], nullptr, serve, &args[t]) != 0) die("pthread_create");
  }
  printf("listening on 127.0.0.1:%d\n", actual_port);
  fflush(stdout);

  int signo = 0;
  sigwait(&stop_signals, &signo);
  const uint64_t one = 1;
  if (write(stop_fd, &one, sizeof one) != sizeof one) die("eventfd write");
  for (int t = 0; t < threads; ++t) pthread_join(loops[t], nullptr);
  for (int t = 0; t < threads; ++t) close(args[t].listen_fd);
  close(stop_fd);
  return 0;
}
