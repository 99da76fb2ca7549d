// tools/weft/shootout/measure.hpp — one run of one server of the shootout:
// the server started as a child process, driven by the load generator in
// this process, its CPU (and, where perf can, its system calls) counted
// over the measured window; and the median row of several runs.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "weft/protocol.hpp"
#include "weft/shootout/contenders.hpp"
#include "weft/shootout/shootout_result.hpp"

namespace weft::tool {

struct MeasureSettings {
  int connections = 100;
  double duration = 2.0;  // seconds measured
  double warmup = 0.5;    // seconds of traffic before
  std::size_t size = 64;  // echo message size
  Protocol protocol = Protocol::echo;
  std::optional<int> server_core;  // a pinned contender runs here; none: not pinned
  std::optional<int> client_core;  // the load generator's thread runs here
};

// Throws std::invalid_argument (saying what is out of range) if the load
// generator would refuse these settings, so that they can be refused before
// any server starts. Never blocks.
void check_settings(const MeasureSettings& settings);

// Starts the contender's server, loads it, stops it, and returns the row.
// Blocks for the run (about warmup + duration, plus start and stop).
// Never throws: a server that cannot start or be measured gives a row with
// ok false and the reason in its notes; what makes the numbers doubtful
// (errors, the load generator's warnings, a server that fell back from
// io_uring to epoll) is in the notes, and a row where connections
// completed nothing, requests went unanswered or the server exited is
// flagged.
ShootoutRow measure(const Contender& contender, const MeasureSettings& settings);

// One row from several runs of the same server: each number is the median
// over the runs that measured it; the notes of every run are kept (once
// each), and a row is flagged or marked as fallen back if any run was.
// `samples` must not be empty.
ShootoutRow median_row(const std::vector<ShootoutRow>& samples);

}  // namespace weft::tool
