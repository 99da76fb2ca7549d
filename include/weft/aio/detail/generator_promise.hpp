// weft/aio/detail/generator_promise.hpp — the promise of
// weft::aio::Generator and the machinery of yield-from delegation.
//
// Generators delegating to one another (`co_yield yield_from(inner)`) form a
// chain. The outermost one, which its owner drives, is the root; the one
// whose body runs, or is suspended at a plain co_yield, is the leaf. Every
// promise knows the root and its parent (the generator delegating to it);
// the root knows the leaf. Each call from outside resumes the leaf directly,
// so it costs O(1) however deep the chain is. Control moves between the
// generators of a chain through the root's advance() loop, a trampoline:
// a delegation that starts makes its delegate's leaf the root's leaf, a
// delegate that ends makes its parent the leaf, and each suspends back to
// the loop, which resumes the new leaf — O(1) work and no native stack per
// level, whatever the compiler's optimisation level. (Symmetric transfer
// would do the same only where GCC turns it into a tail call: not at -O0 or
// -O1, nor under AddressSanitizer.) The root also holds what the call in
// progress carries: the value sent in, the exception thrown in, and the
// value yielded out.
//
// Ownership: a Generator owns the root's frame. A delegate's frame belongs
// to the Delegation in its parent's co_yield until the delegation starts,
// then to the chain: the parent destroys it when the delegation ends, and
// the root's destroy() destroys a suspended chain leaf first (iteratively,
// whatever its depth).
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "weft/aio/generator_errors.hpp"
#include "weft/aio/none.hpp"
#include "weft/errors.hpp"

namespace weft::aio {

template <class Yield, class Send, class Return>
class Generator;
template <class Yield, class Send, class Return>
struct YieldFrom;

namespace detail {

template <class Yield, class Send, class Return>
class Delegation;

// What `co_yield` evaluates to in a generator's body: nothing when the
// generator takes no sent values; otherwise the value send() passed, or
// nullopt when next() resumed the body (Python's None).
template <class Send>
using SendResult = std::conditional_t<std::is_void_v<Send>, void, std::optional<Send>>;

// What a co_yield hands out: the Yield, or None when Yield is void.
template <class Yield>
using Yielded = std::conditional_t<std::is_void_v<Yield>, NoneType, Yield>;

inline bool is_generator_exit(const std::exception_ptr& exception) noexcept {
  try {
    std::rethrow_exception(exception);
  } catch (const GeneratorExit&) {
    return true;
  } catch (...) {
    return false;
  }
}

// The part of the promise that does not depend on the Return type, so that
// generators with different Return types can delegate to one another.
template <class Yield, class Send>
class GeneratorPromiseBase {
 public:
  using Value = Yielded<Yield>;

  GeneratorPromiseBase() = default;
  GeneratorPromiseBase(const GeneratorPromiseBase&) = delete;
  GeneratorPromiseBase& operator=(const GeneratorPromiseBase&) = delete;

  // ---- the coroutine's side

  std::suspend_always initial_suspend() const noexcept { return {}; }

  // Hands control back to the root's advance(): to resume the delegating
  // parent, if there is one, or to return to the root's caller.
  class FinalAwaiter {
   public:
    explicit FinalAwaiter(GeneratorPromiseBase& promise) noexcept : promise_(promise) {}
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<>) const noexcept {
      if (promise_.parent_ != nullptr) promise_.root_->leaf_ = promise_.parent_;
    }
    void await_resume() const noexcept {}

   private:
    GeneratorPromiseBase& promise_;
  };
  FinalAwaiter final_suspend() noexcept { return FinalAwaiter(*this); }

  // PEP 479: a StopIteration escaping the body becomes a RuntimeError.
  void unhandled_exception() noexcept {
    try {
      throw;
    } catch (const StopIteration&) {
      exception_ = std::make_exception_ptr(RuntimeError("generator raised StopIteration"));
    } catch (...) {
      exception_ = std::current_exception();
    }
  }

  // A generator's body cannot co_await (Python: 'await' outside async
  // function); it suspends only at co_yield.
  template <class Awaitable>
  void await_transform(Awaitable&&) = delete;

  // What every co_yield evaluates to once the generator is resumed: raises
  // the exception thrown in, or gives the value sent in.
  class ResumptionAtYield {
   public:
    explicit ResumptionAtYield(GeneratorPromiseBase& promise) noexcept : promise_(promise) {}
    bool await_ready() const noexcept { return false; }
    SendResult<Send> await_resume() { return promise_.resumed_at_yield(); }

   protected:
    GeneratorPromiseBase& promise_;
  };

