// weft/aio/detail/async_generator_promise.hpp — the promise of
// weft::aio::AsyncGenerator and the awaiter of its calls.
//
// An asynchronous generator runs inside the task that awaits one of its
// calls, the way an inline-awaited Task<T> does: the call's awaiter records
// the awaiting coroutine as the continuation and resumes the generator's
// frame with a plain call. A body that yields or ends before that call
// returns hands back to it, and the awaiting coroutine goes on without
// suspending; one that suspended in an await first transfers to the
// continuation when it yields or ends (symmetric transfer). So a loop over
// values that arrive without suspending runs in constant native stack at
// every optimisation level. In between, a co_await in the body suspends
// that task by the ordinary protocol (detail/task_state.hpp) with the
// generator's frame as the place to resume — so the task's cancellation
// reaches the body at that await. A call allocates nothing; the frame comes
// from the same allocator as Task<T> frames (and is counted by
// detail::live_frames()).
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "weft/aio/detail/generator_promise.hpp"
#include "weft/aio/detail/task_state.hpp"
#include "weft/aio/generator_errors.hpp"
#include "weft/errors.hpp"

namespace weft::aio {

template <class Yield, class Send>
class AsyncGenerator;

namespace detail {

template <class Yield, class Send>
class AsyncGeneratorPromise {
 public:
  static void* operator new(std::size_t size) { return allocate_frame(size); }
  static void operator delete(void* frame, std::size_t size) noexcept { free_frame(frame, size); }

  AsyncGeneratorPromise() = default;
  AsyncGeneratorPromise(const AsyncGeneratorPromise&) = delete;
  AsyncGeneratorPromise& operator=(const AsyncGeneratorPromise&) = delete;

  // ---- the coroutine's side

  AsyncGenerator<Yield, Send> get_return_object() noexcept;
  std::suspend_always initial_suspend() const noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<AsyncGeneratorPromise> self) const noexcept {
      return self.promise().hand_back();
    }
    void await_resume() const noexcept {}
  };
  FinalAwaiter final_suspend() const noexcept { return {}; }
  void return_void() const noexcept {}

  // As PEP 479 and PEP 525: a StopAsyncIteration or StopIteration escaping
  // the body becomes a RuntimeError.
  void unhandled_exception() noexcept {
    try {
      throw;
    } catch (const StopAsyncIteration&) {
      exception_ = std::make_exception_ptr(RuntimeError("async generator raised StopAsyncIteration"));
    } catch (const StopIteration&) {
      exception_ = std::make_exception_ptr(RuntimeError("async generator raised StopIteration"));
    } catch (...) {
      exception_ = std::current_exception();
    }
  }

  // What every co_yield evaluates to once resumed: raises the exception
  // thrown in, or gives the value sent in (nullopt for anext()).
  class ResumptionAtYield {
   public:
    explicit ResumptionAtYield(AsyncGeneratorPromise& promise) noexcept : promise_(promise) {}
    bool await_ready() const noexcept { return false; }
    SendResult<Send> await_resume() { return promise_.resumed_at_yield(); }

   protected:
    std::coroutine_handle<> hand_out(Yield& value) noexcept {
      promise_.yielded_ = std::addressof(value);
      return promise_.hand_back();
    }
    AsyncGeneratorPromise& promise_;
  };

  // `co_yield value` of an rvalue: it lives in the body's full-expression
  // across the suspension; the call moves from it.
  class YieldAwaiter : public ResumptionAtYield {
   public:
    YieldAwaiter(AsyncGeneratorPromise& promise, Yield& value) noexcept : ResumptionAtYield(promise), value_(value) {}
    std::coroutine_handle<> await_suspend(std::coroutine_handle<>) noexcept { return this->hand_out(value_); }

   private:
    Yield& value_;
  };

