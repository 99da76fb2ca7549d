// aio::Process and the functions that start one: waiting for the exit,
// communicate(), signals.
#include "weft/aio/subprocess.hpp"

#include <signal.h>

#include <optional>
#include <tuple>
#include <utility>

#include "process_state.hpp"
#include "spawn.hpp"
#include "stream_transport.hpp"
#include "weft/aio/event_loop.hpp"
#include "weft/aio/gather.hpp"
#include "weft/net/errors.hpp"

namespace weft::aio {
namespace detail {
namespace {

Task<int> wait_for_exit(CountedRef<ProcessState> process) {
  while (!process->returncode()) co_await process->exit_waiters().wait();
  co_return *process->returncode();
}

// Writes `input` and closes stdin; a child that stopped reading is fine.
Task<void> feed_stdin(CountedRef<ProcessState> process, std::string input) {
  if (!process->stdin_pipe) co_return;
  StreamWriter& writer = *process->stdin_pipe;
  try {
    if (!input.empty()) {
      writer.write(input);
      co_await writer.drain();
    }
  } catch (const net::BrokenPipeError&) {
  } catch (const net::ConnectionResetError&) {
  }
  writer.close();
}

Task<std::string> read_to_end(std::optional<StreamReader> reader) {
  if (!reader) co_return std::string();
  co_return co_await reader->read();
}

Task<std::pair<std::string, std::string>> communicate_with(CountedRef<ProcessState> process, std::string input) {
  auto outputs = co_await gather(feed_stdin(process, std::move(input)), read_to_end(process->stdout_pipe),
                                 read_to_end(process->stderr_pipe));
  co_await wait_for_exit(process);
  co_return std::pair(std::move(std::get<1>(outputs)), std::move(std::get<2>(outputs)));
}

}  // namespace
}  // namespace detail

// ---- Process ------------------------------------------------------------------

pid_t Process::pid() const noexcept { return state_->pid(); }
std::optional<int> Process::returncode() const noexcept { return state_->returncode(); }

StreamWriter* Process::stdin_() const noexcept { return state_->stdin_pipe ? &*state_->stdin_pipe : nullptr; }
StreamReader* Process::stdout_() const noexcept { return state_->stdout_pipe ? &*state_->stdout_pipe : nullptr; }
StreamReader* Process::stderr_() const noexcept { return state_->stderr_pipe ? &*state_->stderr_pipe : nullptr; }

Task<int> Process::wait() { return detail::wait_for_exit(state_); }

Task<std::pair<std::string, std::string>> Process::communicate(std::string input) {
  return detail::communicate_with(state_, std::move(input));
}

void Process::send_signal(int signal) { state_->send_signal(signal); }
void Process::terminate() { send_signal(SIGTERM); }
void Process::kill() { send_signal(SIGKILL); }

Task<Process> create_subprocess_exec(std::string program, std::vector<std::string> args, SubprocessOptions options) {
  detail::check_stream_limit(options.limit);
  EventLoop& loop = get_running_loop();
  const detail::Spawned spawned = detail::spawn(program, args, options);
  co_return Process(detail::ProcessState::open(loop, spawned, options.limit));
}

Task<Process> create_subprocess_shell(std::string command, SubprocessOptions options) {
  return create_subprocess_exec("/bin/sh", {"-c", std::move(command)}, std::move(options));
}

}  // namespace weft::aio
