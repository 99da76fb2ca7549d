// src/io/uring_backend.cpp — the completion backend: operations go to the
// kernel through io_uring (liburing) and come back as completions.
//
// Submissions are batched: starting an operation only fills a submission
// queue entry, and the poll phase submits them all and waits for
// completions in one io_uring_enter. Where the kernel has them the ring runs
// with a single issuer and deferred task work (completions are processed
// when the loop asks, in a batch), the ring fd is registered (no fd lookup
// per enter), accepts and receives are multishot, and receives draw from
// provided buffer rings. A watch is a one-shot poll re-armed after each
// report, so it reports while readiness holds, like level-triggered epoll.
#include <liburing.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <csignal>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <system_error>
#include <thread>
#include <vector>

#include "backend.hpp"
#include "weft/errors.hpp"

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace weft::io::detail {
namespace {

// user_data of submissions whose completions nobody waits for (cancels).
constexpr std::uint64_t kIgnored = 0;

// A number no other thread of the process has had, unlike a
// std::thread::id, which a new thread may reuse once another has ended.
std::uint64_t this_thread_serial() noexcept {
  static std::atomic<std::uint64_t> last{0};
  thread_local const std::uint64_t serial = last.fetch_add(1, std::memory_order_relaxed) + 1;
  return serial;
}

[[noreturn]] void throw_error(int error, const char* what) {
  throw std::system_error(error, std::generic_category(), what);
}

bool kernel_at_least(int major, int minor) noexcept {
  utsname name{};
  if (::uname(&name) != 0) return false;
  int have_major = 0, have_minor = 0;
  if (std::sscanf(name.release, "%d.%d", &have_major, &have_minor) != 2) return false;
  return have_major > major || (have_major == major && have_minor >= minor);
}

// liburing maps and unmaps its rings with raw system calls, which
// ThreadSanitizer does not see: a ring mapped where another thread's ring
// was unmapped would look like a race with the old ring's accesses. The
// unmapping happens before any later mapping of the address; say so.
#if defined(__SANITIZE_THREAD__)
char ring_memory_handover;
void ring_mapped() noexcept { __tsan_acquire(&ring_memory_handover); }
void ring_unmapping() noexcept { __tsan_release(&ring_memory_handover); }
#else
void ring_mapped() noexcept {}
void ring_unmapping() noexcept {}
#endif

// liburing 2.3 declares io_uring_enable_rings but does not export it.
int enable_rings(io_uring& ring) noexcept {
  const long rc = ::syscall(__NR_io_uring_register, ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0);
  return rc < 0 ? -errno : 0;
}

bool forbidden_by_configuration() noexcept {
  if (const char* setting = std::getenv("WEFT_IO_URING"); setting != nullptr && std::strcmp(setting, "0") == 0)
    return true;
  // 1: only a privileged group may; 2: nobody may.
  if (std::FILE* file = std::fopen("/proc/sys/kernel/io_uring_disabled", "r")) {
    int disabled = 0;
    const bool read = std::fscanf(file, "%d", &disabled) == 1;
    std::fclose(file);
    if (read && disabled == 2) return true;
  }
  return false;
}

bool probe_here() noexcept {
  io_uring ring{};
  if (io_uring_queue_init(4, &ring, 0) < 0) return false;
  bool usable = (ring.features & IORING_FEAT_EXT_ARG) != 0;
  if (io_uring_probe* probe = io_uring_get_probe_ring(&ring)) {
    for (int op : {IORING_OP_ACCEPT, IORING_OP_CONNECT, IORING_OP_RECV, IORING_OP_SEND,
                   IORING_OP_POLL_ADD, IORING_OP_ASYNC_CANCEL, IORING_OP_READ})
      usable = usable && io_uring_opcode_supported(probe, op);
    io_uring_free_probe(probe);
  } else {
    usable = false;
  }
  io_uring_queue_exit(&ring);
  return usable;
}

// Whether this kernel has what the backend needs, asked of a throwaway ring
// on a thread of its own: tearing a ring down sends its creator task work
// that interrupts the creator's next blocking system call with a timeout
// (EINTR from an accept with SO_RCVTIMEO), which the probing program must
// not see.
bool probe() noexcept {
  // Multishot receive and provided buffer rings arrived in 6.0.
  if (!kernel_at_least(6, 0)) return false;
  bool usable = false;
  try {
    std::thread([&usable] { usable = probe_here(); }).join();
  } catch (const std::system_error&) {
    usable = probe_here();  // no thread to spare: ask here
  }
  return usable;
}

class UringPool final : public BufferPool {
 public:
  UringPool(const BackendBase& owner, io_uring& ring, std::uint16_t group, std::uint16_t count,
            std::uint32_t size)
      : BufferPool(group, count, size), owner_(owner), ring_(ring) {
    // The ring's size is a power of two; it never holds more than `count`.
    const unsigned entries = std::bit_ceil(unsigned{count});
    bytes_ = sizeof(io_uring_buf) * entries;
    void* memory = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (memory == MAP_FAILED) throw_error(errno, "mmap of a buffer ring");
    ring_buffers_ = static_cast<io_uring_buf_ring*>(memory);
    io_uring_buf_ring_init(ring_buffers_);
    io_uring_buf_reg registration{};
    registration.ring_addr = reinterpret_cast<std::uint64_t>(ring_buffers_);
    registration.ring_entries = entries;
    registration.bgid = group;
    if (const int rc = io_uring_register_buf_ring(&ring_, &registration, 0); rc < 0) {
      ::munmap(ring_buffers_, bytes_);
      throw_error(-rc, "io_uring_register_buf_ring");
    }
    mask_ = io_uring_buf_ring_mask(entries);
    for (std::uint16_t id = 0; id < count; ++id)
      io_uring_buf_ring_add(ring_buffers_, buffer(id).data(), size, id, mask_, id);
    io_uring_buf_ring_advance(ring_buffers_, count);
  }

  ~UringPool() override {
    if (!owner_.in_forked_child()) io_uring_unregister_buf_ring(&ring_, group());
    ::munmap(ring_buffers_, bytes_);
  }

  void release(std::uint16_t id) noexcept override {
    io_uring_buf_ring_add(ring_buffers_, buffer(id).data(), buffer_size(), id, mask_, 0);
    io_uring_buf_ring_advance(ring_buffers_, 1);
  }

 private:
  const BackendBase& owner_;
  io_uring& ring_;
  io_uring_buf_ring* ring_buffers_ = nullptr;
  std::size_t bytes_ = 0;
  int mask_ = 0;
};

}  // namespace

bool uring_usable() noexcept {
  static const bool kernel_has_it = probe();
  return kernel_has_it && !forbidden_by_configuration();
}

class UringBackend final : public BackendBase {
 public:
  // Throws std::system_error if the ring cannot be created.
  UringBackend(unsigned entries, unsigned batch, std::chrono::microseconds batch_wait)
      : batch_(std::max(batch, 1u)), batch_wait_us_(static_cast<unsigned>(batch_wait.count())) {
    io_uring_params params{};
    params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN |
                   IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED;
    params.cq_entries = entries * 4;
    int rc = io_uring_queue_init_params(entries, &ring_, &params);
    if (rc < 0) {  // an older kernel: without single issuer and deferred task work
      params = {};
      params.flags = IORING_SETUP_CQSIZE;
      params.cq_entries = entries * 4;
      rc = io_uring_queue_init_params(entries, &ring_, &params);
    }
    if (rc < 0) throw_error(-rc, "io_uring_queue_init");
    ring_mapped();
    disabled_ = (params.flags & IORING_SETUP_R_DISABLED) != 0;
    if ((ring_.features & kFeatureMinTimeout) == 0) batch_wait_us_ = 0;
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) {
      const int error = errno;
      io_uring_queue_exit(&ring_);
      throw_error(error, "eventfd");
    }
    arm_wake();
  }

  ~UringBackend() override {
    ring_unmapping();
    io_uring_queue_exit(&ring_);
    ::close(wake_fd_);
  }

  void start(Operation& op) override {
    check_process();
    io_uring_sqe* sqe = next_sqe();
    switch (op.kind_) {
      case OpKind::accept:
        io_uring_prep_accept(sqe, op.fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        break;
      case OpKind::accept_multishot:
        io_uring_prep_multishot_accept(sqe, op.fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        break;
      case OpKind::connect:
        io_uring_prep_connect(sqe, op.fd_, op.address_, op.address_length_);
        break;
      case OpKind::recv:
        io_uring_prep_recv(sqe, op.fd_, op.buffer_, sqe_length(op.length_), 0);
        break;
      case OpKind::recv_multishot:
        io_uring_prep_recv_multishot(sqe, op.fd_, nullptr, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = op.pool_;
        break;
      case OpKind::send:
        io_uring_prep_send(sqe, op.fd_, op.buffer_, sqe_length(op.length_), static_cast<int>(op.events_) | MSG_NOSIGNAL);
        break;
      case OpKind::watch:
        io_uring_prep_poll_add(sqe, op.fd_, op.events_);
        break;
    }
    io_uring_sqe_set_data(sqe, &op);
    started(op);
    op.forget_epoch_ = forget_epoch_;
  }

  void cancel(Operation& op) noexcept override {
    if (!op.pending_ || op.cancelling_ || in_forked_child()) return;
    op.cancelling_ = true;
    if (&op == rearming_) return;  // cancelled by its own handler: not re-armed, finished there
    io_uring_sqe* sqe = try_next_sqe();
    if (sqe == nullptr) return;
    io_uring_prep_cancel64(sqe, reinterpret_cast<std::uint64_t>(&op), 0);
    io_uring_sqe_set_data64(sqe, kIgnored);
  }

  void forget(int fd) noexcept override {
    if (in_forked_child()) return;  // the ring is the parent's: its operations stay
    // Watches on it that already completed — their results reaped and not
    // yet handled, or a handler running — must not run or re-arm either.
    if (static_cast<std::size_t>(fd) >= forgotten_at_.size()) forgotten_at_.resize(static_cast<std::size_t>(fd) + 1, 0);
    forgotten_at_[static_cast<std::size_t>(fd)] = ++forget_epoch_;
    // Off the ring's thread nothing may be submitted (the kernel refuses
    // another issuer, or that thread's registered ring fd names another
    // ring): the cancellation waits for the ring's next turn, and its
    // operations hold the file until then, or until the ring's teardown.
    const bool ring_thread = runs_on_this_thread();
    io_uring_sqe* sqe = ring_thread ? try_next_sqe() : io_uring_get_sqe(&ring_);
    if (sqe == nullptr) return;
    io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
    io_uring_sqe_set_data64(sqe, kIgnored);
    // Before the ring's first turn nothing has been submitted, so the kernel
    // holds no reference to the file: the cancellation goes with the first
    // submission, and the ring stays free for the thread that runs the loop.
    if (!enabled_ || !ring_thread) return;
    // The file must not outlive close(), even if the loop never polls again:
    // submit the cancellation and run the task work that ends the cancelled
    // operations and drops their hold on the file, which a ring with
    // deferred task work runs only when its thread asks for completions.
    // Their completions wait in the queue for the next poll.
    int rc;
    do rc = io_uring_submit_and_get_events(&ring_);
    while (rc == -EINTR);
  }

  std::unique_ptr<BufferPool> create_pool(std::uint16_t group, std::uint16_t count,
                                          std::uint32_t size) override {
    check_process();
    enable();
    auto pool = std::make_unique<UringPool>(*this, ring_, group, count, size);
    if (pools_.size() <= group) pools_.resize(group + 1u, nullptr);
    pools_[group] = pool.get();
    return pool;
  }

  void poll(Timeout timeout) override {
    check_process();
    enable();
    io_uring_cqe* cqe = nullptr;
    int rc;
    if (timeout && timeout->count() == 0) {
      rc = io_uring_submit_and_get_events(&ring_);
    } else {
      __kernel_timespec ts{};
      if (timeout) {
        ts.tv_sec = timeout->count() / 1'000'000'000;
        ts.tv_nsec = timeout->count() % 1'000'000'000;
      }
      if (batch_wait_us_ > 0 && batch_ > 1) {
        // The kernel ends a wait without a timeout of its own as soon as
        // the minimum wait is over, completions or not: an unbounded wait
        // would come back every batch_wait_us_. It gets a long timeout
        // instead (the loop polls again when it expires).
        if (!timeout) ts.tv_sec = kLongestBatchedWait.count();
        rc = submit_and_wait_batch(&ts);
      } else {
        rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, timeout ? &ts : nullptr, nullptr);
      }
    }
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN)
      throw_error(-rc, "io_uring_enter");
    reap();
    deliver_ready();
  }

  void wake() noexcept override {
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }

  // The ring belongs to the thread that enabled it (see enable()): another
  // thread's io_uring_enter would be refused, or name another ring through
  // that thread's registered ring fds.
  bool runs_on_this_thread() const noexcept override { return !enabled_ || thread_ == this_thread_serial(); }

 private:
  struct Completion {
    std::uint64_t user_data;
    std::int32_t result;
    std::uint32_t flags;
  };

  static void on_wake(Operation&, int, std::uint32_t) noexcept {}

  static constexpr std::chrono::seconds kLongestBatchedWait{3600};

  // io_uring_enter with the kernel's minimum-wait batching, which liburing
  // 2.3 cannot ask for: publish the prepared submissions (as liburing's
  // flush does), then wait for batch_ completions for up to batch_wait_us_,
  // and after that for any one, until `ts`. Returns what io_uring_enter did.
  int submit_and_wait_batch(const __kernel_timespec* ts) noexcept {
    io_uring_sq& sq = ring_.sq;
    const unsigned tail = sq.sqe_tail;
    if (sq.sqe_head != tail) {
      sq.sqe_head = tail;
      io_uring_smp_store_release(sq.ktail, tail);
    }
    const unsigned to_submit = tail - io_uring_smp_load_acquire(sq.khead);
    io_uring_getevents_arg arg{};
    arg.sigmask_sz = _NSIG / 8;
    arg.pad = batch_wait_us_;  // min_wait_usec in kernels that know it
    arg.ts = reinterpret_cast<std::uint64_t>(ts);
    unsigned flags = IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG;
    if (registered_ring_) flags |= IORING_ENTER_REGISTERED_RING;
    const long rc = ::syscall(__NR_io_uring_enter, ring_.enter_ring_fd, to_submit, batch_, flags, &arg, sizeof arg);
    return rc < 0 ? -errno : static_cast<int>(rc);
  }

  // A ring created disabled (single issuer) belongs to the thread enabling
  // it, and a registered ring fd serves only the thread registering it:
  // both happen on the loop's thread, at its first poll (a loop may be
  // created on one thread and run on another), and tie the loop to that
  // thread for good (runs_on_this_thread()).
  void enable() {
    if (const int rc = try_enable(); rc < 0) throw_error(-rc, "io_uring_enable_rings");
  }
  // The same without throwing: 0, or -errno.
  int try_enable() noexcept {
    if (enabled_) return 0;
    if (disabled_) {
      if (const int rc = enable_rings(ring_); rc < 0) return rc;
      disabled_ = false;
    }
    registered_ring_ = io_uring_register_ring_fd(&ring_) == 1;
    enabled_ = true;
    thread_ = this_thread_serial();
    return 0;
  }

  // Without room for it (the kernel refusing submissions, which the next
  // poll reports) wake() wakes nothing.
  void arm_wake() noexcept {
    io_uring_sqe* sqe = try_next_sqe();
    if (sqe == nullptr) return;
    io_uring_prep_read(sqe, wake_fd_, &wake_count_, sizeof wake_count_, 0);
    io_uring_sqe_set_data(sqe, &wake_op_);
  }

  // A free submission queue entry, submitting the queued ones to make room.
  // Throws std::system_error if the kernel refuses them.
  io_uring_sqe* next_sqe() {
    int error = 0;
    io_uring_sqe* sqe = try_next_sqe(&error);
    if (sqe == nullptr) throw_error(-error, "io_uring_enter");
    return sqe;
  }
  // The same without throwing: null (and -errno in *error) if refused.
  io_uring_sqe* try_next_sqe(int* error = nullptr) noexcept {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    while (sqe == nullptr) {
      if (const int rc = submit(); rc < 0) {
        if (error != nullptr) *error = rc;
        return nullptr;
      }
      sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

  // Submits the queued entries: 0, or -errno if the kernel refuses them for
  // good (a full completion queue is reaped and counts as progress).
  int submit() noexcept {
    // Before the loop's first poll nothing can be submitted yet; make room
    // by enabling the ring on this (the loop's) thread.
    if (const int rc = try_enable(); rc < 0) return rc;
    int rc;
    do rc = io_uring_submit(&ring_);
    while (rc == -EINTR);
    if (rc == -EBUSY) {
      reap();
      return 0;
    }
    return rc == -EAGAIN ? 0 : std::min(rc, 0);
  }

  void reap() {
    // Copy a batch out first: handlers may submit, and the completion queue
    // must not fill while they run.
    for (int round = 0; round < 64; ++round) {
      std::array<io_uring_cqe*, 256> batch;
      std::array<Completion, 256> completions;
      const unsigned n = io_uring_peek_batch_cqe(&ring_, batch.data(), static_cast<unsigned>(batch.size()));
      if (n == 0) return;
      for (unsigned i = 0; i < n; ++i)
        completions[i] = {batch[i]->user_data, batch[i]->res, batch[i]->flags};
      io_uring_cq_advance(&ring_, n);
      for (unsigned i = 0; i < n; ++i) handle(completions[i]);
      if (n < batch.size()) return;
    }
  }

  void handle(const Completion& completion) {
    if (completion.user_data == kIgnored) return;
    auto* op = reinterpret_cast<Operation*>(completion.user_data);
    if (op == &wake_op_) {
      arm_wake();
      return;
    }
    const bool more = (completion.flags & IORING_CQE_F_MORE) != 0;
    const std::uint32_t buffer_flags =
        (completion.flags & IORING_CQE_F_BUFFER) != 0
            ? (kBuffer | ((completion.flags >> IORING_CQE_BUFFER_SHIFT) << 16))
            : 0;
    if (op->kind_ == OpKind::watch) {
      const bool withdrawn = op->cancelling_ || forgotten(*op);
      if (withdrawn || completion.result < 0) {
        finish(*op, withdrawn ? -ECANCELED : completion.result);
        return;
      }
      rearming_ = op;
      op->complete(completion.result, kMore);
      rearming_ = nullptr;
      if (op->cancelling_ || forgotten(*op)) {
        finish_later(*op, -ECANCELED);
        return;
      }
      int error = 0;
      io_uring_sqe* sqe = try_next_sqe(&error);
      if (sqe == nullptr) {
        finish_later(*op, error);
        return;
      }
      io_uring_prep_poll_add(sqe, op->fd_, op->events_);
      io_uring_sqe_set_data(sqe, op);
      return;
    }
    if (more) {
      // Its fd closed: the handler hears only the final result. A cancelled
      // one still hears these: the kernel took the bytes or the connection
      // from the socket, and dropping them would lose them.
      if (forgotten(*op)) discard(*op, completion.result, buffer_flags);
      else op->complete(completion.result, buffer_flags | kMore);
      return;
    }
    finish(*op, completion.result, buffer_flags);
  }

  // Gives back what a multishot result nobody hears holds: its pool buffer
  // or the accepted descriptor.
  void discard(const Operation& op, int result, std::uint32_t buffer_flags) noexcept {
    if ((buffer_flags & kBuffer) != 0) pools_[op.pool_]->release(buffer_id(buffer_flags));
    else if (op.kind_ == OpKind::accept_multishot && result >= 0) ::close(result);
  }

  // Whether Loop::close forgot op's descriptor after op started.
  bool forgotten(const Operation& op) const noexcept {
    const auto fd = static_cast<std::size_t>(op.fd_);
    return fd < forgotten_at_.size() && forgotten_at_[fd] > op.forget_epoch_;
  }

  // An SQE's length field has 32 bits: a longer buffer moves in parts, as
  // a partial recv or send may.
  static unsigned sqe_length(std::size_t length) noexcept {
    return static_cast<unsigned>(std::min<std::size_t>(length, INT_MAX));
  }

  // IORING_FEAT_MIN_TIMEOUT, newer than liburing 2.3's header.
  static constexpr unsigned kFeatureMinTimeout = 1u << 15;

  io_uring ring_{};
  unsigned batch_;
  unsigned batch_wait_us_;
  bool registered_ring_ = false;
  bool disabled_ = false;
  bool enabled_ = false;
  std::uint64_t thread_ = 0;  // this_thread_serial() of the thread that enabled the ring
  int wake_fd_ = -1;
  std::uint64_t wake_count_ = 0;
  Operation wake_op_{&on_wake};
  Operation* rearming_ = nullptr;  // the watch whose handler is running
  // forget() calls counted, and the count at each descriptor's last one.
  std::uint64_t forget_epoch_ = 0;
  std::vector<std::uint64_t> forgotten_at_;
  std::vector<UringPool*> pools_;  // by group; they last as long as the loop
};

std::unique_ptr<Backend> make_uring_backend(unsigned entries, unsigned batch,
                                            std::chrono::microseconds batch_wait) {
  if (!uring_usable()) return nullptr;
  try {
    return std::make_unique<UringBackend>(entries, batch, batch_wait);
  } catch (const std::system_error&) {
    return nullptr;
  }
}

}  // namespace weft::io::detail