  // `co_yield value` of an lvalue: a copy is handed out, so that the body's
  // variable stays intact.
  class YieldCopyAwaiter : public ResumptionAtYield {
   public:
    YieldCopyAwaiter(AsyncGeneratorPromise& promise, const Yield& value)
        : ResumptionAtYield(promise), copy_(value) {}
    std::coroutine_handle<> await_suspend(std::coroutine_handle<>) noexcept { return this->hand_out(copy_); }

   private:
    Yield copy_;
  };

  YieldAwaiter yield_value(Yield&& value) noexcept { return YieldAwaiter(*this, value); }
  YieldCopyAwaiter yield_value(const Yield& value) noexcept(std::is_nothrow_copy_constructible_v<Yield>)
    requires std::is_copy_constructible_v<Yield>
  {
    return YieldCopyAwaiter(*this, value);
  }

  // ---- the caller's side, used by the awaiter of a call

  bool started() const noexcept { return started_; }
  // From the call that resumes the body until it yields or ends (including
  // while the body is suspended in an await).
  bool running() const noexcept { return running_; }
  bool ended() const noexcept { return ended_unstarted_ || frame().done(); }
  // athrow() or aclose() before the first call: the body never runs.
  void end_unstarted() noexcept { ended_unstarted_ = true; }

  // Runs the body from `caller`, with `sent` as the value of its co_yield
  // or `thrown` raised there, until it yields, ends or suspends in an
  // await. Returns whether `caller` must suspend: only in the last case,
  // and then the body transfers to it when it yields or ends.
  bool enter(std::coroutine_handle<> caller, Send* sent, std::exception_ptr thrown) noexcept {
    continuation_ = caller;
    sent_ = sent;
    thrown_ = std::move(thrown);
    yielded_ = nullptr;
    started_ = running_ = true;
    entering_ = true;
    frame().resume();
    if (!entering_) return false;  // handed back before resume() returned
    entering_ = false;
    return true;
  }

  // After a call returned to its caller: the value yielded, or nullptr if
  // the body ended.
  Yield* yielded() const noexcept { return yielded_; }
  // How the body ended, if by an exception (handed out once).
  std::exception_ptr take_exception() noexcept { return std::exchange(exception_, nullptr); }

  std::coroutine_handle<AsyncGeneratorPromise> frame() const noexcept {
    return std::coroutine_handle<AsyncGeneratorPromise>::from_promise(const_cast<AsyncGeneratorPromise&>(*this));
  }

 private:
  // Where a co_yield or the end of the body goes: back into enter() if it
  // is still running the body, else to the caller that suspended.
  std::coroutine_handle<> hand_back() noexcept {
    running_ = false;
    sent_ = nullptr;
    thrown_ = nullptr;
    std::coroutine_handle<> caller = std::exchange(continuation_, {});
    if (!entering_) return caller;
    entering_ = false;
    return std::noop_coroutine();
  }

  SendResult<Send> resumed_at_yield() {
    if (thrown_) std::rethrow_exception(std::exchange(thrown_, nullptr));
    if constexpr (!std::is_void_v<Send>) {
      if (Send* sent = std::exchange(sent_, nullptr)) return std::optional<Send>(std::move(*sent));
      return std::nullopt;
    }
  }

  std::coroutine_handle<> continuation_;
  Yield* yielded_ = nullptr;
  Send* sent_ = nullptr;
  std::exception_ptr thrown_;
  std::exception_ptr exception_;
  bool started_ = false;
  bool running_ = false;
  bool ended_unstarted_ = false;
  bool entering_ = false;  // enter() is resuming the body
};

// Which call an AsyncGeneratorCall awaiter makes.
enum class AsyncGeneratorOp { anext, try_anext, asend, try_asend, athrow, aclose };

// The awaitable that anext(), asend(), athrow() and aclose() return. It
// refers to the generator's frame, which must outlive it.
template <class Yield, class Send, AsyncGeneratorOp Op>
class [[nodiscard]] AsyncGeneratorCall {
  using Promise = AsyncGeneratorPromise<Yield, Send>;
  static constexpr bool sends = Op == AsyncGeneratorOp::asend || Op == AsyncGeneratorOp::try_asend;
  static constexpr bool tries = Op == AsyncGeneratorOp::try_anext || Op == AsyncGeneratorOp::try_asend;
  struct NothingSent {};
  using Sent = std::conditional_t<sends, Send, NothingSent>;

