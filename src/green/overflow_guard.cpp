// The greenlets' SIGSEGV handler and each thread's alternate signal stack.
#include "overflow_guard.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <system_error>

namespace weft::green::detail {

namespace {

struct sigaction previous_action;

void write_text(const char* text) noexcept {
  std::size_t left = std::strlen(text);
  while (left > 0) {
    const ssize_t written = ::write(STDERR_FILENO, text, left);
    if (written <= 0) return;
    text += written;
    left -= static_cast<std::size_t>(written);
  }
}

void write_number(std::uint64_t value) noexcept {
  char digits[24];
  char* at = digits + sizeof digits;
  *--at = '\0';
  do {
    *--at = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  write_text(at);
}

void on_segv(int signal, siginfo_t* info, void* context) {
  // Null on a thread without greenlets (switch_thread is never null).
  if (GreenletImpl* const current = switch_thread->current; current != nullptr) {
    const OverflowInfo& running = core_of(current).overflow_info_;
    if (running.stack != nullptr && running.stack->overflowed_at(info->si_addr)) {
      report_overflow(*running.name, *running.stack);
    }
  }
  // Not ours: what was there before.
  if (previous_action.sa_flags & SA_SIGINFO) {
    previous_action.sa_sigaction(signal, info, context);
    return;
  }
  if (previous_action.sa_handler == SIG_IGN) return;
  if (previous_action.sa_handler != SIG_DFL) {
    previous_action.sa_handler(signal);
    return;
  }
  // The default action: returning re-executes the fault without us.
  struct sigaction fallback {};
  fallback.sa_handler = SIG_DFL;
  ::sigaction(SIGSEGV, &fallback, nullptr);
}

void install_handler() {
  struct sigaction action {};
  action.sa_sigaction = on_segv;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  if (::sigaction(SIGSEGV, &action, &previous_action) != 0) {
    throw std::system_error(errno, std::generic_category(), "sigaction(SIGSEGV)");
  }
}

// The thread's alternate signal stack, unless it already had one.
class AltStack {
 public:
  AltStack() {
    stack_t current{};
    if (::sigaltstack(nullptr, &current) == 0 && !(current.ss_flags & SS_DISABLE)) return;
    size_ = 64 * 1024;
    memory_ = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory_ == MAP_FAILED) {
      memory_ = nullptr;
      throw std::system_error(errno, std::generic_category(), "mmap(signal stack)");
    }
    stack_t stack{};
    stack.ss_sp = memory_;
    stack.ss_size = size_;
    if (::sigaltstack(&stack, nullptr) != 0) {
      const int error = errno;
      ::munmap(memory_, size_);
      memory_ = nullptr;
      throw std::system_error(error, std::generic_category(), "sigaltstack");
    }
  }
  ~AltStack() {
    if (memory_ == nullptr) return;
    stack_t disable{};
    disable.ss_flags = SS_DISABLE;
    ::sigaltstack(&disable, nullptr);
    ::munmap(memory_, size_);
  }
  AltStack(const AltStack&) = delete;
  AltStack& operator=(const AltStack&) = delete;

 private:
  void* memory_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace

void guard_this_thread() {
  static std::once_flag installed;
  std::call_once(installed, install_handler);
  thread_local AltStack alt_stack;
}

void report_overflow(const GreenletName& name, const Stack& stack) noexcept {
  write_text("weft: stack overflow in greenlet ");
  if (name.text.empty()) {
    write_text("greenlet-");
    write_number(name.serial);
  } else {
    write_text(name.text.c_str());
  }
  write_text(" (stack of ");
  write_number(stack.size);
  write_text(stack.guarded ? " bytes, guard page hit)\n" : " bytes, canary overwritten)\n");
  std::abort();
}

}  // namespace weft::green::detail
