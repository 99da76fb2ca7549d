// tools/weft/shootout/shootout_result.hpp — one row of the shootout table,
// and the report built from all of them: the Markdown table with the
// target ratios, and the SVG chart.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "weft/shootout/contenders.hpp"

namespace weft::tool {

struct ShootoutRow {
  std::string server;
  ContenderKind kind;
  bool pinned = true;
  int connections = 0;
  double requests_per_second = 0.0;
  double p50_us = 0.0;
  double p99_us = 0.0;
  std::optional<double> server_cpu_us_per_request;
  std::optional<double> server_cpu_percent;  // of one core
  std::optional<double> syscalls_per_request;
  std::string notes;  // errors, saturation, failure to start
  // Asked for io_uring, the server ran epoll (io_uring could not start
  // here): the numbers are epoll's, and no io_uring ratio may use them.
  bool fell_back_to_epoll = false;
  // Numbers that cannot be trusted as they stand: some connections
  // completed nothing, requests went unanswered, or the server exited during
  // the run. The notes say which.
  bool flagged = false;
  bool ok = false;
};

struct ShootoutReport {
  std::string machine;   // cores, kernel
  std::string settings;  // message size, duration, pipeline
  std::string pinning;   // which cores the server and the client run on
  std::vector<ShootoutRow> rows;
  std::vector<std::string> skipped;
};

// The table and the target checks as Markdown.
std::string render_markdown(const ShootoutReport& report);
// The same table for a terminal (aligned columns, no Markdown syntax).
std::string render_text_table(const ShootoutReport& report);
// The target ratios (weft/peer) with met / not met, one line each.
std::vector<std::string> target_lines(const ShootoutReport& report);
// Bars of server CPU per request for every row, grouped by connections.
std::string render_svg(const ShootoutReport& report);

}  // namespace weft::tool
