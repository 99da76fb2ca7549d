// tools/weft/load/server_cpu.cpp — reads a process's utime and stime out of
// /proc/PID/stat. The command name (field 2) is parenthesised and may hold
// spaces or parentheses, so fields are counted from after its last ')'.
#include "weft/load/server_cpu.hpp"

#include <dirent.h>
#include <fcntl.h>
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

  // After ")": state is field 3, so utime (field 14) is the 12th token and
  // stime (field 15) the 13th.
  std::string_view rest(text);
  rest.remove_prefix(close_paren + 1);
  std::uint64_t utime = 0;
  std::uint64_t stime = 0;
  int token = 0;
  while (!rest.empty() && token < 13) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const auto end = std::min(rest.find(' '), rest.size());
    const std::string_view field = rest.substr(0, end);
    ++token;
    if (token == 12 || token == 13) {
      std::uint64_t value = 0;
      const auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
      if (ec != std::errc{} || ptr != field.data() + field.size()) return std::nullopt;
      (token == 12 ? utime : stime) = value;
    }
    rest.remove_prefix(end);
  }
  if (token < 13) return std::nullopt;

  const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  if (ticks_per_second <= 0) return std::nullopt;
  const auto hz = static_cast<double>(ticks_per_second);
  return ProcessCpu{static_cast<double>(utime) / hz, static_cast<double>(stime) / hz};
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
          total->user_seconds += below->user_seconds;
          total->system_seconds += below->system_seconds;
        }
      }
      rest.remove_prefix(std::min(end + 1, rest.size()));
    }
  }
  ::closedir(tasks);
  return total;
}

}  // namespace weft::tool
