// The per-thread table of readiness waits.
//
// Each descriptor has two Directions (reading, writing). A Direction is the
// io::Loop watch for it plus the FIFO of waiting nodes; a node lives on the
// stack of its waiting greenlet. The watch is armed when a waiter arrives
// and nobody else holds it armed. When it reports, every waiter is woken
// and unlinked. On the epoll backend the watch then stays armed until the
// loop's next pending phase: by then the woken greenlets have run, and one
// that went back to waiting (a server reading its connection's next
// request) finds it armed still, so the loop changes no epoll interest for
// it and its wait costs nothing but the park. A watch nobody came back to
// is cancelled then, and so is one that reports with nobody waiting: a
// level-triggered watch left armed would report at every loop iteration,
// and would keep the loop alive, hiding a LoopExit. On io_uring a watch is
// a one-shot poll re-armed after each report, so keeping it saves nothing:
// it is cancelled as soon as it reports (which costs no submission).
//
// The table, not the waiting stacks, owns the watches because a loop
// cancellation completes later (the handler's final call comes in a later
// phase): a watch on a stack would pin the stack until then. A waiter that
// leaves (woken, timed out, or by an exception thrown into its park) just
// unlinks its nodes; a Direction whose watch is still cancelling when a new
// waiter arrives is re-armed by its final call.
#include <cerrno>
#include <memory>
#include <utility>
#include <vector>

#include "greenlet_impl.hpp"
#include "hub_impl.hpp"
#include "wait_table.hpp"
#include "weft/io/operation.hpp"

namespace weft::green::detail {
namespace {

class Table;

// Shared by the nodes of one wait: who waits, and the first report.
struct WaitState {
  GreenletImpl* greenlet = nullptr;
  int report = kTimedOut;
};

struct Node {
  WaitState* state = nullptr;
  struct Direction* direction = nullptr;
  Node* prev = nullptr;
  Node* next = nullptr;
};

struct Direction final : io::Operation {
  Direction() noexcept : io::Operation(&on_result) {}

  static void on_result(io::Operation& op, int result, std::uint32_t flags) noexcept;

  void bind(Table* owner, int descriptor, std::uint32_t direction) noexcept {
    table = owner;
    fd = descriptor;
    events = direction;
  }
  void push_back(Node& node) noexcept;
  void remove(Node& node) noexcept;
  // Wakes and unlinks every waiter with `report`.
  void fire(int report) noexcept;

  Table* table = nullptr;
  int fd = -1;
  std::uint32_t events = 0;
  Node* head = nullptr;
  Node* tail = nullptr;
  bool cancel_requested = false;
  // Reported, woke its waiters and was kept: listed for release_idle().
  bool reported = false;
};

struct FdSlot {
  Direction read;
  Direction write;
  // The loop has watched this fd since it was last forgotten.
  bool seen = false;
};

class Table {
 public:
  // An `orphaned` table deletes itself once nothing refers to it.
  Table(Hub& hub, bool orphaned) : hub_(hub), loop_(hub.loop()), orphaned_(orphaned) {}

  Hub& hub() noexcept { return hub_; }

  Direction& direction(int fd, std::uint32_t events) {
    FdSlot& slot = slot_for(fd);
    slot.seen = true;
    return events == kReadable ? slot.read : slot.write;
  }

  FdSlot* find(int fd) noexcept {
    const auto page = static_cast<std::size_t>(fd) / kPage;
    if (fd < 0 || page >= pages_.size() || !pages_[page]) return nullptr;
    return &pages_[page][static_cast<std::size_t>(fd) % kPage];
  }

  void link(Node& node, Direction& d) {
    d.push_back(node);
    ++linked_;
    if (d.pending()) return;  // armed, or cancelling: its final call re-arms it
    try {
      arm(d);
    } catch (...) {
      d.remove(node);
      --linked_;
      throw;
    }
  }

  // Unlinks a waiter that leaves; may delete an orphaned table.
  void unlink(Node& node) noexcept {
    Direction& d = *node.direction;
    d.remove(node);
    --linked_;
    if (d.head == nullptr) release(d);
    collect();
  }

  // A waker took `count` nodes off a Direction.
  void unlinked(std::size_t count) noexcept { linked_ -= count; }

  void arm(Direction& d) { loop_.watch(d, d.fd, d.events); }

  // Cancels the watch of a Direction nobody waits on any more.
  void release(Direction& d) noexcept {
    if (!d.pending() || d.cancel_requested || !loop_alive()) return;
    d.cancel_requested = true;
    loop_.cancel(d);
  }

  // A Direction's watch reported and woke its waiters. On epoll it is
  // released in the loop's next pending phase unless one of them is back by
  // then (at once if that cannot be arranged); on io_uring at once.
  void reported(Direction& d) noexcept {
    if (!keep_reported_) return release(d);
    if (d.reported) return;
    try {
      reported_.push_back(&d);
      d.reported = true;
      defer();
    } catch (...) {
      if (d.reported) {
        reported_.pop_back();
        d.reported = false;
      }
      release(d);
    }
  }

