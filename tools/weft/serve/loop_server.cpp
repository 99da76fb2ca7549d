// tools/weft/serve/loop_server.cpp — the epoll and io_uring models: one
// io::Loop per thread, the same code on either backend.
//
// Per connection: one multishot receive drawing from the loop's buffer
// pool, and one send at a time. An echo is sent straight from the pool
// buffer the bytes arrived in (no copy), by a send that does not wait for
// room: what does not go out at once is copied to the connection's own
// buffer and the pool buffer given back, so a peer that stops reading
// holds no pool buffer. Bytes that arrive while a send is in flight, and
// http responses, collect in the connection's output string and go out in
// one send when it finishes. While too much of that waits (ReadGate,
// responder.hpp) the receive is cancelled, and it starts again once the
// output has drained. A receive that found the pool empty starts again
// once a buffer can be had. End of stream closes once the output has
// drained; an error or reset closes at once.
#include "weft/serve/loop_server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <exception>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "weft/io.hpp"
#include "weft/net.hpp"
#include "weft/pin_to_core.hpp"
#include "weft/serve/accept_backoff.hpp"
#include "weft/serve/responder.hpp"

namespace weft::tool {
namespace {

constexpr std::uint32_t kBufferSize = 16 * 1024;

class LoopServer;

class Connection {
 public:
  Connection(LoopServer& server, int fd, Protocol protocol);
  void start();
  // Closes the socket; *this is freed once its operations have ended.
  void close();
  // Starts the receive again that ended on an empty pool, unless too much
  // output waits (it starts once that has drained).
  void resume();

 private:
  struct Op : io::Operation {
    Op(Connection* c, Handler h) : Operation(h), connection(c) {}
    Connection* connection;
  };
  static Connection& of(io::Operation& op) { return *static_cast<Op&>(op).connection; }

  static void on_received(io::Operation& op, int result, std::uint32_t flags) noexcept;
  static void on_sent(io::Operation& op, int result, std::uint32_t flags) noexcept;

  void received(std::span<const std::byte> bytes, std::uint16_t buffer);
  // Bytes of replies not sent yet: the rest of the send in flight and the output behind it.
  std::size_t waiting() const { return unsent_.size() + output_.size(); }
  void flush();
  // Copies the unsent rest of the pool buffer's send and gives the buffer back.
  void unlend();
  void maybe_free();

  LoopServer& server_;
  int fd_;
  Responder responder_;
  bool echo_;
  std::string output_;      // waiting for the send in flight to finish
  std::string sending_;     // the bytes of the send in flight (when not a pool buffer)
  std::span<const std::byte> unsent_;
  int held_buffer_ = -1;    // pool buffer the send in flight comes from
  bool eof_ = false;
  bool closed_ = false;
  bool starved_ = false;    // waits in the server's list for a free pool buffer
  ReadGate reading_;        // shut: the receive is cancelled, or is not started again when it ends
  Op receiving_{this, &on_received};
  Op sending_op_{this, &on_sent};
};

io::LoopOptions loop_options(const ServeOptions& options, io::Backend backend) {
  io::LoopOptions loop;
  loop.backend = backend;
  loop.batch = options.batch.value_or(1);
  loop.batch_wait = std::chrono::microseconds(options.batch_wait_us.value_or(0));
  return loop;
}

class LoopServer {
 public:
  LoopServer(const ServeOptions& options, io::Backend backend, int listen_fd, int stop_fd)
      : options_(options), loop_(loop_options(options, backend)), listen_fd_(listen_fd),
        stop_fd_(stop_fd), pool_(loop_.create_buffer_pool(options.pool_buffers, kBufferSize)) {
    loop_.add_reader(stop_fd, [this] { stop(); });
  }

  io::Backend backend() const { return loop_.backend(); }
  io::Loop& loop() { return loop_; }
  io::BufferPool& pool() { return pool_; }

  // Serves until the stop fd becomes readable, then closes every
  // connection and returns once their operations have ended.
  void run() {
    loop_.accept_multishot(accepting_, listen_fd_);
    loop_.run_forever();
    std::vector<Connection*> open;
    for (auto& entry : connections_) open.push_back(entry.first);
    for (Connection* connection : open) connection->close();
    loop_.run();
  }

  void forget(Connection* connection) { connections_.erase(connection); }