 public:
  using Result = std::conditional_t<Op == AsyncGeneratorOp::aclose, void,
                                    std::conditional_t<tries || Op == AsyncGeneratorOp::athrow,
                                                       std::optional<Yield>, Yield>>;

  // `promise` is null only for aclose() of an empty generator.
  explicit AsyncGeneratorCall(Promise* promise) noexcept : promise_(promise) {}
  AsyncGeneratorCall(Promise* promise, Sent sent) : promise_(promise), sent_(std::move(sent)) {}
  AsyncGeneratorCall(Promise* promise, std::exception_ptr thrown) noexcept
      : promise_(promise), thrown_(std::move(thrown)) {}
  AsyncGeneratorCall(const AsyncGeneratorCall&) = delete;
  AsyncGeneratorCall& operator=(const AsyncGeneratorCall&) = delete;

  bool await_ready() {
    if (promise_ == nullptr) return true;
    if (promise_->running()) throw RuntimeError(already_running());
    if constexpr (sends) {
      if (!promise_->started() && !promise_->ended())
        throw TypeError("can't send non-None value to a just-started async generator");
    }
    if constexpr (Op == AsyncGeneratorOp::athrow || Op == AsyncGeneratorOp::aclose) {
      if (!promise_->started() && !promise_->ended()) {
        promise_->end_unstarted();
        if constexpr (Op == AsyncGeneratorOp::athrow) std::rethrow_exception(thrown_);
      }
    }
    return promise_->ended();
  }

  bool await_suspend(std::coroutine_handle<> caller) noexcept {
    entered_ = true;
    if constexpr (Op == AsyncGeneratorOp::aclose) thrown_ = closing();
    Send* sent = nullptr;
    if constexpr (sends) sent = std::addressof(sent_);
    return promise_->enter(caller, sent, std::move(thrown_));
  }

  Result await_resume() {
    if (!entered_) return already_ended();
    Yield* yielded = promise_->yielded();
    if constexpr (Op == AsyncGeneratorOp::aclose) {
      if (yielded != nullptr) throw RuntimeError("async generator ignored GeneratorExit");
      if (std::exception_ptr exception = promise_->take_exception(); exception && !is_generator_exit(exception))
        std::rethrow_exception(exception);
    } else {
      if (yielded != nullptr) return Result(std::move(*yielded));
      if (std::exception_ptr exception = promise_->take_exception()) std::rethrow_exception(exception);
      return ended();
    }
  }

 private:
  // The result of a call on a generator that had ended before it: as
  // ended(), but athrow() does nothing and evaluates to nullopt (Python's
  // None, 3.11.7+).
  Result already_ended() const {
    if constexpr (Op == AsyncGeneratorOp::athrow) return std::nullopt;
    else return ended();
  }

  // The result of a call whose body ended without an exception.
  Result ended() const {
    if constexpr (Op == AsyncGeneratorOp::aclose) return;
    else if constexpr (tries) return std::nullopt;
    else throw StopAsyncIteration();
  }

  static const char* already_running() noexcept {
    switch (Op) {
      case AsyncGeneratorOp::athrow: return "athrow(): asynchronous generator is already running";
      case AsyncGeneratorOp::aclose: return "aclose(): asynchronous generator is already running";
      default: return "anext(): asynchronous generator is already running";
    }
  }

  static std::exception_ptr closing() noexcept { return std::make_exception_ptr(GeneratorExit()); }

  Promise* promise_;
  [[no_unique_address]] Sent sent_{};
  std::exception_ptr thrown_;
  bool entered_ = false;
};

}  // namespace detail
}  // namespace weft::aio
