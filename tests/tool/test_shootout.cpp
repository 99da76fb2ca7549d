// Tests of `weft shootout`'s measurement of one server and of its report:
// real `weft serve` processes measured the way the shootout measures them
// (briefly, with a few connections), and reports built from rows.
#include <gtest/gtest.h>

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "weft/pin_to_core.hpp"
#include "weft/shootout/measure.hpp"
#include "weft/shootout/server_process.hpp"
#include "weft/shootout/syscall_counter.hpp"
#include "weft/shootout/shootout_result.hpp"

namespace weft::tool {
namespace {

Contender weft_server(std::string name, std::vector<std::string> extra, std::vector<std::string> before = {}) {
  std::vector<std::string> argv = std::move(before);
  for (std::string arg : {std::string(WEFT_TOOL_PATH), std::string("serve"), std::string("--port"), std::string("0")})
    argv.push_back(arg);
  argv.insert(argv.end(), extra.begin(), extra.end());
  return {std::move(name), ContenderKind::weft, std::move(argv)};
}

MeasureSettings brief(int connections = 4) {
  return {.connections = connections, .duration = 0.3, .warmup = 0.05, .size = 64, .protocol = Protocol::echo,
          .server_core = std::nullopt, .client_core = std::nullopt};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

ShootoutRow row_of(std::string server, double cpu_us, bool fell_back = false) {
  ShootoutRow row;
  row.server = std::move(server);
  row.kind = ContenderKind::weft;
  row.connections = 100;
  row.requests_per_second = 1000;
  row.server_cpu_us_per_request = cpu_us;
  row.fell_back_to_epoll = fell_back;
  row.ok = true;
  return row;
}

// An io_uring server that could not start io_uring (WEFT_IO_URING=0 forbids it) runs epoll and
// says so; its row must say it measured epoll, not pass for io_uring.
TEST(ShootoutMeasure, AnIoUringServerThatFellBackToEpollIsMarked) {
  const ShootoutRow row =
      measure(weft_server("weft io_uring", {"--model", "io_uring"}, {"env", "WEFT_IO_URING=0"}), brief());
  ASSERT_TRUE(row.ok) << row.notes;
  EXPECT_TRUE(row.fell_back_to_epoll);
  EXPECT_TRUE(contains(row.notes, "measured epoll")) << row.notes;
  EXPECT_TRUE(median_row({row, row}).fell_back_to_epoll);
  if (SyscallCounter::available()) {  // counted over the measured window, per request counted in it
    ASSERT_TRUE(row.syscalls_per_request.has_value());
    EXPECT_GT(*row.syscalls_per_request, 0.5);
    EXPECT_LT(*row.syscalls_per_request, 20.0);
  }
}

TEST(ShootoutReport, RatiosOfARowThatFellBackSaySo) {
  ShootoutReport report;
  report.rows = {row_of("weft io_uring", 8.0, true), row_of("raw epoll (C style)", 10.0),
                 row_of("weft epoll", 10.0)};
  const auto lines = target_lines(report);
  const auto io_uring = std::find_if(lines.begin(), lines.end(), [](const std::string& line) {
    return contains(line, "weft io_uring / raw epoll");
  });
  ASSERT_NE(io_uring, lines.end());
  EXPECT_TRUE(contains(*io_uring, "fell back to epoll")) << *io_uring;
  EXPECT_FALSE(contains(*io_uring, ": met")) << *io_uring;
  EXPECT_TRUE(contains(render_text_table(report), "(ran epoll)"));
}

cpu_set_t cores_of(std::initializer_list<int> cores) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int core : cores) CPU_SET(core, &set);
  return set;
}

// The cores are the first two this process may use, which need not be 0 and 1 (taskset -c 1-3).
TEST(ShootoutCores, TheFirstTwoAllowedCores) {
  const auto pair = first_two_cores(cores_of({1, 3, 6}));
  ASSERT_TRUE(pair.has_value());
  EXPECT_EQ(pair->server, 1);
  EXPECT_EQ(pair->client, 3);
  EXPECT_FALSE(first_two_cores(cores_of({2})).has_value());
  EXPECT_FALSE(first_two_cores(cores_of({})).has_value());
  const cpu_set_t allowed = allowed_cores();
  EXPECT_EQ(first_two_cores(allowed).has_value(), CPU_COUNT(&allowed) >= 2);
}

// A core this process may not use: the first one past every allowed core.
int forbidden_core() {
  const cpu_set_t allowed = allowed_cores();
  int core = 0;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &allowed)) core = c + 1;
  return core;
}

// A server that cannot be pinned must not run unpinned, measured as if it were.
TEST(ShootoutServerProcess, APinThatFailsIsFatalAndSaysWhy) {
  const int core = forbidden_core();
  try {
    ServerProcess server({WEFT_TOOL_PATH, "serve", "--port", "0"}, core, std::chrono::seconds(20));
    ADD_FAILURE() << "the server started on core " << core << ", which this process may not use";
  } catch (const std::runtime_error& error) {
    EXPECT_TRUE(contains(error.what(), "cannot pin the server to core " + std::to_string(core))) << error.what();
  }
  MeasureSettings settings = brief();
  settings.server_core = core;
  const ShootoutRow row = measure(weft_server("weft epoll", {"--model", "epoll"}), settings);
  EXPECT_FALSE(row.ok);
  EXPECT_TRUE(contains(row.notes, "cannot pin")) << row.notes;
}

