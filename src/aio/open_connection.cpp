// open_connection(): resolve, then connect to each address in turn on the
// loop's core until one answers.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "resolve.hpp"
#include "stream_transport.hpp"
#include "weft/aio/event_loop.hpp"
#include "weft/aio/streams.hpp"
#include "weft/io/loop.hpp"
#include "weft/errors.hpp"
#include "weft/net/errors.hpp"

namespace weft::aio {
namespace {

// One connect(2) on the loop's core, in the awaiting frame. Owns the
// socket until release(): destroyed before that, it closes it. co_await
// returns 0 once connected, else the errno value. A cancellation cancels
// the connect and resumes the task once the loop has ended it (the
// operation lives in this frame), then throws CancelledError.
class ConnectAwaiter : private detail::Suspension, private io::Operation {
 public:
  ConnectAwaiter(EventLoop& loop, int fd, net::Address address) noexcept
      : detail::Suspension{&on_cancel}, io::Operation(&on_connected), loop_(loop), fd_(fd),
        address_(std::move(address)) {}
  ConnectAwaiter(const ConnectAwaiter&) = delete;
  ConnectAwaiter& operator=(const ConnectAwaiter&) = delete;
  ~ConnectAwaiter() {
    if (fd_ >= 0) loop_.io().close(fd_);
  }

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> awaiting) {
    task_ = &detail::current_task_state();
    loop_.io().connect(*this, fd_, address_.data(), address_.size());
    task_->suspend(awaiting, this);
  }
  int await_resume() {
    task_->throw_if_cancelled();
    return result_ < 0 ? -result_ : 0;
  }

  int release() noexcept { return std::exchange(fd_, -1); }

 private:
  static void on_connected(io::Operation& op, int result, std::uint32_t) noexcept {
    auto& self = static_cast<ConnectAwaiter&>(op);
    self.result_ = result;
    if (self.cancelled_) self.task_->wake_cancelled();
    else self.task_->wake();
  }
  static bool on_cancel(detail::Suspension& suspension, detail::TaskState&) noexcept {
    auto& self = static_cast<ConnectAwaiter&>(suspension);
    self.cancelled_ = true;
    self.loop_.io().cancel(self);
    return true;
  }

  EventLoop& loop_;
  int fd_;
  net::Address address_;  // the kernel may read it until the connect is submitted
  detail::TaskState* task_ = nullptr;
  int result_ = 0;
  bool cancelled_ = false;
};

}  // namespace

Task<StreamPair> open_connection(std::string host, std::uint16_t port, std::size_t limit) {
  detail::check_stream_limit(limit);
  EventLoop& loop = get_running_loop();
  const std::vector<net::AddrInfo> addresses = co_await detail::resolve(std::move(host), port);
  std::exception_ptr first_error;
  for (const net::AddrInfo& info : addresses) {
    const int fd = ::socket(info.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, info.proto);
    if (fd < 0) {
      if (!first_error) first_error = detail::os_error(errno, "socket");
      continue;
    }
    ConnectAwaiter connecting(loop, fd, info.address);
    const int error = co_await connecting;
    if (error == 0) {
      const bool tcp = info.family == AF_INET || info.family == AF_INET6;
      detail::StreamTransport* transport = detail::StreamTransport::open(loop, connecting.release(), limit, tcp, nullptr);
      co_return StreamPair{StreamReader(transport), StreamWriter(transport)};
    }
    if (!first_error) first_error = detail::os_error(error, "Connect call failed " + info.address.to_string());
  }
  if (!first_error) net::raise_os_error(EADDRNOTAVAIL, "no address to connect to");
  std::rethrow_exception(first_error);
}

Task<StreamPair> open_connection(net::Socket sock, std::size_t limit) {
  detail::check_stream_limit(limit);
  if (sock.type() != SOCK_STREAM) throw ValueError("a stream socket was expected");
  EventLoop& loop = get_running_loop();
  const bool tcp = sock.family() == AF_INET || sock.family() == AF_INET6;
  sock.setblocking(false);
  detail::StreamTransport* transport = detail::StreamTransport::open(loop, sock.detach(), limit, tcp, nullptr);
  co_return StreamPair{StreamReader(transport), StreamWriter(transport)};
}

}  // namespace weft::aio
