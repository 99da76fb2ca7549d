// SharedMemory: a POSIX shared memory object, unlinked once by its creator.
#include "weft/mp/shared_memory.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <utility>

#include "resource_tracker.hpp"
#include "weft/errors.hpp"
#include "weft/net/errors.hpp"

namespace weft::mp {
namespace {

constexpr mode_t kMode = 0600;  // Python's _mode

// Python's psm_ names: a prefix and random hex, 14 characters with the '/'.
std::string random_name() {
  unsigned char random[4];
  std::size_t got = 0;
  while (got < sizeof random) {
    const ssize_t n = ::getrandom(random + got, sizeof random - got, 0);
    if (n < 0 && errno != EINTR) net::raise_os_error(errno, "getrandom");
    if (n > 0) got += static_cast<std::size_t>(n);
  }
  char name[16];
  std::snprintf(name, sizeof name, "wnsm_%02x%02x%02x%02x", random[0], random[1], random[2],
                random[3]);
  return name;
}

std::string path_of(const std::string& name) { return "/" + name; }

// Python quotes the path it passed to shm_open: "[Errno 17] File exists: '/x'".
[[noreturn]] void raise_for(int err, const std::string& name) {
  net::raise_os_error(err, "'" + path_of(name) + "'");
}

}  // namespace

SharedMemory::SharedMemory(std::optional<std::string_view> name, bool create, std::size_t size,
                           bool track) {
  if (create && size == 0) {
    throw ValueError("'size' must be a positive number different from zero");
  }
  if (!name && !create) throw ValueError("'name' can only be None if create=True");
  const int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0);
  if (name) {
    name_ = *name;
    fd_ = ::shm_open(path_of(name_).c_str(), flags, kMode);
    if (fd_ < 0) raise_for(errno, name_);
  } else {
    for (;;) {
      name_ = random_name();
      fd_ = ::shm_open(path_of(name_).c_str(), flags, kMode);
      if (fd_ >= 0) break;
      if (errno != EEXIST) raise_for(errno, name_);
    }
  }
  if (create && track) unlink_pid_ = ::getpid();
  try {
    map(create, size);
  } catch (...) {
    if (create) ::shm_unlink(path_of(name_).c_str());
    unlink_pid_ = 0;
    close();
    throw;
  }
  if (unlink_pid_ != 0) detail::track_segment(name_, device_, inode_);
}

void SharedMemory::map(bool create, std::size_t size) {
  if (create && ::ftruncate(fd_, static_cast<off_t>(size)) != 0) raise_for(errno, name_);
  struct stat info {};
  if (::fstat(fd_, &info) != 0) raise_for(errno, name_);
  device_ = info.st_dev;
  inode_ = info.st_ino;
  size_ = static_cast<std::size_t>(info.st_size);
  if (size_ == 0) throw ValueError("cannot mmap an empty file: '" + path_of(name_) + "'");
  void* data = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (data == MAP_FAILED) raise_for(errno, name_);
  data_ = static_cast<std::byte*>(data);
}

SharedMemory::~SharedMemory() {
  close();
  if (unlink_pid_ == 0 || unlink_pid_ != ::getpid()) return;
  // Unlink only the segment this object created, not one that replaced it.
  const std::string path = "/dev/shm" + path_of(name_);
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && info.st_dev == device_ && info.st_ino == inode_) {
    ::shm_unlink(path_of(name_).c_str());
  }
  detail::untrack_segment(name_, device_, inode_);
}

SharedMemory::SharedMemory(SharedMemory&& other) noexcept
    : name_(std::move(other.name_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(other.size_),
      fd_(std::exchange(other.fd_, -1)),
      unlink_pid_(std::exchange(other.unlink_pid_, 0)),
      device_(other.device_),
      inode_(other.inode_) {}

SharedMemory& SharedMemory::operator=(SharedMemory&& other) noexcept {
  if (this != &other) {
    SharedMemory doomed(std::move(*this));
    name_ = std::move(other.name_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = other.size_;
    fd_ = std::exchange(other.fd_, -1);
    unlink_pid_ = std::exchange(other.unlink_pid_, 0);
    device_ = other.device_;
    inode_ = other.inode_;
  }
  return *this;
}

void SharedMemory::close() noexcept {
  if (data_ != nullptr) {
    ::munmap(data_, size_);
    data_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void SharedMemory::unlink() {
  const bool tracked = std::exchange(unlink_pid_, 0) == ::getpid();
  const int unlinked = ::shm_unlink(path_of(name_).c_str());
  const int error = errno;
  if (tracked) detail::untrack_segment(name_, device_, inode_);
  if (unlinked != 0) raise_for(error, name_);
}

}  // namespace weft::mp
