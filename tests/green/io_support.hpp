// Helpers of the cooperative-IO and hub tests: open descriptor counts,
// running a scenario on a fresh thread whose hub uses a given loop backend,
// a bounded wait for a child process, elapsed time.
#pragma once

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <exception>
#include <random>
#include <span>
#include <ostream>
#include <string>
#include <thread>
#include <utility>

#include "weft/green/hub.hpp"
#include "weft/io/loop.hpp"

namespace weft::green::test {

// How many descriptors the process has open.
inline int open_fds() {
  int count = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (const dirent* entry = ::readdir(dir))
      if (entry->d_name[0] != '.') ++count;
    ::closedir(dir);
  }
  return count - 1;  // the directory stream's own
}

// Runs `scenario` on a new thread, whose hub runs the `backend` loop;
// rethrows what it throws.
template <class F>
void on_backend(io::Backend backend, F scenario) {
  Hub::set_default_loop_options(io::LoopOptions{.backend = backend});
  std::exception_ptr failure;
  std::thread thread([&] {
    try {
      scenario();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  thread.join();
  Hub::set_default_loop_options(io::LoopOptions{});
  if (failure) std::rethrow_exception(failure);
}

// Reads until the peer's end of stream, asking for a random number of bytes
// (1 to Size) each time; returns what came.
template <std::size_t Size, class Socket>
std::string receive_in_random_pieces(Socket& socket, std::mt19937& random) {
  std::string received;
  std::array<char, Size> buffer;
  std::uniform_int_distribution<std::size_t> sizes(1, buffer.size());
  for (;;) {
    const std::size_t n = socket.recv_into(std::span(buffer.data(), sizes(random)));
    if (n == 0) return received;
    received.append(buffer.data(), n);
  }
}

// Waits at most `limit` for child process `pid` to end: its wait status, or
// -1 if it had to be killed.
inline int wait_child(pid_t pid, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return status;
}

inline std::string backend_name(io::Backend backend) { return std::string(io::to_string(backend)); }

class Stopwatch {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace weft::green::test

namespace weft::io {
// Names a backend in GoogleTest's messages.
inline void PrintTo(Backend backend, std::ostream* out) { *out << to_string(backend); }
}  // namespace weft::io
