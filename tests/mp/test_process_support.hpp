// Helpers of the Process tests: a pipe children report through (it crosses
// spawn and forkserver starts through descriptor sharing), a shared-memory
// mailbox, and a capture of standard output or error.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "weft/codec.hpp"
#include "weft/mp/context.hpp"
#include "weft/mp/detail/fd_sharing.hpp"
#include "weft/mp/detail/shared_block.hpp"
#include "weft/mp/process.hpp"

namespace process_test {

using namespace std::chrono_literals;
using weft::mp::StartMethod;

inline constexpr auto generous = 20s;

// The write end of a pipe, as a child sees it: send() writes one line.
struct Report {
  int fd = -1;
  void send(std::string_view text) const {
    std::string line(text);
    line += '\n';
    const char* at = line.data();
    std::size_t left = line.size();
    while (left > 0) {
      const ssize_t n = ::write(fd, at, left);
      if (n <= 0) return;
      at += n;
      left -= static_cast<std::size_t>(n);
    }
  }
};

// A pipe the test reads the children's lines from.
class ReportPipe {
 public:
  ReportPipe() {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category());
    read_ = ends[0];
    write_ = ends[1];
  }
  ~ReportPipe() {
    ::close(read_);
    ::close(write_);
  }
  ReportPipe(const ReportPipe&) = delete;
  ReportPipe& operator=(const ReportPipe&) = delete;

  Report report() const { return {write_}; }

  // The next line, or empty after `timeout` without one.
  std::optional<std::string> line(std::chrono::milliseconds timeout = generous) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const std::size_t end = buffer_.find('\n');
      if (end != std::string::npos) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd ready{read_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&ready, 1, static_cast<int>(left.count())) <= 0)
        return std::nullopt;
      char chunk[256];
      const ssize_t n = ::read(read_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

 private:
  int read_;
  int write_;
  std::string buffer_;
};

// A page of shared memory: a child writes a string, the parent reads it.
struct Mailbox {
  std::shared_ptr<weft::mp::detail::SharedBlock> block;

  static Mailbox create() { return {weft::mp::detail::SharedBlock::create(4096, "mailbox")}; }
  void write(std::string_view text) const {
    const std::size_t n = std::min(text.size(), block->size() - 1);
    std::memcpy(block->as<char>(), text.data(), n);
    block->as<char>()[n] = '\0';
  }
  std::string read() const { return block->as<char>(); }
};

// Redirects a descriptor (1 or 2) into a memfd while alive.
class Capture {
 public:
  explicit Capture(int target) : target_(target) {
    std::fflush(nullptr);
    saved_ = ::dup(target_);
    file_ = ::memfd_create("capture", MFD_CLOEXEC);
    ::dup2(file_, target_);
  }
  ~Capture() { restore(); }
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  // Restores the descriptor and returns what was written to it.
  std::string text() {
    restore();
    std::string out;
    char chunk[4096];
    ssize_t n;
    std::size_t at = 0;
    while ((n = ::pread(file_, chunk, sizeof chunk, static_cast<off_t>(at))) > 0) {
      out.append(chunk, static_cast<std::size_t>(n));
      at += static_cast<std::size_t>(n);
    }
    return out;
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(nullptr);
    ::dup2(saved_, target_);
    ::close(saved_);
    saved_ = -1;
  }
  int target_;
  int saved_ = -1;
  int file_ = -1;
};

// pidfd_open / pidfd_send_signal (glibc 2.36's header lacks C linkage).
inline int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
inline void pidfd_kill(int pidfd) { ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0); }

// True once the process behind `pidfd` has ended, within `timeout`.
inline bool ends_within(int pidfd, std::chrono::milliseconds timeout) {
  pollfd ready{pidfd, POLLIN, 0};
  return ::poll(&ready, 1, static_cast<int>(timeout.count())) == 1;
}

// Blocks until killed.
inline void block_forever() {
  while (true) ::pause();
}

inline std::string method_name(const testing::TestParamInfo<StartMethod>& info) {
  return std::string(weft::mp::start_method_name(info.param));
}

inline const auto all_methods =
    testing::Values(StartMethod::fork, StartMethod::spawn, StartMethod::forkserver);

}  // namespace process_test

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
namespace adaptor {

template <>
struct pack<process_test::Report> {
  template <class Stream>
  packer<Stream>& operator()(packer<Stream>& o, const process_test::Report& r) const {
    return o.pack(weft::mp::detail::share_fd_with_child(r.fd, "Report"));
  }
};

template <>
struct convert<process_test::Report> {
  const msgpack::object& operator()(const msgpack::object& o, process_test::Report& r) const {
    r.fd = ::fcntl(weft::mp::detail::inherited_fd(o.as<std::uint32_t>()), F_DUPFD_CLOEXEC, 3);
    return o;
  }
};

template <>
struct pack<process_test::Mailbox> {
  template <class Stream>
  packer<Stream>& operator()(packer<Stream>& o, const process_test::Mailbox& m) const {
    return o.pack(m.block->share_with_child("Mailbox"));
  }
};

template <>
struct convert<process_test::Mailbox> {
  const msgpack::object& operator()(const msgpack::object& o, process_test::Mailbox& m) const {
    m.block = weft::mp::detail::SharedBlock::from_parent(o.as<std::uint32_t>());
    return o;
  }
};

}  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack
