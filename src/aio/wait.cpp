// asyncio.wait's suspension: a TaskWatch that detaches when cancelled.
#include "weft/aio/wait.hpp"

namespace weft::aio::detail {

Task<void> wait_until(std::vector<TaskState*> tasks, ReturnWhen when,
                      std::optional<std::chrono::steady_clock::time_point> deadline) {
  TaskWatch watch(tasks, until_of(when), TaskWatch::OnCancel::detach);
  if (deadline) watch.set_deadline(*deadline);
  co_await watch;
}

}  // namespace weft::aio::detail
