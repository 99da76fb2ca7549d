// The synchronisation objects and queues a manager's server makes, by
// typeid.
#include "manager_sync_objects.hpp"

namespace weft::mp::manager::detail {

std::unique_ptr<Managed> make_sync_object(std::string_view type_id, std::string_view args) {
  if (type_id == "Lock") return make_lock(false);
  if (type_id == "RLock") return make_lock(true);
  if (type_id == "Semaphore") return make_semaphore(args, false);
  if (type_id == "BoundedSemaphore") return make_semaphore(args, true);
  if (type_id == "Event") return make_event();
  if (type_id == "Condition") return make_condition();
  if (type_id == "Barrier") return make_barrier(args);
  if (type_id == "Queue") return make_queue(args, "Queue");
  if (type_id == "JoinableQueue") return make_queue(args, "JoinableQueue");
  return nullptr;
}

}  // namespace weft::mp::manager::detail
