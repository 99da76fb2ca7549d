// ThreadPoolExecutor's engine: per-worker task queues with stealing, one
// ticket counter of queued tasks that idle workers sleep on, lazy worker
// start-up and Python's shutdown rules.
#include <algorithm>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "weft/detail/futex_mutex.hpp"
#include "weft/detail/gate.hpp"
#include "weft/detail/ticket_counter.hpp"
#include "weft/futures/thread_pool_executor.hpp"
#include "weft/mp/cpu_count.hpp"
#include "weft/queue/detail/segmented_fifo.hpp"
#include "weft/threading/thread.hpp"

namespace weft::futures {
namespace detail {

using weft::detail::FutexMutex;
using weft::detail::TicketCounter;
using WorkPtr = std::shared_ptr<Work>;

// Shared by the executor and its running workers: a worker on which the
// executor is destroyed (a task or done-callback held its last reference)
// keeps the pool alive until it leaves its loop, and frees it then.
class ThreadPool : public std::enable_shared_from_this<ThreadPool> {
 public:
  ThreadPool(std::size_t max_workers, std::string prefix, std::function<void()> initializer)
      : max_workers_(max_workers), prefix_(std::move(prefix)), initializer_(std::move(initializer)) {
    locals_.reserve(max_workers_);
    for (std::size_t i = 0; i < max_workers_; ++i) locals_.push_back(std::make_unique<LocalQueue>());
  }

  void schedule(WorkPtr work) {
    InFlight in_flight(*this);
    // Refused before the task is queued, with room to spare for the
    // submitters racing this one, so that its ticket below is always given.
    if (pending_.count() >= kMaxPending) throw RuntimeError("cannot schedule more than 2^30 pending futures");
    if (t_worker.pool == this) {
      locals_[t_worker.index]->push(std::move(work));
    } else {
      injected_.push(std::move(work));
    }
    pending_.give(1);
    // After the task is queued, as Python does: a worker started now finds
    // it, rather than announcing itself idle and then taking it.
    if (started_.load(std::memory_order_relaxed) < max_workers_) {
      std::lock_guard held(lifecycle_mutex_);
      adjust_thread_count();
    }
  }

  void shutdown(bool wait, bool cancel_futures) {
    submissions_.close(kShutDown);
    {
      std::lock_guard held(lifecycle_mutex_);
      if (cancel_futures) drain([](Work& work) { work.cancel_pending(); });
      pending_.close();
    }
    if (!wait) return;
    std::vector<Thread*> workers;
    {
      std::lock_guard held(lifecycle_mutex_);
      for (auto& worker : workers_) workers.push_back(worker.get());
    }
    for (Thread* worker : workers) {
      if (worker->handle() != current_thread()) worker->join();
    }
  }

  std::size_t max_workers() const noexcept { return max_workers_; }
  std::size_t worker_count() const noexcept { return started_.load(std::memory_order_acquire); }

 private:
  // Where submitters from outside the pool put tasks: producers and
  // consumers lock different ends, so a submitter never waits for a worker.
  class InjectionQueue {
   public:
    void push(WorkPtr work) {
      std::lock_guard held(tail_mutex_);
      fifo_.push(std::move(work));
      pushed_.store(pushed_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }
    // Moves up to `limit` tasks into `out`; returns how many.
    template <class Out>
    std::size_t pop_batch(Out& out, std::size_t limit) {
      std::lock_guard held(head_mutex_);
      const std::size_t available = pushed_.load(std::memory_order_acquire) - popped_;
      const std::size_t n = std::min(available, limit);
      for (std::size_t i = 0; i < n; ++i) out.push_back(fifo_.pop());
      popped_ += n;
      return n;
    }

   private:
    alignas(64) FutexMutex tail_mutex_;
    std::atomic<std::size_t> pushed_{0};
    alignas(64) FutexMutex head_mutex_;
    std::size_t popped_ = 0;
    weft::detail::SegmentedFifo<WorkPtr> fifo_;
  };