TEST(ShootoutServerProcess, AProgramThatCannotRunSaysWhy) {
  EXPECT_THROW(
      {
        try {
          ServerProcess server({"/nonexistent/weft-server"}, std::nullopt, std::chrono::seconds(20));
        } catch (const std::runtime_error& error) {
          EXPECT_TRUE(contains(error.what(), "cannot run /nonexistent/weft-server")) << error.what();
          throw;
        }
      },
      std::runtime_error);
}

// A flagged run flags its median row, and the table says so beside the numbers.
TEST(ShootoutReport, AFlaggedRunFlagsItsRow) {
  ShootoutRow good = row_of("weft epoll", 10.0);
  ShootoutRow doubtful = good;
  doubtful.flagged = true;
  doubtful.notes = "4 of 8 connections completed no request in the measured window";
  const ShootoutRow median = median_row({good, doubtful, good});
  EXPECT_TRUE(median.flagged);
  EXPECT_TRUE(median.ok);
  ShootoutReport report;
  report.rows = {median};
  EXPECT_TRUE(contains(render_markdown(report), "FLAGGED: 4 of 8 connections")) << render_markdown(report);
}

TEST(ShootoutReport, MarkdownCellsEscapeTheirBars) {
  ShootoutRow row = row_of("weft epoll", 10.0);
  row.notes = "connect: a | b";
  ShootoutReport report;
  report.rows = {row};
  EXPECT_TRUE(contains(render_markdown(report), "connect: a \\| b |")) << render_markdown(report);
}

// A server that never announces itself: the error shows the last lines it did say.
TEST(ShootoutServerProcess, ASilentServerShowsItsLastLines) {
  try {
    ServerProcess server({"sh", "-c", "echo one; echo two; echo three; printf four"}, std::nullopt,
                         std::chrono::seconds(20));
    ADD_FAILURE() << "no port was announced, yet the server counted as started";
  } catch (const std::runtime_error& error) {
    for (const char* line : {"one\ntwo\nthree\nfour"}) EXPECT_TRUE(contains(error.what(), line)) << error.what();
  }
}

// A child that makes N getppid() calls each time it is sent N, and answers when done.
struct BusyChild {
  BusyChild() {
    if (::pipe(to) != 0 || ::pipe(from) != 0) throw std::runtime_error("pipe");
    pid = ::fork();
    if (pid == 0) {
      ::close(to[1]);  // so that the parent's close is its end of file
      ::close(from[0]);
      for (int n; ::read(to[0], &n, sizeof n) == sizeof n;) {
        for (int i = 0; i < n; ++i) ::syscall(SYS_getppid);
        if (::write(from[1], &n, sizeof n) != sizeof n) break;
      }
      ::_exit(0);
    }
  }
  ~BusyChild() {
    ::close(to[1]);
    ::waitpid(pid, nullptr, 0);
    for (int fd : {to[0], from[0], from[1]}) ::close(fd);
  }
  void calls(int n) const {
    ASSERT_EQ(::write(to[1], &n, sizeof n), static_cast<ssize_t>(sizeof n));
    int done = 0;
    ASSERT_EQ(::read(from[0], &done, sizeof done), static_cast<ssize_t>(sizeof done));
  }
  int to[2], from[2];
  pid_t pid;
};

// perf counts between enable() and disable() only: not the calls before, nor those after.
TEST(ShootoutSyscalls, CountsExactlyTheWindow) {
  if (!SyscallCounter::available()) GTEST_SKIP() << "perf cannot count system calls here";
  BusyChild child;
  SyscallCounter counter(child.pid);
  child.calls(1);  // the child is running before perf is asked for anything
  ASSERT_TRUE(counter.enable());
  child.calls(5000);
  ASSERT_TRUE(counter.disable());
  child.calls(20000);
  const auto counted = counter.stop();
  ASSERT_TRUE(counted.has_value());
  EXPECT_GE(*counted, 5000u);
  EXPECT_LT(*counted, 5100u);  // the window's own read and write, and little else
}

// Settings the load generator refuses (here: a negative --duration) are a usage error before any
// server starts: no rows are run and no report is written.
TEST(ShootoutCommand, RefusesUnusableSettingsBeforeAnyServerStarts) {
  char directory[] = "/tmp/weft-shootout-XXXXXX";
  ASSERT_NE(::mkdtemp(directory), nullptr);
  const std::string out = std::string(directory) + "/report";
  const std::string command = "timeout 120 " WEFT_TOOL_PATH " shootout --quick --only 'weft epoll' --duration -1 --out " +
                              out + " >/dev/null 2>&1";
  const int status = std::system(command.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << "wait status " << status;
  EXPECT_FALSE(std::filesystem::exists(out + "/shootout.md")) << "a report was written";
  std::filesystem::remove_all(directory);
}

}  // namespace
}  // namespace weft::tool
