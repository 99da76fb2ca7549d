// weft::selectors::EpollBackend: a level-triggered epoll instance.
#include "weft/selectors/detail/epoll_backend.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "backend_support.hpp"
#include "weft/selectors/key.hpp"

namespace weft::selectors::detail {

namespace {

epoll_event epoll_request(int fd, int events) noexcept {
  epoll_event ev{};
  ev.events = ((events & EVENT_READ) != 0 ? EPOLLIN : 0u) | ((events & EVENT_WRITE) != 0 ? EPOLLOUT : 0u);
  ev.data.fd = fd;
  return ev;
}

}  // namespace

EpollBackend::EpollBackend() : epfd_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (epfd_ < 0) throw_os_error("epoll_create1");
}

void EpollBackend::add(int fd, int events) {
  epoll_event ev = epoll_request(fd, events);
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) throw_os_error("epoll_ctl");
  ++watched_;
}

void EpollBackend::modify(int fd, int events) {
  epoll_event ev = epoll_request(fd, events);
  if (::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) != 0) throw_os_error("epoll_ctl");
}

void EpollBackend::remove(int fd) noexcept {
  ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
  --watched_;
}

void EpollBackend::wait(const weft::detail::Deadline& deadline, std::vector<ReadyFd>& ready) {
  // epoll_wait() needs room for at least one event, even with nothing watched.
  const std::size_t room = std::min<std::size_t>(std::max<std::size_t>(watched_, 1), INT_MAX);
  if (events_.size() < room) events_.resize(room);
  int n;
  for (;;) {
    const Slice slice = next_slice(deadline);
    n = ::epoll_wait(epfd_, events_.data(), static_cast<int>(room), slice_ms(slice));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_os_error("epoll_wait");
    }
    if (n == 0 && slice.capped) continue;
    break;
  }
  ready.clear();
  for (int i = 0; i < n; ++i)
    ready.push_back({events_[i].data.fd, selector_events(events_[i].events, EPOLLIN, EPOLLOUT)});
}

void EpollBackend::close() noexcept {
  if (epfd_ < 0) return;
  ::close(epfd_);
  epfd_ = -1;
  watched_ = 0;
}

}  // namespace weft::selectors::detail