  // A worker's own tasks: pushed by the worker (batches from the injection
  // queue, tasks submitted from inside its tasks), stolen by the others.
  struct alignas(64) LocalQueue {
    FutexMutex mutex;
    std::deque<WorkPtr> tasks;

    void push(WorkPtr work) {
      std::lock_guard held(mutex);
      tasks.push_back(std::move(work));
    }
    WorkPtr pop() {
      std::lock_guard held(mutex);
      if (tasks.empty()) return nullptr;
      WorkPtr work = std::move(tasks.front());
      tasks.pop_front();
      return work;
    }
    // Takes half (rounded up) of the tasks, oldest first.
    WorkPtr steal_half(LocalQueue& into) {
      std::deque<WorkPtr> taken;
      {
        std::lock_guard held(mutex);
        const std::size_t n = (tasks.size() + 1) / 2;
        for (std::size_t i = 0; i < n; ++i) {
          taken.push_back(std::move(tasks.front()));
          tasks.pop_front();
        }
      }
      if (taken.empty()) return nullptr;
      WorkPtr first = std::move(taken.front());
      taken.pop_front();
      if (!taken.empty()) {
        std::lock_guard held(into.mutex);
        for (auto& work : taken) into.tasks.push_back(std::move(work));
      }
      return first;
    }
  };

  // Why submissions_ closed.
  static constexpr std::uint64_t kShutDown = weft::detail::Gate::kReasonA;
  static constexpr std::uint64_t kBroken = weft::detail::Gate::kReasonB;

  // A submission admitted by submissions_ for the scope.
  class InFlight {
   public:
    explicit InFlight(ThreadPool& pool) : pool_(pool) {
      const std::uint64_t refused = pool_.submissions_.try_enter();
      if ((refused & kBroken) != 0) throw BrokenThreadPool(pool_.broken_);
      if (refused != 0) throw RuntimeError("cannot schedule new futures after shutdown");
    }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;
    ~InFlight() { pool_.submissions_.leave(); }

   private:
    ThreadPool& pool_;
  };

  struct WorkerIdentity {
    ThreadPool* pool = nullptr;
    std::size_t index = 0;
  };
  static thread_local WorkerIdentity t_worker;

  // Queued tasks a pool holds at most: half of what pending_ can count.
  static constexpr std::uint32_t kMaxPending = TicketCounter::kMax / 2 + 1;

  // Tasks a worker takes from the injection queue at once: enough to make
  // the shared lock rare, few enough to leave work for the others.
  static constexpr std::size_t kBatch = 16;
  // An idle worker polls this long (about ten microseconds) before it
  // sleeps: waking a sleeper costs far more than a tiny task, but a longer
  // spin steals the core a submitter on a small machine needs.
  static constexpr int kIdleSpins = 500;

  // Python's _adjust_thread_count: reuse an idle worker if one announced
  // itself, else start another while below max_workers. Caller holds
  // lifecycle_mutex_.
  void adjust_thread_count() {
    if (started_.load(std::memory_order_relaxed) == max_workers_) return;
    int idle = idle_.load(std::memory_order_relaxed);
    while (idle > 0) {
      if (idle_.compare_exchange_weak(idle, idle - 1, std::memory_order_acq_rel)) return;
    }
    const std::size_t n = started_.load(std::memory_order_relaxed);
    auto worker = std::make_unique<Thread>(ThreadOptions{prefix_ + "_" + std::to_string(n), true},
                                           [pool = shared_from_this(), n] { pool->work(n); });
    worker->start();
    workers_.push_back(std::move(worker));
    started_.store(n + 1, std::memory_order_release);
  }

