// asyncio.Runner: one loop for several run() calls, closed once.
#include "weft/aio/runner.hpp"

namespace weft::aio {

EventLoop& Runner::get_loop() {
  if (closed_) throw RuntimeError("Runner is closed");
  if (!loop_) loop_ = std::make_unique<EventLoop>(options_);
  return *loop_;
}

void Runner::close() {
  if (closed_) return;
  closed_ = true;
  if (loop_) {
    loop_->close();
    loop_.reset();
  }
}

}  // namespace weft::aio
