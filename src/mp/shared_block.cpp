// SharedBlock: a memfd mapped MAP_SHARED.
#include "weft/mp/detail/shared_block.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "weft/codec.hpp"
#include "weft/mp/detail/fd_sharing.hpp"

namespace weft::mp::detail {
namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// Sealing a block's size lets an attaching process trust fstat's answer.
constexpr unsigned kSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;

std::size_t round_to_pages(std::size_t size) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size == 0 ? page : (size + page - 1) / page * page;
}

}  // namespace

std::shared_ptr<SharedBlock> SharedBlock::map(int fd, std::size_t size) {
  void* data = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) {
    const int error = errno;
    ::close(fd);
    throw std::system_error(error, std::generic_category(), "mmap of a shared block");
  }
  return std::shared_ptr<SharedBlock>(new SharedBlock(fd, data, size));
}

std::shared_ptr<SharedBlock> SharedBlock::create(std::size_t size, const char* name) {
  const std::string label = std::string("weft:") + name;
  const int fd = ::memfd_create(label.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) throw_errno("memfd_create");
  const std::size_t rounded = round_to_pages(size);
  if (::ftruncate(fd, static_cast<off_t>(rounded)) != 0 || ::fcntl(fd, F_ADD_SEALS, kSeals) != 0) {
    const int error = errno;
    ::close(fd);
    throw std::system_error(error, std::generic_category(), "sizing a shared block");
  }
  return map(fd, rounded);
}

std::shared_ptr<SharedBlock> SharedBlock::attach(int fd) {
  if (::fcntl(fd, F_GET_SEALS) != static_cast<int>(kSeals)) {
    throw codec::DecodeError("descriptor " + std::to_string(fd) + " is not a weft shared block");
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0) throw_errno("fstat of a shared block");
  const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) throw_errno("dup of a shared block");
  return map(own, static_cast<std::size_t>(info.st_size));
}

SharedBlock::~SharedBlock() {
  ::munmap(data_, size_);
  ::close(fd_);
}

std::uint32_t SharedBlock::share_with_child(const char* what) const {
  return share_fd_with_child(fd_, what);
}

std::shared_ptr<SharedBlock> SharedBlock::from_parent(std::uint32_t token) {
  return attach(inherited_fd(token));
}

}  // namespace weft::mp::detail
