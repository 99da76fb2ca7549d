// weft::selectors::SelectBackend: select(2) over two descriptor bitmaps.
#include "weft/selectors/detail/select_backend.hpp"

#include <sys/select.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <span>

#include "backend_support.hpp"
#include "weft/errors.hpp"
#include "weft/selectors/key.hpp"

namespace weft::selectors::detail {

namespace {

constexpr int kWordBits = 8 * sizeof(unsigned long);

void set_bit(std::span<unsigned long> bits, int fd, bool on) noexcept {
  const unsigned long mask = 1UL << (fd % kWordBits);
  auto& word = bits[static_cast<std::size_t>(fd / kWordBits)];
  word = on ? word | mask : word & ~mask;
}

bool test_bit(std::span<const unsigned long> bits, int fd) noexcept {
  return (bits[static_cast<std::size_t>(fd / kWordBits)] & (1UL << (fd % kWordBits))) != 0;
}

}  // namespace

void SelectBackend::add(int fd, int events) {
  if (fd >= FD_SETSIZE) throw ValueError("filedescriptor out of range in select()");
  modify(fd, events);
  if (fd > max_fd_) max_fd_ = fd;
}

void SelectBackend::modify(int fd, int events) noexcept {
  set_bit(readers_, fd, (events & EVENT_READ) != 0);
  set_bit(writers_, fd, (events & EVENT_WRITE) != 0);
}

void SelectBackend::remove(int fd) noexcept {
  modify(fd, 0);
  if (fd != max_fd_) return;
  while (max_fd_ >= 0 && !test_bit(readers_, max_fd_) && !test_bit(writers_, max_fd_)) --max_fd_;
}

void SelectBackend::wait(const weft::detail::Deadline& deadline, std::vector<ReadyFd>& ready) {
  fd_set readable;
  fd_set writable;
  for (;;) {
    std::memcpy(&readable, readers_.data(), sizeof readable);
    std::memcpy(&writable, writers_.data(), sizeof writable);
    const Slice slice = next_slice(deadline);
    timeval tv;
    const int n = ::select(max_fd_ + 1, &readable, &writable, nullptr, slice_timeval(slice, tv));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_os_error("select");
    }
    if (n == 0 && slice.capped) continue;
    break;
  }
  Bits r;
  Bits w;
  std::memcpy(r.data(), &readable, sizeof r);
  std::memcpy(w.data(), &writable, sizeof w);
  ready.clear();
  const int words = max_fd_ < 0 ? 0 : max_fd_ / kWordBits + 1;
  for (int i = 0; i < words; ++i) {
    for (unsigned long any = r[i] | w[i]; any != 0; any &= any - 1) {
      const int bit = std::countr_zero(any);
      const int fd = i * kWordBits + bit;
      ready.push_back({fd, (test_bit(r, fd) ? EVENT_READ : 0) | (test_bit(w, fd) ? EVENT_WRITE : 0)});
    }
  }
}

void SelectBackend::close() noexcept {
  readers_.fill(0);
  writers_.fill(0);
  max_fd_ = -1;
}

}  // namespace weft::selectors::detail
