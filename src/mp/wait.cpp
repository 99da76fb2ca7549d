// weft::mp::wait(): poll(2) over the descriptors of the objects watched.
#include "weft/mp/wait.hpp"

#include <poll.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "poll_timeout.hpp"
#include "weft/net/errors.hpp"

namespace weft::mp::detail {

namespace {

[[noreturn]] void throw_bad_descriptor(int fd) {
  throw net::OSError(std::error_code(EBADF, std::generic_category()),
                     "wait: descriptor " + std::to_string(fd) + " is not open");
}

}  // namespace

std::vector<std::size_t> wait_ready(std::span<const int> fds,
                                    const weft::detail::Deadline& deadline) {
  std::vector<pollfd> entries;
  entries.reserve(fds.size());
  for (const int fd : fds) {
    if (fd < 0) throw_bad_descriptor(fd);
    entries.push_back(pollfd{fd, POLLIN, 0});
  }
  for (;;) {
    const int count = ::poll(entries.data(), entries.size(), detail::poll_timeout_ms(deadline));
    if (count < 0) {
      if (errno != EINTR) net::raise_os_error(errno, "poll");
      continue;
    }
    if (count == 0) {
      // poll(2) may wake a little early on a coarse clock; wait the rest.
      if (!deadline || weft::detail::expired(deadline)) return {};
      continue;
    }
    std::vector<std::size_t> ready;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if ((entries[i].revents & POLLNVAL) != 0) throw_bad_descriptor(entries[i].fd);
      if (entries[i].revents != 0) ready.push_back(i);
    }
    return ready;
  }
}

}  // namespace weft::mp::detail
