// Starting a child process for create_subprocess_exec: posix_spawn (a
// vfork-style clone in glibc: nothing of the parent is copied) with the
// child's standard streams redirected, and a pidfd to watch it by.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "weft/aio/subprocess.hpp"

namespace weft::aio::detail {

// The parent's side of a started child. The fds are close-on-exec and
// non-blocking; -1 where the stream is not a pipe.
struct Spawned {
  pid_t pid = -1;
  int pidfd = -1;
  int stdin_fd = -1;   // the writing end of the child's stdin
  int stdout_fd = -1;  // the reading end of the child's stdout
  int stderr_fd = -1;  // the reading end of the child's stderr
};

// Starts `program` (when it has no '/', searched in the PATH of
// options.env if given — /bin:/usr/bin if that has none — else in this
// process's PATH, from the child's working directory) with argv
// {program, args...}. Throws what net::raise_os_error throws for the OS's
// errno: FileNotFoundError (ENOENT) for a missing program, PermissionError
// for one that may not be executed, OSError otherwise, each naming the
// program — or naming options.cwd when the child cannot enter it, as
// Python does; ValueError for STDOUT given as stdin or stdout. Leaves no fd
// open and no child behind when it throws.
Spawned spawn(const std::string& program, const std::vector<std::string>& args, const SubprocessOptions& options);

}  // namespace weft::aio::detail
