// tools/weft/wait_status.hpp — how a child process ended, in words, from
// the status waitpid() gave: "exited with status 1", "killed by SIGKILL".
#pragma once

#include <sys/wait.h>

#include <cstring>
#include <string>

#include <fmt/core.h>

namespace weft::tool {

// Never throws anything but std::bad_alloc.
inline std::string describe_wait_status(int status) {
  if (WIFSIGNALED(status)) {
    const char* name = ::sigabbrev_np(WTERMSIG(status));
    return name != nullptr ? fmt::format("killed by SIG{}", name) : fmt::format("killed by signal {}", WTERMSIG(status));
  }
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  return "ended";
}

}  // namespace weft::tool