  // Pool buffers lent to sends in flight: the only ones a connection keeps
  // past its handler.
  void lend() { ++lent_; }
  void give_back(std::uint16_t buffer) {
    pool_.release(buffer);
    --lent_;
    if (!starved_.empty()) schedule_resume();
  }
  // A receive ended on an empty pool. It starts again once a buffer is
  // free: at the next iteration if some buffer is not lent (the rest come
  // back as their results are handled), else when a lent one comes back.
  void starve(Connection* connection) {
    starved_.push_back(connection);
    if (lent_ < pool_.count()) schedule_resume();
  }

 private:
  struct Acceptor : io::Operation {
    explicit Acceptor(LoopServer* s) : Operation(&on_accepted), server(s) {}
    LoopServer* server;
  };

  static void on_accepted(io::Operation& op, int fd, std::uint32_t flags) noexcept {
    LoopServer& server = *static_cast<Acceptor&>(op).server;
    if (fd >= 0) {
      // Accepted in the batch that saw the stop: run() no longer closes it.
      if (server.stopping_) ::close(fd);
      else server.adopt(fd);
    }
    // A multishot accept ends on errors such as EMFILE: take up again,
    // unless the server is stopping — after a pause if it ran out of
    // descriptors (accept_backoff.hpp).
    if ((flags & io::kMore) != 0 || server.stopping_) return;
    if (fd < 0 && accept_must_back_off(-fd)) {
      server.loop_.call_later(kAcceptBackoff, [&server] { server.accept_again(); });
      return;
    }
    server.accept_again();
  }

  void accept_again() {
    if (!stopping_) loop_.accept_multishot(accepting_, listen_fd_);
  }

  void adopt(int fd) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto connection = std::make_unique<Connection>(*this, fd, options_.protocol);
    Connection* raw = connection.get();
    connections_.emplace(raw, std::move(connection));
    raw->start();
  }

  void schedule_resume() {
    if (std::exchange(resume_scheduled_, true)) return;
    loop_.call_soon([this] {
      resume_scheduled_ = false;
      std::vector<Connection*> starved;
      starved.swap(starved_);
      for (Connection* connection : starved) connection->resume();
    });
  }

  void stop() {
    stopping_ = true;
    loop_.remove_reader(stop_fd_);
    loop_.cancel(accepting_);
    loop_.stop();
  }

