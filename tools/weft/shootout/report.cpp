// tools/weft/shootout/report.cpp — the shootout table in Markdown and for a
// terminal, and the targets checked against the rows.
#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <set>

#include "weft/shootout/shootout_result.hpp"

namespace weft::tool {
namespace {

std::string number(std::optional<double> value, const char* format) {
  return value ? fmt::format(fmt::runtime(format), *value) : std::string("—");
}

// A cell's text with the characters that would end the cell or the row escaped.
std::string markdown_cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

const ShootoutRow* find_row(const ShootoutReport& report, std::string_view server, int connections) {
  for (const ShootoutRow& row : report.rows)
    if (row.ok && row.server == server && row.connections == connections) return &row;
  return nullptr;
}

std::vector<std::vector<std::string>> table_cells(const ShootoutReport& report) {
  std::vector<std::vector<std::string>> cells;
  cells.push_back({"server", "conns", "req/s", "p50 µs", "p99 µs", "server CPU µs/req", "CPU %", "syscalls/req",
                   "CPU vs raw epoll", "notes"});
  for (const ShootoutRow& row : report.rows) {
    std::string versus = "—";
    if (const ShootoutRow* raw = find_row(report, "raw epoll (C style)", row.connections);
        raw != nullptr && row.ok && row.server_cpu_us_per_request && raw->server_cpu_us_per_request)
      versus = fmt::format("{:.2f}x{}", *row.server_cpu_us_per_request / *raw->server_cpu_us_per_request,
                           row.fell_back_to_epoll ? " (ran epoll)" : "");
    const std::string notes = row.flagged ? "FLAGGED: " + row.notes : row.notes;
    if (!row.ok) {
      cells.push_back({row.server, std::to_string(row.connections), "—", "—", "—", "—", "—", "—", "—", notes});
      continue;
    }
    cells.push_back({row.server, std::to_string(row.connections), fmt::format("{:.0f}", row.requests_per_second),
                     fmt::format("{:.0f}", row.p50_us), fmt::format("{:.0f}", row.p99_us),
                     number(row.server_cpu_us_per_request, "{:.2f}"), number(row.server_cpu_percent, "{:.0f}"),
                     number(row.syscalls_per_request, "{:.2f}"), versus, notes});
  }
  return cells;
}

struct Target {
  std::string weft;
  std::string peer;
  double limit;
};

}  // namespace

std::vector<std::string> target_lines(const ShootoutReport& report) {
  const std::vector<Target> targets{
      {"weft epoll", "raw epoll (C style)", 1.05},
      {"weft epoll", "Boost.Asio", 1.0},
      {"weft io_uring", "raw epoll (C style)", 0.8},
      {"weft asyncio", "weft epoll", 1.15},
      {"weft asyncio", "Python asyncio streams", 1.0},
  };
  std::set<int> connection_counts;
  for (const ShootoutRow& row : report.rows) connection_counts.insert(row.connections);
  std::vector<std::string> lines;
  for (int connections : connection_counts) {
    for (const Target& target : targets) {
      const ShootoutRow* ours = find_row(report, target.weft, connections);
      const ShootoutRow* theirs = find_row(report, target.peer, connections);
      if (ours == nullptr || theirs == nullptr || !ours->server_cpu_us_per_request || !theirs->server_cpu_us_per_request)
        continue;
      const double ratio = *ours->server_cpu_us_per_request / *theirs->server_cpu_us_per_request;
      // A row that fell back to epoll measured epoll: the ratio says nothing about io_uring.
      std::string verdict = ratio <= target.limit ? "met" : "NOT met";
      for (const ShootoutRow* row : {ours, theirs})
        if (row->fell_back_to_epoll)
          verdict = fmt::format("not measured: {} fell back to epoll (io_uring unavailable)", row->server);
      lines.push_back(fmt::format("{} conns: {} / {} server CPU per request = {:.2f} (target <= {:.2f}): {}",
                                  connections, target.weft, target.peer, ratio, target.limit, verdict));
    }
    // Every weft model below every Python model: the busy-polling model
    // (which burns its core by design) and the rows whose server shares the
    // client's core (the multi-loop ones) aside.
    std::optional<double> worst_weft, best_python;
    std::string worst_weft_name, best_python_name;
    bool worst_fell_back = false;
    for (const ShootoutRow& row : report.rows) {
      if (!row.ok || row.connections != connections || !row.server_cpu_us_per_request) continue;
      const double cpu = *row.server_cpu_us_per_request;
      if (row.kind == ContenderKind::weft && row.pinned && row.server != "weft nonblocking" &&
          (!worst_weft || cpu > *worst_weft)) {
        worst_weft = cpu;
        worst_weft_name = row.server;
        worst_fell_back = row.fell_back_to_epoll;
      }
      if (row.kind == ContenderKind::python_peer && (!best_python || cpu < *best_python)) {
        best_python = cpu;
        best_python_name = row.server;
      }
    }
    if (worst_weft && best_python)
      lines.push_back(fmt::format("{} conns: costliest weft model ({}{}, {:.2f} µs) vs cheapest Python ({}, {:.2f} µs) "
                                  "= {:.2f} (target < 1): {}",
                                  connections, worst_weft_name, worst_fell_back ? ", which ran epoll" : "", *worst_weft,
                                  best_python_name, *best_python, *worst_weft / *best_python,
                                  *worst_weft < *best_python ? "met" : "NOT met"));
  }
  return lines;
}

std::string render_markdown(const ShootoutReport& report) {
  const auto cells = table_cells(report);
  std::string out = "# weft shootout\n\n";
  out += fmt::format("{}  \n{}\n\n", report.machine, report.settings);
  out += "Server CPU per request is the CPU time of the server's whole process tree (to the nanosecond from each "
         "process's CPU clock, plus the children it reaped) over the measured window, "
         "divided by the requests completed; " + (report.pinning.empty() ? std::string("the server and the load generator are not pinned") : report.pinning) +
         " (the ×2 loops rows are never pinned). Syscalls per request come from perf's raw_syscalls:sys_enter "
         "count on the server process, where it is a single process.\n\n";
  for (std::size_t r = 0; r < cells.size(); ++r) {
    out += "|";
    for (const std::string& cell : cells[r]) out += " " + markdown_cell(cell) + " |";
    out += "\n";
    if (r == 0) {
      out += "|";
      for (std::size_t c = 0; c < cells[r].size(); ++c) out += c == 0 || c == cells[r].size() - 1 ? " --- |" : " ---: |";
      out += "\n";
    }
  }
  const auto targets = target_lines(report);
  if (!targets.empty()) {
    out += "\n## Targets\n\n";
    for (const std::string& line : targets) out += "- " + line + "\n";
  }
  if (!report.skipped.empty()) {
    out += "\n## Not run\n\n";
    for (const std::string& line : report.skipped) out += "- " + line + "\n";
  }
  return out;
}

std::string render_text_table(const ShootoutReport& report) {
  const auto cells = table_cells(report);
  std::vector<std::size_t> widths(cells.front().size(), 0);
  auto width = [](const std::string& text) {
    std::size_t n = 0;
    for (unsigned char c : text) n += (c & 0xC0) != 0x80;  // count UTF-8 code points
    return n;
  };
  for (const auto& row : cells)
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], width(row[c]));
  std::string out;
  for (const auto& row : cells) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      const std::string pad(widths[c] - width(row[c]), ' ');
      out += c == 0 || c == row.size() - 1 ? row[c] + pad : pad + row[c];
      out += c + 1 < row.size() ? "  " : "";
    }
    out += "\n";
  }
  return out;
}

}  // namespace weft::tool
