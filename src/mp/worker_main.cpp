// The worker process of a process pool: runs the initializer, then answers
// task frames in order until told to stop, its budget is spent or the
// parent goes away.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "weft/mp/detail/worker_pool.hpp"
#include "weft/mp/detail/worker_pool_tasks.hpp"
#include "weft/mp/remote_error.hpp"
#include "worker_frames.hpp"

namespace weft::mp::detail {
namespace {

using Clock = std::chrono::steady_clock;

class Worker {
 public:
  Worker(int fd, RawArray<std::uint64_t> progress) : fd_(fd), progress_(std::move(progress)) {}

  // False if the initializer threw (reported to the parent).
  bool initialize(const Initializer& initializer) {
    if (!initializer) return true;
    try {
      initializer.call();
      return true;
    } catch (...) {
      answer_error(Outcome::init_failed, 0, 0, std::current_exception());
      flush();
      return false;
    }
  }

  void serve(std::int64_t max_tasks) {
    std::int64_t done = 0;
    for (;;) {
      std::size_t length;
      while ((length = complete_frame(std::string_view(in_).substr(consumed_))) != 0) {
        const char* frame = in_.data() + consumed_;
        consumed_ += length;
        const auto kind = static_cast<FrameKind>(get<std::uint8_t>(frame + 4));
        const auto function = get<std::uint32_t>(frame + 5);
        const auto task = get<std::uint64_t>(frame + 9);
        const std::string_view bytes(frame + request_header, length - request_header);
        if (kind == FrameKind::stop) return flush();
        if (kind == FrameKind::define) {
          define(function, bytes);
          continue;
        }
        run(function, task, bytes);
        if (max_tasks > 0 && ++done >= max_tasks) return flush();
      }
      flush();
      if (!fill()) return;
    }
  }

 private:
  void define(std::uint32_t function, std::string_view bytes) {
    if (runners_.size() <= function) {
      runners_.resize(function + 1);
      define_errors_.resize(function + 1);
    }
    try {
      auto [maker, encoded] = codec::decode<Define>(bytes);
      runners_[function] = maker(encoded);
    } catch (...) {
      define_errors_[function] = std::current_exception();
    }
  }

  // A result is written before the next task starts (and before the worker
  // waits for requests): a task may block for ever, even on something the
  // parent does only once it has an earlier result.
  void run(std::uint32_t function, std::uint64_t task, std::string_view args) {
    flush();
    std::atomic_ref(progress_[started_slot]).store(task, std::memory_order_release);
    const auto started = Clock::now();
    const std::size_t start = out_.size();
    out_.resize(start + answer_header);
    Outcome outcome;
    try {
      if (function >= runners_.size() || (!runners_[function] && !define_errors_[function]))
        throw codec::DecodeError("a task names a function the worker was never given");
      if (define_errors_[function]) std::rethrow_exception(define_errors_[function]);
      outcome = runners_[function]->run(args, out_);
      check_frame_fits(answer_header, out_.size() - start - answer_header, "a task's result");
    } catch (...) {
      out_.resize(start + answer_header);
      codec::encode_into(out_, encode_exception(std::current_exception()));
      outcome = Outcome::error;
    }
    const auto finished = Clock::now();
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(finished - started).count();
    seal(start, outcome, task, static_cast<std::uint32_t>(std::min<std::int64_t>(micros, UINT32_MAX)));
    std::atomic_ref(progress_[finished_slot]).store(task, std::memory_order_release);
  }

  void answer_error(Outcome outcome, std::uint64_t task, std::uint32_t micros, std::exception_ptr error) {
    const std::size_t start = out_.size();
    out_.resize(start + answer_header);
    codec::encode_into(out_, encode_exception(error));
    seal(start, outcome, task, micros);
  }

  void seal(std::size_t start, Outcome outcome, std::uint64_t task, std::uint32_t micros) {
    char* at = out_.data() + start;
    put<std::uint32_t>(at, static_cast<std::uint32_t>(out_.size() - start - 4));
    put<std::uint8_t>(at + 4, static_cast<std::uint8_t>(outcome));
    put<std::uint64_t>(at + 5, task);
    put<std::uint32_t>(at + 13, micros);
  }

  void flush() {
    std::size_t sent = 0;
    while (sent < out_.size()) {
      const ssize_t n = ::send(fd_, out_.data() + sent, out_.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) std::_Exit(1);  // the parent is gone
      sent += static_cast<std::size_t>(n);
    }
    out_.clear();
  }

  // Reads more requests; false at the end of the stream.
  bool fill() {
    if (consumed_ > 0) {
      in_.erase(0, consumed_);
      consumed_ = 0;
    }
    const std::size_t start = in_.size();
    in_.resize(start + 64 * 1024);
    for (;;) {
      const ssize_t n = ::read(fd_, in_.data() + start, in_.size() - start);
      if (n < 0 && errno == EINTR) continue;
      in_.resize(start + static_cast<std::size_t>(n > 0 ? n : 0));
      return n > 0;
    }
  }

  int fd_;
  RawArray<std::uint64_t> progress_;
  std::string in_;
  std::size_t consumed_ = 0;
  std::string out_;
  std::vector<std::unique_ptr<TaskRunner>> runners_;
  std::vector<std::exception_ptr> define_errors_;
};

}  // namespace

void worker_main(Connection connection, RawArray<std::uint64_t> progress, Initializer initializer,
                 std::int64_t max_tasks) {
  Worker worker(connection.fileno(), progress);
  if (!worker.initialize(initializer)) return;
  std::atomic_ref(progress[ready_slot]).store(1, std::memory_order_release);
  worker.serve(max_tasks);
}
}  // namespace weft::mp::detail
