// How a worker learns it should stop: request_stop() (weft/dist/worker.hpp)
// sets a flag that SIGTERM and SIGINT set too while a StopSignals exists.
#pragma once

#include <signal.h>

namespace weft::dist::detail {

// Clears the flag and installs the SIGTERM and SIGINT handlers; the
// destructor puts the previous ones back.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction previous_term_ {};
  struct sigaction previous_int_ {};
};

bool stop_requested() noexcept;

}  // namespace weft::dist::detail