  // A ticket guarantees that some queue holds a task for its holder: tasks
  // are pushed before their ticket is given. Own queue first, then a batch
  // from the injection queue, then half of another worker's queue.
  WorkPtr find_task(std::size_t home) {
    LocalQueue& mine = *locals_[home];
    for (;;) {
      if (WorkPtr work = mine.pop()) return work;
      if (refill(mine)) continue;
      const std::size_t n = started_.load(std::memory_order_acquire);
      for (std::size_t k = 1; k < n; ++k) {
        if (WorkPtr work = locals_[(home + k) % n]->steal_half(mine)) return work;
      }
      std::this_thread::yield();
    }
  }

  bool refill(LocalQueue& mine) {
    std::lock_guard held(mine.mutex);
    return injected_.pop_batch(mine.tasks, kBatch) != 0;
  }

  void work(std::size_t index) {
    t_worker = {this, index};
    if (initializer_) {
      try {
        initializer_();
      } catch (...) {
        initializer_failed();
        return;
      }
    }
    for (;;) {
      if (!pending_.try_take()) {
        // Announce idleness only while it can still save starting a worker.
        if (started_.load(std::memory_order_relaxed) < max_workers_) idle_.fetch_add(1, std::memory_order_release);
        if (pending_.take(std::nullopt, kIdleSpins) != TicketCounter::Taken::yes) return;
      }
      find_task(index)->run();
    }
  }

  // Python's _initializer_failed: the pool is broken for good.
  void initializer_failed() {
    {
      std::lock_guard held(lifecycle_mutex_);
      if ((submissions_.reasons() & kBroken) != 0) return;
      broken_ = "A thread initializer failed, the thread pool is not usable anymore";
    }
    submissions_.close(kBroken);
    std::lock_guard held(lifecycle_mutex_);
    const auto error = std::make_exception_ptr(BrokenThreadPool(broken_));
    drain([&](Work& work) { work.fail(error); });
  }

  // Removes every queued task that no worker has claimed, using a spare
  // local queue as the home to search from. Caller holds lifecycle_mutex_.
  template <class Action>
  void drain(Action action) {
    while (pending_.try_take()) action(*find_task(t_worker.pool == this ? t_worker.index : 0));
  }

  const std::size_t max_workers_;
  const std::string prefix_;
  const std::function<void()> initializer_;
  InjectionQueue injected_;
  std::vector<std::unique_ptr<LocalQueue>> locals_;
  TicketCounter pending_;
  std::atomic<std::size_t> started_{0};
  std::atomic<int> idle_{0};
  weft::detail::Gate submissions_;
  std::mutex lifecycle_mutex_;
  std::vector<std::unique_ptr<Thread>> workers_;
  std::string broken_;  // set before submissions_ closes with kBroken
};

thread_local ThreadPool::WorkerIdentity ThreadPool::t_worker;

std::size_t default_max_workers() {
  return std::min<std::size_t>(32, mp::process_cpu_count() + 4);
}

std::string default_prefix() {
  static std::atomic<unsigned> counter{0};
  return "ThreadPoolExecutor-" + std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
}

}  // namespace detail

ThreadPoolExecutor::ThreadPoolExecutor(std::size_t max_workers, std::string thread_name_prefix,
                                       std::function<void()> initializer)
    : pool_(std::make_shared<detail::ThreadPool>(max_workers == 0 ? detail::default_max_workers() : max_workers,
                                                 thread_name_prefix.empty() ? detail::default_prefix()
                                                                            : std::move(thread_name_prefix),
                                                 std::move(initializer))) {}

ThreadPoolExecutor::~ThreadPoolExecutor() { pool_->shutdown(true, false); }

void ThreadPoolExecutor::shutdown(bool wait, bool cancel_futures) { pool_->shutdown(wait, cancel_futures); }

void ThreadPoolExecutor::schedule(std::shared_ptr<detail::Work> work) { pool_->schedule(std::move(work)); }

std::size_t ThreadPoolExecutor::max_workers() const noexcept { return pool_->max_workers(); }

std::size_t ThreadPoolExecutor::worker_count() const noexcept { return pool_->worker_count(); }

}  // namespace weft::futures
