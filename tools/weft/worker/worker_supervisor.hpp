// tools/weft/worker/worker_supervisor.hpp — keeps N worker processes of a
// program running (weft::dist::detail::spawn_worker_process) until told to
// stop.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "weft/dist/worker.hpp"

namespace weft::tool {

struct SupervisorOptions {
  std::string executable;
  std::vector<std::string> arguments;
  dist::WorkerOptions worker;
  std::size_t concurrency = 1;
};

// Starts options.concurrency workers and keeps that many running: a worker
// that dies is replaced at once, or after a growing delay (0.1 s doubling
// to 10 s) while workers keep dying within a second of their start, so a
// program that cannot serve is not restarted in a tight loop. Every start
// and death is a line on stdout. Waits for child exits and signals on a
// signalfd (SIGCHLD, SIGTERM and SIGINT are blocked in the calling thread
// meanwhile, and unblocked in the workers). SIGTERM or SIGINT: each worker
// gets SIGTERM and finishes its task; a second one: SIGKILL. Returns 0
// once every worker has exited. Throws std::system_error if one of the
// first N workers cannot be started (those already started are stopped). One call per process at a time.
int supervise(const SupervisorOptions& options);

}  // namespace weft::tool
