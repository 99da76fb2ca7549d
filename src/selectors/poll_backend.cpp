// weft::selectors::PollBackend: poll(2) over an unordered pollfd array.
#include "weft/selectors/detail/poll_backend.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstddef>

#include "backend_support.hpp"
#include "weft/selectors/key.hpp"

namespace weft::selectors::detail {

namespace {

short poll_events(int events) noexcept {
  return static_cast<short>(((events & EVENT_READ) != 0 ? POLLIN : 0) |
                            ((events & EVENT_WRITE) != 0 ? POLLOUT : 0));
}

// Whether `fd` is open, or below the hard limit on descriptors and so may
// be opened later.
bool could_be_open(int fd) noexcept {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
      (limit.rlim_max == RLIM_INFINITY || static_cast<rlim_t>(fd) < limit.rlim_max))
    return true;
  return ::fcntl(fd, F_GETFD) != -1;
}

}  // namespace

void PollBackend::add(int fd, int events) {
  const auto at = static_cast<std::size_t>(fd);
  if (at >= slot_.size()) {
    if (!could_be_open(fd)) {
      errno = EBADF;
      throw_os_error("poll");
    }
    slot_.resize(at + 1, -1);
  }
  fds_.push_back({fd, poll_events(events), 0});
  slot_[at] = static_cast<int>(fds_.size() - 1);
}

void PollBackend::modify(int fd, int events) noexcept {
  fds_[static_cast<std::size_t>(slot_[static_cast<std::size_t>(fd)])].events = poll_events(events);
}

void PollBackend::remove(int fd) noexcept {
  int& slot = slot_[static_cast<std::size_t>(fd)];
  const auto at = static_cast<std::size_t>(slot);
  if (at + 1 != fds_.size()) {
    fds_[at] = fds_.back();
    slot_[static_cast<std::size_t>(fds_[at].fd)] = static_cast<int>(at);
  }
  fds_.pop_back();
  slot = -1;
}

void PollBackend::wait(const weft::detail::Deadline& deadline, std::vector<ReadyFd>& ready) {
  int n;
  for (;;) {
    const Slice slice = next_slice(deadline);
    n = ::poll(fds_.data(), fds_.size(), slice_ms(slice));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_os_error("poll");
    }
    if (n == 0 && slice.capped) continue;
    break;
  }
  ready.clear();
  for (const pollfd& fd : fds_) {
    if (n == 0) break;
    if (fd.revents == 0) continue;
    ready.push_back({fd.fd, selector_events(static_cast<unsigned short>(fd.revents), POLLIN, POLLOUT)});
    --n;
  }
}

void PollBackend::close() noexcept {
  fds_.clear();
  slot_.clear();
}

}  // namespace weft::selectors::detail