  const ServeOptions& options_;
  io::Loop loop_;
  int listen_fd_;
  int stop_fd_;
  io::BufferPool& pool_;
  Acceptor accepting_{this};
  bool stopping_ = false;
  std::size_t lent_ = 0;
  std::vector<Connection*> starved_;
  bool resume_scheduled_ = false;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
};

Connection::Connection(LoopServer& server, int fd, Protocol protocol)
    : server_(server), fd_(fd), responder_(protocol), echo_(protocol == Protocol::echo) {}

void Connection::start() { server_.loop().recv_multishot(receiving_, fd_, server_.pool()); }

void Connection::on_received(io::Operation& op, int result, std::uint32_t flags) noexcept {
  Connection& c = of(op);
  if ((flags & io::kBuffer) != 0) {
    const std::uint16_t id = io::buffer_id(flags);
    c.received(c.server_.pool().buffer(id).first(static_cast<std::size_t>(result)), id);
  }
  if ((flags & io::kMore) != 0 || c.closed_) return c.maybe_free();
  if (result > 0 || result == -ECANCELED) {
    // The multishot receive ended with data, or was cancelled while too
    // much output waited: take up again unless that is still so.
    if (c.reading_.open(c.waiting())) c.server_.loop().recv_multishot(c.receiving_, c.fd_, c.server_.pool());
    return;
  }
  if (result == -ENOBUFS) {
    c.starved_ = true;
    c.server_.starve(&c);
    return;
  }
  if (result == 0) {
    c.eof_ = true;
    if (!c.sending_op_.pending()) c.close();
    return c.maybe_free();
  }
  c.close();
  c.maybe_free();
}

void Connection::received(std::span<const std::byte> bytes, std::uint16_t buffer) {
  if (closed_) {
    server_.pool().release(buffer);
    return;
  }
  if (echo_ && !sending_op_.pending() && output_.empty()) {
    held_buffer_ = buffer;
    server_.lend();
    unsent_ = bytes;
    server_.loop().send(sending_op_, fd_, unsent_, MSG_DONTWAIT);
    return;
  }
  responder_.respond({reinterpret_cast<const char*>(bytes.data()), bytes.size()}, output_);
  server_.pool().release(buffer);
  if (!sending_op_.pending()) flush();
  else if (!reading_.open(waiting())) server_.loop().cancel(receiving_);
}

void Connection::flush() {
  if (output_.empty()) return;
  sending_.swap(output_);
  output_.clear();
  unsent_ = std::as_bytes(std::span(sending_));
  server_.loop().send(sending_op_, fd_, unsent_);
}

void Connection::on_sent(io::Operation& op, int result, std::uint32_t) noexcept {
  Connection& c = of(op);
  const bool full = result == -EAGAIN && c.held_buffer_ >= 0;  // the pool buffer's send found no room
  if ((result < 0 && !full) || c.closed_) {
    c.close();
    return c.maybe_free();
  }
  if (!full) c.unsent_ = c.unsent_.subspan(static_cast<std::size_t>(result));
  c.unlend();
  if (!c.unsent_.empty()) c.server_.loop().send(c.sending_op_, c.fd_, c.unsent_);
  else c.flush();
  if (c.eof_ && !c.sending_op_.pending()) c.close();
  // Reading stopped while too much output waited: it starts again once
  // that has drained.
  else if (!c.receiving_.pending() && !c.starved_ && !c.eof_ && c.reading_.open(c.waiting()))
    c.server_.loop().recv_multishot(c.receiving_, c.fd_, c.server_.pool());
  c.maybe_free();
}

void Connection::unlend() {
  if (held_buffer_ < 0) return;
  if (!unsent_.empty()) {
    sending_.assign(reinterpret_cast<const char*>(unsent_.data()), unsent_.size());
    unsent_ = std::as_bytes(std::span(sending_));
  }
  server_.give_back(static_cast<std::uint16_t>(std::exchange(held_buffer_, -1)));
}

void Connection::resume() {
  starved_ = false;
  if (closed_) return maybe_free();
  if (reading_.open(waiting())) server_.loop().recv_multishot(receiving_, fd_, server_.pool());
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  server_.loop().close(fd_);
}

void Connection::maybe_free() {
  if (!closed_ || sending_op_.pending()) return;
  // The pool buffer goes back first: a starved receive (this one's among
  // them) may be waiting for it.
  if (held_buffer_ >= 0) server_.give_back(static_cast<std::uint16_t>(std::exchange(held_buffer_, -1)));
  if (starved_ || receiving_.pending()) return;
  server_.forget(this);  // destroys *this
}

}  // namespace

io::Backend serve_loops(const ServeOptions& options, io::Backend backend, net::Socket& listener,
                        int stop_fd, const std::function<void(io::Backend)>& on_ready) {
  // Loop i > 0 gets a listener of its own on the same port (SO_REUSEPORT):
  // the kernel spreads connections over the loops.
  std::vector<net::Socket> extra;
  const net::Address address = listener.getsockname();
  for (int i = 1; i < options.loops; ++i) extra.push_back(net::create_server(address, 4096, true));

  // Every loop is set up before the server says it is ready. A loop that
  // fails, in its setup or later, stops the others through stop_fd; the
  // first failure is rethrown once every thread has ended.
  std::latch set_up(options.loops);
  std::mutex failure_mutex;
  std::exception_ptr failure;
  const auto fail = [&](std::exception_ptr error) {
    {
      std::lock_guard lock(failure_mutex);
      if (!failure) failure = std::move(error);
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(stop_fd, &one, sizeof one);
  };
  const auto failed = [&] {
    std::lock_guard lock(failure_mutex);
    return failure != nullptr;
  };
  std::vector<std::thread> threads;
  std::optional<io::Backend> ran;
  try {
    for (int i = 1; i < options.loops; ++i) {
      threads.emplace_back([&, i] {
        bool counted = false;
        try {
          if (options.cpu) pin_to_core((*options.cpu + i) % static_cast<int>(std::thread::hardware_concurrency()));
          LoopServer server(options, backend, extra[static_cast<std::size_t>(i - 1)].fileno(), stop_fd);
          set_up.count_down();
          counted = true;
          server.run();
        } catch (...) {
          fail(std::current_exception());
          if (!counted) set_up.count_down();
        }
      });
    }
    LoopServer first(options, backend, listener.fileno(), stop_fd);
    set_up.arrive_and_wait();
    if (!failed()) {
      ran = first.backend();
      if (on_ready) on_ready(*ran);
      first.run();
    }
  } catch (...) {
    fail(std::current_exception());
  }
  for (auto& thread : threads) thread.join();
  if (failure) std::rethrow_exception(failure);
  return *ran;
}

}  // namespace weft::tool
