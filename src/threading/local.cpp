// weft::local<T> storage: each local keeps one value per thread, and each
// thread remembers which locals it has values in, so that either side's end
// frees exactly its values.
#include "weft/threading/local.hpp"

#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "thread_state.hpp"

namespace weft::detail {

namespace {
struct ThreadSlots;
}

struct LocalStorage::Impl {
  std::mutex mutex;
  Factory factory;
  std::unordered_map<ThreadSlots*, std::shared_ptr<void>> values;
  // Values made for threads whose slots were already gone or closed: they
  // live as long as the storage.
  std::vector<std::shared_ptr<void>> orphans;
};

namespace {

// One per thread: the locals this thread has a value in.
struct ThreadSlots {
  struct Entry {
    std::weak_ptr<LocalStorage::Impl> storage;
    void* value;
  };
  // Rounds of values made by the destructors of the previous round's values that
  // release() destroys, as many as pthread keys get; values that go on making
  // each other stop it only if there is a limit.
  static constexpr int kReleaseRounds = 4;

  std::mutex mutex;
  std::unordered_map<const LocalStorage::Impl*, Entry> entries;
  // Set by release() in its last round: values made from then on are orphans.
  bool closed = false;

  ~ThreadSlots();

  // Destroys this thread's values, and those their destructors make.
  void release() noexcept {
    for (int round = 0;; ++round) {
      if (round == kReleaseRounds) closed = true;
      std::vector<std::shared_ptr<LocalStorage::Impl>> storages;
      {
        std::lock_guard guard(mutex);
        if (entries.empty()) return;
        for (auto& [key, entry] : entries) {
          if (auto storage = entry.storage.lock()) storages.push_back(std::move(storage));
        }
        entries.clear();
      }
      for (const auto& storage : storages) {
        std::shared_ptr<void> value;
        {
          std::lock_guard guard(storage->mutex);
          auto it = storage->values.find(this);
          if (it == storage->values.end()) continue;
          value = std::move(it->second);
          storage->values.erase(it);
        }
        // `value` is destroyed here, on its own thread, outside every lock.
      }
    }
  }
};

thread_local ThreadSlots t_slots;
// Set once t_slots is destroyed: another thread_local's destructor may still
// touch a local<T> afterwards.
thread_local bool t_slots_gone = false;

ThreadSlots::~ThreadSlots() {
  release();
  t_slots_gone = true;
}

}  // namespace

void release_thread_locals() noexcept { t_slots.release(); }

LocalStorage::LocalStorage(Factory factory) : impl_(std::make_shared<Impl>()) {
  impl_->factory = std::move(factory);
}

LocalStorage::~LocalStorage() {
  std::unordered_map<ThreadSlots*, std::shared_ptr<void>> values;
  {
    std::lock_guard guard(impl_->mutex);
    values.swap(impl_->values);
    for (const auto& [slots, value] : values) {
      std::lock_guard slots_guard(slots->mutex);
      slots->entries.erase(impl_.get());
    }
  }
}

void* LocalStorage::get() {
  if (t_slots_gone || t_slots.closed) {
    std::shared_ptr<void> value = impl_->factory();
    void* raw = value.get();
    std::lock_guard guard(impl_->mutex);
    impl_->orphans.push_back(std::move(value));
    return raw;
  }
  ThreadSlots& slots = t_slots;
  {
    std::lock_guard guard(slots.mutex);
    auto it = slots.entries.find(impl_.get());
    if (it != slots.entries.end()) return it->second.value;
  }
  std::shared_ptr<void> value = impl_->factory();
  void* raw = value.get();
  // A value left by an earlier thread whose slots had this address, if
  // any; destroyed last, outside every lock.
  std::shared_ptr<void> stale;
  {
    std::lock_guard guard(impl_->mutex);
    stale = std::exchange(impl_->values[&slots], std::move(value));
  }
  std::lock_guard guard(slots.mutex);
  slots.entries.emplace(impl_.get(), ThreadSlots::Entry{impl_, raw});
  return raw;
}

}  // namespace weft::detail
