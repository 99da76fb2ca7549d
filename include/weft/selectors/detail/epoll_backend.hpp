// weft/selectors/detail/epoll_backend.hpp — the epoll(7) half of
// EpollSelector: a close-on-exec, level-triggered epoll instance.
//
// Not thread-safe; the owning selector serializes every call. Not copyable.
#pragma once

#include <sys/epoll.h>

#include <cstddef>
#include <vector>

#include "weft/detail/deadline.hpp"
#include "weft/selectors/detail/ready_fd.hpp"

namespace weft::selectors::detail {

class EpollBackend {
 public:
  // Creates the epoll instance. Throws std::system_error if it cannot.
  EpollBackend();
  EpollBackend(const EpollBackend&) = delete;
  EpollBackend& operator=(const EpollBackend&) = delete;
  ~EpollBackend() { close(); }

  // The epoll descriptor; -1 once closed. Never throws.
  int fileno() const noexcept { return epfd_; }

  // Watches `fd` for `events` (EPOLL_CTL_ADD). Throws std::system_error if
  // the kernel refuses (EPERM for a regular file, EBADF for a closed fd).
  void add(int fd, int events);
  // Re-arms `fd` with `events` (EPOLL_CTL_MOD). Throws std::system_error.
  void modify(int fd, int events);
  // Stops watching `fd` (EPOLL_CTL_DEL). Never throws: a descriptor closed
  // since it was added has already left the epoll set (EBADF, ENOENT), which
  // is what was asked, so the error is ignored as CPython ignores it.
  void remove(int fd) noexcept;

  // Blocks until a watched descriptor is ready or `deadline` passes, then
  // replaces `ready` with what is ready. Asks for at most as many events as
  // descriptors are watched, so one wait reports every ready descriptor.
  // Retries EINTR with the time left. Throws std::system_error if
  // epoll_wait(2) fails.
  void wait(const weft::detail::Deadline& deadline, std::vector<ReadyFd>& ready);

  // Closes the epoll descriptor. Never throws; idempotent.
  void close() noexcept;

 private:
  int epfd_;
  std::size_t watched_ = 0;
  std::vector<epoll_event> events_;
};

}  // namespace weft::selectors::detail
