// The lock-order graph behind weft's deadlock detection
// (weft/threading/deadlock.hpp).
#include "weft/threading/deadlock.hpp"

#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "weft/detail/lock_tracking.hpp"
#include "weft/threading/thread.hpp"

namespace weft {
namespace detail {

#ifdef NDEBUG
std::atomic<int> g_deadlock_mode{static_cast<int>(DeadlockMode::off)};
#else
std::atomic<int> g_deadlock_mode{static_cast<int>(DeadlockMode::report)};
#endif

namespace {

// WEFT_DEADLOCK=off|report|raise|abort overrides the build's default.
[[gnu::constructor]] void read_deadlock_environment() {
  const char* value = std::getenv("WEFT_DEADLOCK");
  if (value == nullptr) return;
  static constexpr std::pair<const char*, DeadlockMode> kModes[] = {
      {"off", DeadlockMode::off},
      {"report", DeadlockMode::report},
      {"raise", DeadlockMode::raise},
      {"abort", DeadlockMode::abort}};
  for (const auto& [name, mode] : kModes) {
    if (std::strcmp(value, name) == 0) {
      g_deadlock_mode.store(static_cast<int>(mode), std::memory_order_relaxed);
      return;
    }
  }
  std::fprintf(stderr, "weft: ignoring WEFT_DEADLOCK=%s (expected off, report, raise or abort)\n", value);
}

using NodeId = std::uint32_t;

struct HeldLocks;

struct Node {
  const void* lock = nullptr;
  const char* name = nullptr;
  LockKind kind = LockKind::plain;
  // Successors, each with the name of the thread that first took them in
  // this order.
  std::unordered_map<NodeId, std::string> out;
  std::unordered_set<NodeId> in;
  HeldLocks* holder = nullptr;
};

// The locks one thread holds, innermost last.
struct HeldLocks {
  std::vector<NodeId> nodes;
  ~HeldLocks();
};

class Detector {
 public:
  std::mutex mutex;
  std::unordered_map<NodeId, Node> nodes;
  NodeId next_id = 1;
  std::set<std::vector<NodeId>> reported;
  DeadlockHandler handler;

  NodeId node_for(LockSite& site, const void* lock, LockKind kind) {
    NodeId id = site.node.load(std::memory_order_relaxed);
    if (id == 0) {
      id = next_id++;
      nodes[id] = Node{lock, site.name, kind, {}, {}, nullptr};
      site.node.store(id, std::memory_order_relaxed);
    }
    return id;
  }

  std::string label(NodeId id) const {
    const Node& node = nodes.at(id);
    char address[32];
    std::snprintf(address, sizeof address, "%p", node.lock);
    const char* kind = node.kind == LockKind::plain ? "Lock" : "RLock";
    if (node.name != nullptr) return std::string(kind) + " '" + node.name + "' (" + address + ")";
    return std::string(kind) + " at " + address;
  }

  // A path of nodes from `from` to `to` along lock-order edges, or empty.
  std::vector<NodeId> find_path(NodeId from, NodeId to) const {
    std::unordered_map<NodeId, NodeId> parent{{from, from}};
    std::vector<NodeId> stack{from};
    while (!stack.empty()) {
      const NodeId at = stack.back();
      stack.pop_back();
      if (at == to) {
        std::vector<NodeId> path{to};
        for (NodeId n = to; n != from;) path.push_back(n = parent.at(n));
        std::reverse(path.begin(), path.end());
        return path;
      }
      for (const auto& [next, thread] : nodes.at(at).out) {
        if (parent.emplace(next, at).second) stack.push_back(next);
      }
    }
    return {};
  }