  // Releases the watches that reported since the last call and have no
  // waiter again.
  void release_idle() noexcept {
    std::vector<Direction*> listed;
    listed.swap(reported_);
    for (Direction* d : listed) {
      d->reported = false;
      if (d->head == nullptr) release(*d);
    }
    listed.clear();
    if (reported_.empty()) reported_.swap(listed);  // keep the storage
  }

  // The thread is ending (or has a new hub): the table is deleted as soon
  // as nothing refers to it.
  void orphan() noexcept {
    orphaned_ = true;
    collect();
  }

  // Deletes an orphaned table once no waiter is linked and the loop will
  // call no handler on it: no watch is pending, or the hub is gone or shut
  // down (its loop never runs again). While watches are still pending, the
  // loop holds the table in a callback (Deferred) that tries again — or, if
  // the loop ends first, deletes it. Call nothing on the table afterwards.
  void collect() noexcept;

 private:
  // Queues a Deferred in the loop unless one is queued already. Throws
  // what Loop::call_soon throws.
  void defer();

  bool watching() const noexcept {
    for (const auto& page : pages_) {
      if (!page) continue;
      for (std::size_t i = 0; i < kPage; ++i)
        if (page[i].read.pending() || page[i].write.pending()) return true;
    }
    return false;
  }

  static constexpr std::size_t kPage = 256;

  // The hub (and its loop) still exists: a greenlet unwound while its
  // thread ends may leave its wait after the hub is gone.
  bool loop_alive() const noexcept { return Hub::current_if_any() == &hub_; }

  FdSlot& slot_for(int fd) {
    const auto page = static_cast<std::size_t>(fd) / kPage;
    if (page >= pages_.size()) pages_.resize(page + 1);
    if (!pages_[page]) {
      pages_[page] = std::make_unique<FdSlot[]>(kPage);
      for (std::size_t i = 0; i < kPage; ++i) {
        FdSlot& slot = pages_[page][i];
        const int slot_fd = static_cast<int>(page * kPage + i);
        slot.read.bind(this, slot_fd, kReadable);
        slot.write.bind(this, slot_fd, kWritable);
      }
    }
    return pages_[page][static_cast<std::size_t>(fd) % kPage];
  }

  Hub& hub_;
  io::Loop& loop_;
  // Watches that reported stay armed for their waiters' return (epoll).
  const bool keep_reported_ = loop_.backend() == io::Backend::epoll;
  // Pages of fixed size: a Direction's address is the loop's handle on it.
  std::vector<std::unique_ptr<FdSlot[]>> pages_;
  std::size_t linked_ = 0;
  // Directions whose watch reported, for release_idle().
  std::vector<Direction*> reported_;
  bool orphaned_ = false;
  bool deferred_ = false;  // a Deferred in the loop refers to the table

  friend struct Deferred;
};

// The table's loop callback, queued for the next pending phase: run, it
// releases the watches nobody came back to, then collects an orphaned
// table; destroyed unrun (the loop is ending, and will touch the table no
// more), it deletes an orphaned table.
struct Deferred {
  explicit Deferred(Table* owner) noexcept : table(owner) {}
  Deferred(Deferred&& other) noexcept : table(std::exchange(other.table, nullptr)) {}
  Deferred& operator=(Deferred&&) = delete;
  ~Deferred() {
    if (table == nullptr || !table->deferred_) return;
    table->deferred_ = false;
    if (table->orphaned_) delete table;
  }
  void operator()() noexcept {
    Table* owner = std::exchange(table, nullptr);
    owner->deferred_ = false;
    owner->release_idle();
    owner->collect();
  }

