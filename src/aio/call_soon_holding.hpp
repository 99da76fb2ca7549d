// Scheduling a done callback of a reference-counted object (a task's state,
// a future's core) on its loop, the object kept alive until the callback
// has run.
#pragma once

#include <utility>

#include "weft/aio/event_loop.hpp"
#include "weft/detail/unique_function.hpp"

namespace weft::aio::detail {

// Runs callback(object) in the loop's next iteration, holding a reference
// to object (add_ref()/release()) until it has run or been dropped
// unscheduled. Throws what call_soon throws, the reference then released.
template <class Counted>
void call_soon_holding(EventLoop& loop, Counted& object,
                       weft::detail::UniqueFunction<void(Counted&)> callback) {
  object.add_ref();
  try {
    loop.call_soon([&object, callback = std::move(callback)]() mutable {
      struct Release {
        Counted* held;
        ~Release() { held->release(); }
      } release{&object};
      callback(object);
    });
  } catch (...) {
    object.release();
    throw;
  }
}

}  // namespace weft::aio::detail
