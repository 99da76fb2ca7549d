// tools/weft/shootout/measure.cpp — one server, one load run, one row.
#include "weft/shootout/measure.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>

#include "weft/load/load_generator.hpp"
#include "weft/serve/listening_line.hpp"
#include "weft/shootout/server_process.hpp"
#include "weft/shootout/syscall_counter.hpp"
#include "weft/wait_status.hpp"

namespace weft::tool {
namespace {

void add_note(ShootoutRow& row, const std::string& note) {
  if (note.empty()) return;
  row.notes += (row.notes.empty() ? "" : "; ") + note;
}

std::optional<double> median(std::vector<double> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

// The load run the settings ask for, but for the server's port and pid.
LoadOptions load_options(const MeasureSettings& settings) {
  LoadOptions load;
  load.protocol = settings.protocol;
  load.connections = settings.connections;
  load.message_size = settings.size;
  load.duration = std::chrono::duration<double>(settings.duration);
  load.warmup = std::chrono::duration<double>(settings.warmup);
  load.cpu = settings.client_core;
  return load;
}

}  // namespace

void check_settings(const MeasureSettings& settings) {
  LoadOptions load = load_options(settings);
  load.port = 1;  // any: the server's own is known once it runs
  check_options(load);
}

ShootoutRow measure(const Contender& contender, const MeasureSettings& settings) {
  ShootoutRow row;
  row.server = contender.name;
  row.kind = contender.kind;
  row.pinned = contender.pinned;
  row.connections = settings.connections;
  try {
    ServerProcess server(contender.argv, contender.pinned ? settings.server_core : std::nullopt,
                         std::chrono::seconds(15));
    // A server asked for io_uring that runs epoll says so: its numbers are epoll's.
    if (server.details().find(kFellBackToEpoll) != std::string::npos) {
      row.fell_back_to_epoll = true;
      add_note(row, "io_uring unavailable: this row measured epoll");
    }
    LoadOptions load = load_options(settings);
    load.port = server.port();
    load.server_pid = server.pid();
    // perf attaches now, counting off, and counts exactly the measured window.
    std::unique_ptr<SyscallCounter> syscalls;
    if (contender.single_process && SyscallCounter::available())
      syscalls = std::make_unique<SyscallCounter>(server.pid());
    load.on_measure_begin = [&] {
      if (syscalls) syscalls->enable();
    };
    load.on_measure_end = [&] {
      if (syscalls) syscalls->disable();
    };
    const LoadResult result = run_load(load);
    const auto calls = syscalls ? syscalls->stop() : std::nullopt;
    if (!server.running()) {
      row.flagged = true;
      add_note(row, "the server exited during the run (" + describe_wait_status(server.stop()) + ")");
    }
    server.stop();

    row.ok = result.requests > 0;
    row.requests_per_second = result.requests_per_second;
    row.p50_us = result.p50_us;
    row.p99_us = result.p99_us;
    row.server_cpu_us_per_request = result.server_cpu_us_per_request;
    if (result.server_cpu_seconds && result.seconds > 0)
      row.server_cpu_percent = *result.server_cpu_seconds / result.seconds * 100.0;
    if (calls && result.requests > 0)
      row.syscalls_per_request = static_cast<double>(*calls) / static_cast<double>(result.requests);
    if (result.errors > 0) add_note(row, fmt::format("{} errors", result.errors));
    if (result.connections < settings.connections)
      add_note(row, fmt::format("{} of {} connected", result.connections, settings.connections));
    if (result.client_saturated) add_note(row, "client saturated");
    if (!contender.pinned) add_note(row, "server on all cores");
    if (result.connections_idle > 0 || result.requests_stalled > 0) row.flagged = true;
    for (const std::string& warning : result.warnings) add_note(row, warning);
    constexpr std::size_t kMessagesShown = 3;
    for (std::size_t i = 0; i < result.error_messages.size() && i < kMessagesShown; ++i)
      add_note(row, result.error_messages[i]);
    if (result.error_messages.size() > kMessagesShown)
      add_note(row, fmt::format("{} other error messages", result.error_messages.size() - kMessagesShown));
    if (!row.ok && row.notes.empty()) row.notes = "no request completed";
  } catch (const std::exception& error) {
    row.ok = false;
    add_note(row, error.what());
  }
  return row;
}

ShootoutRow median_row(const std::vector<ShootoutRow>& samples) {
  ShootoutRow row = samples.front();
  std::vector<double> rps, p50, p99, cpu, percent, syscalls;
  std::vector<std::string> notes;
  for (const ShootoutRow& sample : samples) {
    for (std::size_t at = 0; at < sample.notes.size();) {
      const std::size_t end = std::min(sample.notes.find("; ", at), sample.notes.size());
      const std::string note = sample.notes.substr(at, end - at);
      if (std::find(notes.begin(), notes.end(), note) == notes.end()) notes.push_back(note);
      at = end + 2;
    }
    row.fell_back_to_epoll = row.fell_back_to_epoll || sample.fell_back_to_epoll;
    row.flagged = row.flagged || sample.flagged;
    if (!sample.ok) continue;
    rps.push_back(sample.requests_per_second);
    p50.push_back(sample.p50_us);
    p99.push_back(sample.p99_us);
    if (sample.server_cpu_us_per_request) cpu.push_back(*sample.server_cpu_us_per_request);
    if (sample.server_cpu_percent) percent.push_back(*sample.server_cpu_percent);
    if (sample.syscalls_per_request) syscalls.push_back(*sample.syscalls_per_request);
  }
  row.ok = !rps.empty();
  row.requests_per_second = median(rps).value_or(0.0);
  row.p50_us = median(p50).value_or(0.0);
  row.p99_us = median(p99).value_or(0.0);
  row.server_cpu_us_per_request = median(cpu);
  row.server_cpu_percent = median(percent);
  row.syscalls_per_request = median(syscalls);
  row.notes.clear();
  for (const std::string& note : notes) add_note(row, note);
  return row;
}

}  // namespace weft::tool
