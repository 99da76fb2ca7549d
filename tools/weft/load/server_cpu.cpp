// tools/weft/load/server_cpu.cpp — reads a process's utime and stime out of
// /proc/PID/stat. The command name (field 2) is parenthesised and may hold
// spaces or parentheses, so fields are counted from after its last ')'.
#include "weft/load/server_cpu.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace weft::tool {

namespace {

// Reads a whole small procfs file; empty on any failure.
std::string read_small_file(const std::string& path) noexcept {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::array<char, 4096> buffer{};
  std::string text;
  for (int reads = 0; reads < 16; ++reads) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n <= 0) break;
    text.append(buffer.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

}  // namespace

std::optional<ProcessCpu> read_process_cpu(pid_t pid) noexcept {
  if (pid <= 0) return std::nullopt;
  const std::string text = read_small_file("/proc/" + std::to_string(pid) + "/stat");
  const auto close_paren = text.rfind(')');
  if (close_paren == std::string::npos) return std::nullopt;

  // After ")": state is field 3, so utime, stime, cutime and cstime
  // (fields 14-17) are tokens 12-15.
  std::string_view rest(text);
  rest.remove_prefix(close_paren + 1);
  std::array<std::uint64_t, 4> ticks{};  // utime, stime, cutime, cstime
  int token = 0;
  while (!rest.empty() && token < 15) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const auto end = std::min(rest.find(' '), rest.size());
    const std::string_view field = rest.substr(0, end);
    ++token;
    if (token >= 12) {
      // cutime and cstime are signed in the kernel's format; they are never negative.
      std::int64_t value = 0;
      const auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
      if (ec != std::errc{} || ptr != field.data() + field.size() || value < 0) return std::nullopt;
      ticks[static_cast<std::size_t>(token - 12)] = static_cast<std::uint64_t>(value);
    }
    rest.remove_prefix(end);
  }
  if (token < 15) return std::nullopt;

  const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  if (ticks_per_second <= 0) return std::nullopt;
  const auto hz = static_cast<double>(ticks_per_second);
  ProcessCpu cpu{static_cast<double>(ticks[0]) / hz, static_cast<double>(ticks[1]) / hz, std::nullopt,
                 static_cast<double>(ticks[2] + ticks[3]) / hz};
  clockid_t clock{};
  timespec now{};
  if (::clock_getcpuclockid(pid, &clock) == 0 && ::clock_gettime(clock, &now) == 0)
    cpu.exact_seconds = static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
  return cpu;
}

std::optional<ProcessCpu> read_process_tree_cpu(pid_t pid) noexcept {
  auto total = read_process_cpu(pid);
  if (!total) return std::nullopt;
  const std::string task_dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* tasks = ::opendir(task_dir.c_str());
  if (tasks == nullptr) return total;
  while (const dirent* task = ::readdir(tasks)) {
    if (task->d_name[0] == '.') continue;
    const std::string children = read_small_file(task_dir + "/" + task->d_name + "/children");
    std::string_view rest(children);
    while (!rest.empty()) {
      const auto end = std::min(rest.find(' '), rest.size());
      pid_t child = 0;
      const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + end, child);
      if (ec == std::errc{} && child > 0) {
        if (const auto below = read_process_tree_cpu(child)) {
          // Summed as totals: exact where every process's clock was readable.
          const bool exact = total->exact_seconds && below->exact_seconds;
          total->exact_seconds = exact ? std::optional(*total->exact_seconds + below->own_seconds()) : std::nullopt;
          total->user_seconds += below->user_seconds;
          total->system_seconds += below->system_seconds;
          total->children_seconds += below->children_seconds;
        }
      }
      rest.remove_prefix(std::min(end + 1, rest.size()));
    }
  }
  ::closedir(tasks);
  return total;
}

}  // namespace weft::tool
