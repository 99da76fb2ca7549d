// The caller's kernel thread and process ids, cached per thread and
// forgotten in a forked child.
#include "weft/mp/detail/thread_id.hpp"

#include <pthread.h>
#include <unistd.h>

namespace weft::mp::detail {
namespace {

struct Ids {
  std::int32_t tid = 0;
  std::int32_t pid = 0;
};

thread_local Ids cached;

void forget_in_child() noexcept { cached = Ids{}; }

const Ids& ids() noexcept {
  if (cached.tid == 0) [[unlikely]] {
    static const bool registered = (::pthread_atfork(nullptr, nullptr, forget_in_child), true);
    (void)registered;
    cached.tid = static_cast<std::int32_t>(::gettid());
    cached.pid = static_cast<std::int32_t>(::getpid());
  }
  return cached;
}

}  // namespace

std::int32_t this_thread_id() noexcept { return ids().tid; }
std::int32_t this_process_id() noexcept { return ids().pid; }

}  // namespace weft::mp::detail
