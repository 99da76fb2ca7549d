// The manager's "Queue" and "JoinableQueue": Python's queue.Queue (both
// typeids make one, as Python's SyncManager does), holding each item as
// its encoding so that one server serves clients of any item type.
#include <array>
#include <string>

#include "manager_sync_dispatch.hpp"
#include "manager_sync_objects.hpp"
#include "manager_sync_wait.hpp"
#include "weft/queue/detail/queue_core.hpp"
#include "weft/queue/detail/stores.hpp"

namespace weft::mp::manager::detail {

namespace {

class ManagedQueue final : public Dispatching<ManagedQueue> {
 public:
  ManagedQueue(std::size_t maxsize, const char* type_name) : Dispatching(type_name), queue_(maxsize) {}

  // Throws Full when there was no room in time, ShutDown after shutdown().
  void put(Caller& caller, std::string item, bool block, std::optional<double> timeout) {
    if (!try_put(caller, std::move(item), block, timeout)) throw Full();
  }
  void put_nowait(Caller& caller, std::string item) { put(caller, std::move(item), false, std::nullopt); }
  bool try_put(Caller& caller, std::string item, bool block, std::optional<double> timeout) {
    return wait_for(caller, block, timeout, NegativeTimeout::refused, [&](std::chrono::nanoseconds slice) {
      return queue_.put(item, slice != slice.zero(), weft::detail::deadline_after(slice));
    });
  }

  // Throws Empty when no item came in time, ShutDown once shut down and
  // drained.
  std::string get(Caller& caller, bool block, std::optional<double> timeout) {
    auto item = try_get(caller, block, timeout);
    if (!item) throw Empty();
    return std::move(*item);
  }
  std::string get_nowait(Caller& caller) { return get(caller, false, std::nullopt); }
  std::optional<std::string> try_get(Caller& caller, bool block, std::optional<double> timeout) {
    return wait_for(caller, block, timeout, NegativeTimeout::refused, [&](std::chrono::nanoseconds slice) {
      auto item = queue_.get(slice != slice.zero(), weft::detail::deadline_after(slice));
      if (item && !caller.connected()) {
        give_back(std::move(*item));
        item.reset();
      }
      return item;
    });
  }

  std::size_t qsize(Caller&) { return queue_.qsize(); }
  bool empty(Caller&) { return queue_.qsize() == 0; }
  bool full(Caller&) { return queue_.full(); }
  std::size_t maxsize(Caller&) { return queue_.maxsize(); }
  // Throws ValueError when called more often than items were put.
  void task_done(Caller&) { queue_.task_done(); }
  // Blocks until every item put was retired; false if `timeout` passed.
  bool join(Caller& caller, std::optional<double> timeout) {
    return wait_in_slices(caller, deadline_for(timeout, NegativeTimeout::refused),
                          [&](std::chrono::nanoseconds slice) {
                            return queue_.join(weft::detail::deadline_after(slice));
                          });
  }
  void shutdown(Caller&, bool immediate) { queue_.shutdown(immediate); }

  static std::span<const Method<ManagedQueue>> methods() {
    static constexpr std::array<Method<ManagedQueue>, 13> table{{
        {"put", &run<&ManagedQueue::put>},
        {"put_nowait", &run<&ManagedQueue::put_nowait>},
        {"try_put", &run<&ManagedQueue::try_put>},
        {"get", &run<&ManagedQueue::get>},
        {"get_nowait", &run<&ManagedQueue::get_nowait>},
        {"try_get", &run<&ManagedQueue::try_get>},
        {"qsize", &run<&ManagedQueue::qsize>},
        {"empty", &run<&ManagedQueue::empty>},
        {"full", &run<&ManagedQueue::full>},
        {"maxsize", &run<&ManagedQueue::maxsize>},
        {"task_done", &run<&ManagedQueue::task_done>},
        {"join", &run<&ManagedQueue::join>},
        {"shutdown", &run<&ManagedQueue::shutdown>},
    }};
    return table;
  }

 private:
  // An item taken for a client found gone goes back, to the end of the
  // queue, leaving the count of unfinished tasks as it was, even when the
  // queue is full again or shut down (then it stays gettable until drained,
  // as the items already there do; an immediate shutdown discards it).
  void give_back(std::string item) { queue_.put_back(item); }

  // Python's queue.Queue algorithm (the engine of weft's LifoQueue), which
  // can take an item back.
  weft::detail::QueueCore<std::string, weft::detail::FifoStore<std::string>> queue_;
};

}  // namespace

std::unique_ptr<Managed> make_queue(std::string_view args, const char* type_name) {
  auto [maxsize] = codec::decode<std::tuple<std::optional<long long>>>(args);
  const long long bound = maxsize.value_or(0);
  return std::make_unique<ManagedQueue>(bound > 0 ? static_cast<std::size_t>(bound) : 0, type_name);
}

}  // namespace weft::mp::manager::detail
