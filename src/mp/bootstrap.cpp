// The child side of a start: what every child runs around its target, and
// the static constructor through which a spawned run of the executable
// becomes a child (or the forkserver) before main() is ever reached.
//
// This object file is always linked with Process (process.cpp calls into
// it), and its constructor has the default priority: it runs after the
// static initialisers of the program's own objects, which are linked
// before libweft.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <tuple>

#include "process_state.hpp"
#include "weft/codec.hpp"
#include "weft/codec/function.hpp"
#include "weft/detail/exception_text.hpp"
#include "weft/mp/detail/fd_sharing.hpp"

namespace weft::mp::detail {
namespace {

// Python's report of an exception that escaped run(), less the frames C++
// does not record. Call inside a catch block.
void report_exception(const std::string& name) {
  const std::string text = "Process " + name +
                           ":\nTraceback (most recent call last):\n"
                           "  (C++ exceptions carry no traceback)\n" +
                           weft::detail::current_exception_type() + ": " +
                           weft::detail::exception_text(std::current_exception()) + "\n";
  flush_std_streams();
  std::fputs(text.c_str(), stderr);
  std::fflush(stderr);
}

// Python's util._close_stdin(): the child reads nothing of the parent's.
void close_stdin() noexcept {
  const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null < 0) return;
  ::dup2(null, STDIN_FILENO);
  ::close(null);
  std::clearerr(stdin);
}

using Payload = std::tuple<std::string, std::vector<std::uint32_t>, bool, std::int64_t,
                           std::string, int, Rebuild, std::string>;

[[noreturn]] void refuse_payload(const char* why) {
  std::fprintf(stderr, "weft: this run of the program was started as a child process, but %s\n",
               why);
  ::_exit(1);
}

// False if the stream ends first.
bool read_exact(int fd, char* out, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::read(fd, out, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// The bytes send_payload() wrote.
std::string read_payload(int fd) {
  std::uint64_t length = 0;
  if (!read_exact(fd, reinterpret_cast<char*>(&length), sizeof length))
    refuse_payload("its start payload is missing");
  std::string bytes(length, '\0');
  if (!read_exact(fd, bytes.data(), bytes.size())) refuse_payload("its start payload is cut short");
  return bytes;
}

// "FD:A,B,C" -> FD and {A, B, C}.
std::pair<int, std::vector<int>> parse_spawn_variable(const char* value) {
  char* end = nullptr;
  const long payload = std::strtol(value, &end, 10);
  if (end == value || *end != ':') refuse_payload("its start variable is malformed");
  std::vector<int> fds;
  for (const char* at = end + 1; *at != '\0';) {
    const long fd = std::strtol(at, &end, 10);
    if (end == at) refuse_payload("its start variable is malformed");
    fds.push_back(static_cast<int>(fd));
    at = *end == ',' ? end + 1 : end;
  }
  return {static_cast<int>(payload), std::move(fds)};
}

// Runs before main() in every run of a program linked with Process.
struct Bootstrap {
  Bootstrap() {
    if (const char* value = std::getenv(forkserver_variable)) {
      const int sock = std::atoi(value);
      ::unsetenv(forkserver_variable);
      serve_forkserver(sock);
    }
    if (const char* value = std::getenv(spawn_variable)) {
      auto [payload, fds] = parse_spawn_variable(value);
      ::unsetenv(spawn_variable);
      run_encoded_child(payload, std::move(fds), 0);
    }
  }
};

const Bootstrap bootstrap;

}  // namespace

void run_child(const ChildSpec& spec, pid_t expected_parent,
               weft::detail::UniqueFunction<void()> body) {
  become_child(spec);
  if (spec.daemon) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != expected_parent) ::raise(SIGKILL);  // the parent died before we asked
  }
  close_stdin();
  int code = 0;
  try {
    body();
  } catch (const SystemExit& exit) {
    code = exit.code;
  } catch (...) {
    report_exception(spec.name);
    code = 1;
  }
  exit_function();
  flush_std_streams();
  ::_exit(code);
}

void run_encoded_child(int payload_fd, std::vector<int> fds, pid_t expected_parent) {
  const std::string bytes = read_payload(payload_fd);
  ::close(payload_fd);
  Payload payload;
  try {
    payload = codec::decode<Payload>(bytes);
  } catch (const std::exception& error) {
    refuse_payload(error.what());
  }
  auto& [name, identity, daemon, parent_pid, parent_name, method, rebuild, args] = payload;
  if (method < 0 || method > static_cast<int>(StartMethod::forkserver))
    refuse_payload("its payload names no start method");
  const ChildSpec spec{name,        identity, daemon, static_cast<pid_t>(parent_pid),
                       parent_name, static_cast<StartMethod>(method)};

  set_inherited_fds(fds);
  weft::detail::UniqueFunction<void()> body;
  try {
    body = rebuild(args);
  } catch (...) {
    body = [error = std::current_exception()] { std::rethrow_exception(error); };
  }
  set_inherited_fds({});
  for (const int fd : fds) ::close(fd);
  run_child(spec, expected_parent != 0 ? expected_parent : spec.parent_pid, std::move(body));
}

}  // namespace weft::mp::detail
