// tools/weft/shootout/server_process.hpp — a server under test, run as a
// child process: started pinned to a core, ready once it prints its
// "listening on HOST:PORT" line, stopped with SIGTERM (SIGKILL if it
// lingers).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace weft::tool {

class ServerProcess {
 public:
  // Starts `argv` (argv[0] is looked up on PATH if it has no '/'), pinned
  // to `cpu` if given, with stdout read by this object and stderr passed
  // through, and waits up to `ready_within` for its listening line. Throws
  // std::runtime_error if it cannot be pinned to `cpu` or run (saying
  // which), or if it exits or stays silent (with the last lines of its
  // output); the child is killed then. Blocks up to `ready_within`.
  ServerProcess(const std::vector<std::string>& argv, std::optional<int> cpu,
                std::chrono::milliseconds ready_within);
  // Stops the server if it still runs.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const noexcept { return pid_; }
  std::uint16_t port() const noexcept { return port_; }
  // The rest of the listening line, e.g. " (model epoll, backend epoll, 1 loop)".
  const std::string& details() const noexcept { return details_; }

  // Whether it still runs (if not, reaps it and keeps its wait status for
  // stop()). Never blocks; never throws.
  bool running() noexcept;

  // SIGTERM, then SIGKILL after `grace`; reaps the process. Returns its
  // wait status (as waitpid gives it), or -1 if it was stopped already.
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000)) noexcept;

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int exit_status_ = -1;  // once running() has seen it exit
  std::uint16_t port_ = 0;
  std::string details_;
};

}  // namespace weft::tool