  Table* table;
};

void Table::defer() {
  if (deferred_) return;
  loop_.call_soon(Deferred(this));
  deferred_ = true;
}

void Table::collect() noexcept {
  if (!orphaned_ || linked_ != 0 || deferred_) return;
  if (loop_alive() && !Hub::Impl::of(hub_).closing && watching()) {
    try {
      defer();
    } catch (...) {
      // Out of memory: the table is left behind.
    }
    return;
  }
  delete this;
}

void Direction::push_back(Node& node) noexcept {
  node.direction = this;
  node.prev = tail;
  node.next = nullptr;
  if (tail != nullptr) {
    tail->next = &node;
  } else {
    head = &node;
  }
  tail = &node;
}

void Direction::remove(Node& node) noexcept {
  if (node.prev != nullptr) {
    node.prev->next = node.next;
  } else {
    head = node.next;
  }
  if (node.next != nullptr) {
    node.next->prev = node.prev;
  } else {
    tail = node.prev;
  }
  node.prev = node.next = nullptr;
  node.direction = nullptr;
}

void Direction::fire(int report) noexcept {
  std::size_t count = 0;
  while (Node* node = head) {
    remove(*node);
    ++count;
    if (node->state->report == kTimedOut) node->state->report = report;
    table->hub().wake(*node->state->greenlet);
  }
  table->unlinked(count);
}

// What a watch's final call (an error, or the end of a cancellation nobody
// here asked for) tells the waiters.
int report_of(int result, std::uint32_t events) noexcept {
  if (result > 0) return result;
  // epoll refuses regular files and directories: they are always ready.
  if (result == 0 || result == -EPERM) return static_cast<int>(events);
  // Loop::close(fd) by someone else.
  if (result == -ECANCELED) return kClosed;
  return result;
}

void Direction::on_result(io::Operation& op, int result, std::uint32_t flags) noexcept {
  auto& d = static_cast<Direction&>(op);
  if ((flags & io::kMore) != 0) {
    if (d.head == nullptr) {
      d.table->release(d);  // readiness nobody waits for
      return;
    }
    d.fire(result);
    d.table->reported(d);
    return;
  }
  const bool requested = std::exchange(d.cancel_requested, false);
  if (requested && result == -ECANCELED && d.head != nullptr) {
    try {
      d.table->arm(d);
      return;
    } catch (...) {
      d.fire(-EBUSY);  // the fd got a watch of someone else's meanwhile
    }
  } else if (!requested || result != -ECANCELED) {
    d.fire(report_of(result, d.events));
  }
  d.table->collect();
}

// The table of this thread's hub, made on first use. When the thread ends,
// greenlets still waiting are unwound only later, by the hub's destruction,
// and their nodes must still find the table: it is orphaned, not deleted,
// and deletes itself once nothing refers to it.
thread_local Table* tls_table = nullptr;
thread_local bool tls_table_ended = false;

struct TableReaper {
  ~TableReaper() {
    tls_table_ended = true;
    if (Table* table = std::exchange(tls_table, nullptr)) table->orphan();
  }
};

Table& table_for(Hub& hub) {
  if (tls_table != nullptr && &tls_table->hub() == &hub) [[likely]]
    return *tls_table;
  if (Table* old = std::exchange(tls_table, nullptr)) old->orphan();
  // A thread whose reaper has run gets an orphan, collected when its last
  // waiter leaves.
  auto* table = new Table(hub, tls_table_ended);
  if (tls_table_ended) return *table;
  thread_local TableReaper reaper;
  tls_table = table;
  return *table;
}

// The nodes of one wait, linked by link() and unlinked on every way out.
// Up to kInline of them live on the stack.
class Linked {
 public:
  explicit Linked(Table& table) noexcept : table_(table) {}

  void link(WaitState& state, std::span<const FdInterest> interests) {
    std::size_t count = 0;
    for (const FdInterest& interest : interests)
      count += ((interest.events & kReadable) != 0) + ((interest.events & kWritable) != 0);
    if (count > kInline) {
      heap_ = std::make_unique<Node[]>(count);
      nodes_ = heap_.get();
    }
    for (const FdInterest& interest : interests) {
      for (const std::uint32_t events : {kReadable, kWritable}) {
        if ((interest.events & events) == 0) continue;
        Node& node = nodes_[linked_];
        node.state = &state;
        table_.link(node, table_.direction(interest.fd, events));
        ++linked_;
      }
    }
  }
  ~Linked() {
    for (std::size_t i = 0; i < linked_; ++i)
      if (nodes_[i].direction != nullptr) table_.unlink(nodes_[i]);
  }
  Linked(const Linked&) = delete;
  Linked& operator=(const Linked&) = delete;

 private:
  static constexpr std::size_t kInline = 4;

  Table& table_;
  Node inline_[kInline];
  std::unique_ptr<Node[]> heap_;
  Node* nodes_ = inline_;
  std::size_t linked_ = 0;
};

}  // namespace

int wait_fds(Hub& hub, std::span<const FdInterest> interests, weft::detail::Deadline deadline,
             const char* what) {
  Hub::Impl& impl = Hub::Impl::of(hub);
  GreenletImpl& self = Hub::Impl::running();
  WaitState state;
  state.greenlet = &self;
  Linked linked(table_for(hub));
  linked.link(state, interests);
  while (state.report == kTimedOut) {
    if (!deadline) {
      impl.park(self, what);
    } else if (!impl.park_until(self, what, *deadline)) {
      break;
    }
  }
  return state.report;
}

bool forget_fd(Hub& hub, int fd) noexcept {
  if (tls_table == nullptr || &tls_table->hub() != &hub) return false;
  Table& table = *tls_table;
  FdSlot* slot = table.find(fd);
  if (slot == nullptr) return false;
  for (Direction* d : {&slot->read, &slot->write}) {
    d->fire(kClosed);
    table.release(*d);
  }
  return std::exchange(slot->seen, false);
}

void forsake_table_after_fork() noexcept { tls_table = nullptr; }

}  // namespace weft::green::detail
