// bench/bench_fork.hpp — forked child processes for the multiprocessing
// benchmarks (bench_mp_connection, bench_mp_queue): fork_child() runs a
// function in a child, child_succeeded() reaps it.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

namespace weft_bench {

// Forks a child that runs body() and exits: status 0 when body() returns,
// 1 when it throws. Returns the child's pid; throws if fork() fails.
template <class Body>
pid_t fork_child(Body body) {
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int status = 0;
    try {
      body();
    } catch (...) {
      status = 1;
    }
    ::_exit(status);
  }
  return pid;
}

// Waits for the child `pid` and reaps it; true if it exited with status 0.
inline bool child_succeeded(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace weft_bench