  // `co_yield value` where value is an rvalue: it lives in the body's
  // full-expression across the suspension, so only its address is handed
  // out, and next() moves from it.
  class YieldAwaiter : public ResumptionAtYield {
   public:
    YieldAwaiter(GeneratorPromiseBase& promise, Value& value) noexcept
        : ResumptionAtYield(promise), value_(value) {}
    void await_suspend(std::coroutine_handle<>) const noexcept { this->promise_.root_->yielded_ = &value_; }

   private:
    Value& value_;
  };

  // `co_yield value` where value is an lvalue: a copy is handed out, so that
  // next() moving from it leaves the body's variable intact.
  class YieldCopyAwaiter : public ResumptionAtYield {
   public:
    YieldCopyAwaiter(GeneratorPromiseBase& promise, const Value& value)
        : ResumptionAtYield(promise), copy_(value) {}
    void await_suspend(std::coroutine_handle<>) noexcept { this->promise_.root_->yielded_ = &copy_; }

   private:
    Value copy_;
  };

  YieldAwaiter yield_value(Value&& value) noexcept { return YieldAwaiter(*this, value); }
  YieldCopyAwaiter yield_value(const Value& value) noexcept(std::is_nothrow_copy_constructible_v<Value>)
    requires std::is_copy_constructible_v<Value>
  {
    return YieldCopyAwaiter(*this, value);
  }
  template <class Return>
  Delegation<Yield, Send, Return> yield_value(YieldFrom<Yield, Send, Return>&& from) noexcept {
    return Delegation<Yield, Send, Return>(*this, std::move(from.generator));
  }

  // ---- the root's side, used by Generator

  bool started() const noexcept { return started_; }
  bool running() const noexcept { return running_; }
  bool ended() const noexcept { return ended_unstarted_ || self_.done(); }

  void check_not_running() const {
    if (running_) throw ValueError("generator already executing");
  }

  // close() or throw_() before the first next(): the body never runs.
  void end_unstarted() noexcept { ended_unstarted_ = true; }

  // Resumes the leaf with `sent` as the value of its co_yield, or with
  // `thrown` raised there, until a body yields (returns true) or the root's
  // body ends (returns false). Throws ValueError if the generator is
  // already executing; an exception ending the root's body propagates with
  // its type. An ended generator returns false at once.
  bool advance(Send* sent, std::exception_ptr thrown) {
    check_not_running();
    if (ended()) return false;
    sent_ = sent;
    thrown_is_generator_exit_ = thrown && is_generator_exit(thrown);
    thrown_ = std::move(thrown);
    yielded_ = nullptr;
    started_ = running_ = true;
    struct EndOfCall {
      GeneratorPromiseBase& root;
      ~EndOfCall() {
        root.running_ = false;
        root.sent_ = nullptr;
        root.thrown_ = nullptr;
        if (root.thrown_is_generator_exit_) root.forget_closed_delegates();
      }
    } end_of_call{*this};
    do {
      leaf_->self_.resume();
    } while (yielded_ == nullptr && !self_.done());
    if (yielded_ != nullptr) return true;
    if (exception_) std::rethrow_exception(std::exchange(exception_, nullptr));
    return false;
  }

  // The value the last advance() that returned true yielded.
  Value& yielded() const noexcept { return *yielded_; }

  // Destroys the frames of the whole chain, leaf first, without resuming
  // them: the destructors of their live locals run.
  void destroy() noexcept {
    GeneratorPromiseBase* node = leaf_;
    while (node != this) {
      GeneratorPromiseBase* parent = node->parent_;
      node->self_.destroy();
      node = parent;
    }
    self_.destroy();
  }

  // ---- the delegation's side

  // Makes `inner` (started or not) the delegate of this generator: inner's
  // own leaf becomes the leaf of this generator's chain.
  void delegate_to(GeneratorPromiseBase& inner) noexcept {
    inner.parent_ = this;
    inner.started_ = true;
    GeneratorPromiseBase* leaf = inner.leaf_;
    for (GeneratorPromiseBase* node = leaf;; node = node->parent_) {
      node->root_ = root_;
      if (node == &inner) break;
    }
    root_->leaf_ = leaf;
  }

  // Whether GeneratorExit was thrown into this generator's delegate
  // (PEP 380: the delegating generator then raises GeneratorExit itself
  // when the delegate returns). Reading it resets it.
  bool take_delegate_closed() noexcept { return std::exchange(delegate_closed_, false); }

  // How the body ended, if by an exception (not yet rethrown).
  std::exception_ptr take_exception() noexcept { return std::exchange(exception_, nullptr); }

 protected:
  void set_frame(std::coroutine_handle<> self) noexcept { self_ = self; }

