// weft/selectors/detail/ready_fd.hpp — one line of a backend's answer to a
// wait: a descriptor and the EVENT_READ/EVENT_WRITE mask it is ready for.
#pragma once

namespace weft::selectors::detail {

struct ReadyFd {
  int fd;
  // Python's translation of the kernel's bits: an error or hang-up counts as
  // both readable and writable; the selector then keeps only the events the
  // file is registered for.
  int events;
};

}  // namespace weft::selectors::detail