  void forget(HeldLocks& held) {
    for (NodeId id : held.nodes) {
      auto it = nodes.find(id);
      if (it != nodes.end() && it->second.holder == &held) it->second.holder = nullptr;
    }
    held.nodes.clear();
  }
};

// True on the forking thread while it holds the detector's mutex across
// fork(): what other fork handlers do with weft locks then (glibc runs
// them before and after ours, in registration order) is not tracked, where
// taking the mutex again would wait forever.
thread_local bool t_forking = false;

// Never destroyed: locks and threads may outlive static destruction. The
// forking thread holds the mutex across fork(), so a child's graph is
// consistent and its mutex free.
Detector& detector() {
  static Detector* instance = [] {
    ::pthread_atfork(
        [] {
          detector().mutex.lock();
          t_forking = true;
        },
        [] {
          t_forking = false;
          detector().mutex.unlock();
        },
        [] {
          t_forking = false;
          detector().mutex.unlock();
        });
    return new Detector;
  }();
  return *instance;
}

// Made (and its fork handlers registered) at load time, not on a first
// tracked acquisition that might come inside another fork handler, while
// glibc holds the lock pthread_atfork needs.
[[gnu::constructor]] void make_detector_at_load() { detector(); }

thread_local HeldLocks t_held;
// Set once t_held is destroyed: locks taken by the thread_local destructors
// that run after it go untracked.
thread_local bool t_held_gone = false;

HeldLocks::~HeldLocks() {
  Detector& d = detector();
  std::lock_guard guard(d.mutex);
  d.forget(*this);
  t_held_gone = true;
}

std::string render(const DeadlockReport& report) {
  std::string text;
  if (report.kind == DeadlockReport::Kind::self_deadlock) {
    text = "weft: deadlock: thread '" + report.thread + "' acquires " + report.cycle.front().acquired +
           ", which it already holds; a Lock is not re-entrant, so this waits forever unless another "
           "thread releases it (use an RLock, release it first, or signal with an Event)\n";
    return text;
  }
  text = "weft: potential deadlock: lock-order cycle\n";
  for (std::size_t i = 0; i < report.cycle.size(); ++i) {
    const auto& edge = report.cycle[i];
    text += "  thread '" + edge.thread + "' " + (i == 0 ? "acquires " : "acquired ") + edge.acquired +
            " while holding " + edge.held + (i == 0 ? "   <- now\n" : "\n");
  }
  text += "  threads taking these locks in these orders at the same time wait for each other forever;"
          " take them in one global order\n";
  return text;
}

void deliver(const DeadlockReport& report) {
  DeadlockHandler handler;
  {
    Detector& d = detector();
    std::lock_guard guard(d.mutex);
    handler = d.handler;
  }
  if (handler) {
    handler(report);
  } else {
    std::fputs(report.text.c_str(), stderr);
    std::fflush(stderr);
  }
}

}  // namespace

void track_before_acquire(LockSite& site, const void* lock, LockKind kind, bool timed) {
  if (t_forking || t_held_gone) return;
  const std::string me = current_thread().name();
  DeadlockReport report;
  bool found = false;
  bool first = false;
  {
    Detector& d = detector();
    std::lock_guard guard(d.mutex);
    const NodeId id = d.node_for(site, lock, kind);
    const auto& held = t_held.nodes;
    if (kind == LockKind::plain && std::find(held.begin(), held.end(), id) != held.end()) {
      // A timed wait for a Lock one holds ends in its timeout (or in
      // another thread's release): not a deadlock.
      if (timed) return;
      found = true;
      report.kind = DeadlockReport::Kind::self_deadlock;
      report.cycle.push_back({me, d.label(id), d.label(id)});
      first = d.reported.insert({id}).second;
    } else {
      for (NodeId h : held) {
        if (h == id || d.nodes.at(h).out.contains(id)) continue;
        const std::vector<NodeId> path = d.find_path(id, h);
        if (path.empty()) {
          d.nodes.at(h).out.emplace(id, me);
          d.nodes.at(id).in.insert(h);
          continue;
        }
        found = true;
        report.kind = DeadlockReport::Kind::lock_order_cycle;
        report.cycle.push_back({me, d.label(h), d.label(id)});
        for (std::size_t i = 0; i + 1 < path.size(); ++i)
          report.cycle.push_back(
              {d.nodes.at(path[i]).out.at(path[i + 1]), d.label(path[i]), d.label(path[i + 1])});
        std::vector<NodeId> key = path;
        std::sort(key.begin(), key.end());
        first = d.reported.insert(key).second;
        break;
      }
    }
  }
  if (!found) return;
  report.thread = me;
  report.text = render(report);
  const auto mode = static_cast<DeadlockMode>(g_deadlock_mode.load(std::memory_order_relaxed));
  if (first || mode == DeadlockMode::abort) deliver(report);
  if (mode == DeadlockMode::raise) throw DeadlockError(report.text);
  if (mode == DeadlockMode::abort) std::abort();
}

void track_acquired(LockSite& site, const void* lock, LockKind kind) noexcept {
  if (t_forking || t_held_gone) return;
  Detector& d = detector();
  std::lock_guard guard(d.mutex);
  const NodeId id = d.node_for(site, lock, kind);
  t_held.nodes.push_back(id);
  d.nodes.at(id).holder = &t_held;
}

void track_released(LockSite& site) noexcept {
  if (t_forking) return;
  Detector& d = detector();
  std::lock_guard guard(d.mutex);
  auto it = d.nodes.find(site.node.load(std::memory_order_relaxed));
  if (it == d.nodes.end() || it->second.holder == nullptr) return;
  auto& held = it->second.holder->nodes;
  auto last = std::find(held.rbegin(), held.rend(), it->first);
  if (last != held.rend()) held.erase(std::next(last).base());
  it->second.holder = nullptr;
}

void track_destroyed(LockSite& site) noexcept {
  if (t_forking) return;
  Detector& d = detector();
  std::lock_guard guard(d.mutex);
  const NodeId id = site.node.exchange(0, std::memory_order_relaxed);
  auto it = d.nodes.find(id);
  if (it == d.nodes.end()) return;
  if (it->second.holder != nullptr) {
    auto& held = it->second.holder->nodes;
    held.erase(std::remove(held.begin(), held.end(), id), held.end());
  }
  for (const auto& [next, thread] : it->second.out) d.nodes.at(next).in.erase(id);
  for (NodeId prev : it->second.in) d.nodes.at(prev).out.erase(id);
  d.nodes.erase(it);
}

}  // namespace detail

void set_deadlock_detection(DeadlockMode mode) noexcept {
  detail::g_deadlock_mode.store(static_cast<int>(mode), std::memory_order_relaxed);
}

DeadlockMode deadlock_detection() noexcept {
  return static_cast<DeadlockMode>(detail::g_deadlock_mode.load(std::memory_order_relaxed));
}

DeadlockHandler set_deadlock_handler(DeadlockHandler handler) {
  detail::Detector& d = detail::detector();
  std::lock_guard guard(d.mutex);
  return std::exchange(d.handler, std::move(handler));
}

void reset_deadlock_graph() {
  detail::Detector& d = detail::detector();
  std::lock_guard guard(d.mutex);
  for (auto& [id, node] : d.nodes) {
    node.out.clear();
    node.in.clear();
  }
  d.reported.clear();
}

}  // namespace weft