 private:
  // After a GeneratorExit was thrown in and the call yielded anyway (a
  // delegate ignored it): the generators still delegating must not raise
  // GeneratorExit when their delegates return later.
  void forget_closed_delegates() noexcept {
    for (GeneratorPromiseBase* node = leaf_; node != nullptr; node = node->parent_) node->delegate_closed_ = false;
  }

  SendResult<Send> resumed_at_yield() {
    GeneratorPromiseBase& root = *root_;
    if (root.thrown_) {
      if (root.thrown_is_generator_exit_) {
        for (GeneratorPromiseBase* node = parent_; node != nullptr; node = node->parent_) node->delegate_closed_ = true;
      }
      std::rethrow_exception(std::exchange(root.thrown_, nullptr));
    }
    if constexpr (!std::is_void_v<Send>) {
      if (Send* sent = std::exchange(root.sent_, nullptr)) return std::optional<Send>(std::move(*sent));
      return std::nullopt;
    }
  }

  std::coroutine_handle<> self_;
  GeneratorPromiseBase* root_ = this;
  GeneratorPromiseBase* parent_ = nullptr;
  GeneratorPromiseBase* leaf_ = this;  // meaningful on the root only
  std::exception_ptr exception_;       // how the body ended, until taken
  bool delegate_closed_ = false;

  // The call in progress; on the root only.
  Value* yielded_ = nullptr;
  Send* sent_ = nullptr;
  std::exception_ptr thrown_;
  bool thrown_is_generator_exit_ = false;
  bool started_ = false;
  bool running_ = false;
  bool ended_unstarted_ = false;
};

// Where the body's `co_return` puts the return value until the caller takes
// it (StopIteration.value, or the value of `co_yield yield_from(...)`).
template <class Return>
class ReturnSlot {
 public:
  void return_value(Return value) { value_.emplace(std::move(value)); }

  Return take_return_value() {
    Return value = std::move(*value_);
    value_.reset();
    return value;
  }
  void discard_return_value() noexcept { value_.reset(); }

  // Throws the StopIteration reporting the end: with the return value if it
  // has not been taken yet.
  [[noreturn]] void raise_stop_iteration() {
    if (value_) throw StopIterationWithValue<Return>(take_return_value());
    throw StopIteration();
  }

 private:
  std::optional<Return> value_;
};

template <>
class ReturnSlot<void> {
 public:
  void return_void() const noexcept {}
  void take_return_value() const noexcept {}
  void discard_return_value() const noexcept {}
  [[noreturn]] void raise_stop_iteration() const { throw StopIteration(); }
};

template <class Yield, class Send, class Return>
class GeneratorPromise final : public GeneratorPromiseBase<Yield, Send>, public ReturnSlot<Return> {
 public:
  Generator<Yield, Send, Return> get_return_object() noexcept {
    auto self = std::coroutine_handle<GeneratorPromise>::from_promise(*this);
    this->set_frame(self);
    return Generator<Yield, Send, Return>(self);
  }
};

// The awaiter of `co_yield yield_from(inner)`: runs `inner` as the delegate
// of the generator whose body yields it, and evaluates to inner's return
// value.
template <class Yield, class Send, class Return>
class Delegation {
 public:
  Delegation(GeneratorPromiseBase<Yield, Send>& outer, Generator<Yield, Send, Return> inner) noexcept
      : outer_(outer), inner_(std::move(inner)) {}

  bool await_ready() const noexcept { return inner_.frame_.promise().ended(); }

  void await_suspend(std::coroutine_handle<>) noexcept {
    delegate_ = std::exchange(inner_.frame_, {});
    outer_.delegate_to(delegate_.promise());
  }

  Return await_resume() {
    if (!delegate_) return result_of_ended_generator();
    const auto delegate = std::exchange(delegate_, {});
    struct DestroyAtExit {
      std::coroutine_handle<> frame;
      ~DestroyAtExit() { frame.destroy(); }
    } destroy_at_exit{delegate};
    auto& inner = delegate.promise();
    const bool closed = outer_.take_delegate_closed();
    if (std::exception_ptr exception = inner.take_exception()) std::rethrow_exception(exception);
    if (closed) throw GeneratorExit();
    return inner.take_return_value();
  }

 private:
  // Python's `yield from` of an exhausted generator evaluates to None at
  // once; C++ has a None only for Return = void.
  Return result_of_ended_generator() const {
    if constexpr (!std::is_void_v<Return>)
      throw ValueError("yield_from() of a generator that already ended: its return value is gone");
  }

  GeneratorPromiseBase<Yield, Send>& outer_;
  Generator<Yield, Send, Return> inner_;                                   // until the delegation starts
  std::coroutine_handle<GeneratorPromise<Yield, Send, Return>> delegate_;  // from then on
};

}  // namespace detail
}  // namespace weft::aio
