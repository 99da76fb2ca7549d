// The stop flag of run_worker and the signal handlers that set it.
#include "worker_stop.hpp"

#include <atomic>

#include "weft/dist/worker.hpp"

namespace weft::dist {
namespace {

std::atomic<bool> g_stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "request_stop must be async-signal-safe");

void on_stop_signal(int) { request_stop(); }

}  // namespace

void request_stop() noexcept { g_stop_requested.store(true, std::memory_order_relaxed); }

namespace detail {

StopSignals::StopSignals() {
  g_stop_requested.store(false, std::memory_order_relaxed);
  struct sigaction stop {};
  stop.sa_handler = &on_stop_signal;
  sigemptyset(&stop.sa_mask);
  stop.sa_flags = SA_RESTART;
  ::sigaction(SIGTERM, &stop, &previous_term_);
  ::sigaction(SIGINT, &stop, &previous_int_);
}

StopSignals::~StopSignals() {
  ::sigaction(SIGTERM, &previous_term_, nullptr);
  ::sigaction(SIGINT, &previous_int_, nullptr);
}

bool stop_requested() noexcept { return g_stop_requested.load(std::memory_order_relaxed); }

}  // namespace detail
}  // namespace weft::dist
