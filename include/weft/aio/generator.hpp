// weft/aio/generator.hpp — Generator<Yield, Send, Return>, Python's
// generator functions (PEP 255, 342, 380) on C++20 coroutines.
//
// A function returning Generator<...> whose body uses co_yield is Python's
// generator function. It is synchronous — nothing here touches an event
// loop — and lazy: calling it creates the generator and runs nothing; the
// body runs up to its next co_yield each time the caller asks. It suspends
// only at co_yield: co_await does not compile in its body (Python: 'await'
// outside async function).
//
//   Generator<int> count(int n) {            def count(n):
//     for (int i = 0; i < n; ++i)                for i in range(n):
//       co_yield i;                                  yield i
//   }
//   for (int i : count(3)) ...               for i in count(3): ...
//
// The three parameters:
//   Yield   what co_yield hands out and next() returns. void for a
//           generator that yields nothing (Python's bare `yield`): its body
//           writes `co_yield None;`.
//   Send    what send() passes in. With void, a co_yield evaluates to
//           nothing; otherwise it evaluates to std::optional<Send>: the value
//           sent, or nullopt when next() resumed the body (Python gives
//           None).
//   Return  what the body's co_return gives: StopIteration's value, and the
//           value of `co_yield yield_from(generator)`. A body with a
//           non-void Return must end with co_return.
//
// Delegation (PEP 380's `result = yield from g`):
//
//   auto result = co_yield yield_from(inner());
//
// runs inner() inside this generator: its values come out of this
// generator's next(), send() and throw_() reach it, close() closes it, and
// the expression evaluates to its return value (its exception propagates
// with its type). The inner generator must yield and take the same types;
// its Return may differ. Delegation nests to any depth at O(1) cost per
// resume and without growing the native stack.
//
// Lifetime: a Generator owns its coroutine frame (one allocation per
// generator, none per yield) and is move-only; it may be moved at any time,
// including between two next() calls. Destroying a generator suspended at a
// co_yield destroys its frame — and those of the generators it delegates to
// — without resuming it: the destructors of its live locals run, as RAII
// cleanup should, but a `catch (const GeneratorExit&)` in the body does not
// run. Call close() first to give the body that chance (Python closes a
// generator when it is collected; C++ destruction cannot run code that may
// yield or throw).
//
// Thread-safety: none. One thread at a time drives a generator; it may be
// moved to, and resumed on, another thread between calls.
#pragma once

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <iterator>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "weft/aio/detail/generator_promise.hpp"
#include "weft/aio/generator_errors.hpp"
#include "weft/aio/none.hpp"
#include "weft/errors.hpp"

namespace weft::aio {

// Python's inspect.getgeneratorstate().
enum class GeneratorState {
  GEN_CREATED,    // not started yet
  GEN_RUNNING,    // its body (or that of a delegate) is executing
  GEN_SUSPENDED,  // suspended at a co_yield
  GEN_CLOSED,     // ended: returned, raised, or closed; or an empty Generator
};

template <class Yield, class Send = void, class Return = void>
class [[nodiscard]] Generator {
  static_assert(std::is_void_v<Yield> || (std::is_object_v<Yield> && !std::is_array_v<Yield>),
                "Generator yields objects (or void), not references or arrays");
  static_assert(std::is_void_v<Send> || (std::is_object_v<Send> && !std::is_array_v<Send>),
                "Generator takes sent objects (or void), not references or arrays");
  static_assert(std::is_void_v<Return> || (std::is_object_v<Return> && !std::is_array_v<Return>),
                "Generator returns an object (or void), not a reference or an array");

 public:
  using promise_type = detail::GeneratorPromise<Yield, Send, Return>;
  using yield_type = Yield;
  using send_type = Send;
  using return_type = Return;
  // What try_next() and try_send() return.
  using TryResult = std::conditional_t<std::is_void_v<Yield>, bool, std::optional<Yield>>;
  class iterator;

  // An empty generator: state() is GEN_CLOSED, close() does nothing, and
  // every other call throws ValueError. So is a moved-from one.
  Generator() noexcept = default;
  Generator(Generator&& other) noexcept : frame_(std::exchange(other.frame_, {})) {}
  Generator& operator=(Generator&& other) noexcept {
    if (this != &other) {
      reset();
      frame_ = std::exchange(other.frame_, {});
    }
    return *this;
  }
  // Destroys the frame without resuming it (see Lifetime above). Must not
  // run while the generator is executing (from inside its own body).
  ~Generator() { reset(); }

  // Whether this holds a generator (not default-constructed or moved from).
  explicit operator bool() const noexcept { return static_cast<bool>(frame_); }

  GeneratorState state() const noexcept {
    if (!frame_) return GeneratorState::GEN_CLOSED;
    const promise_type& promise = frame_.promise();
    if (promise.running()) return GeneratorState::GEN_RUNNING;
    if (promise.ended()) return GeneratorState::GEN_CLOSED;
    return promise.started() ? GeneratorState::GEN_SUSPENDED : GeneratorState::GEN_CREATED;
  }

  // Python's next(gen): runs the body up to its next co_yield (starting it
  // the first time) and returns the value yielded. Throws StopIteration when
  // the body ends (carrying its return value, see StopIteration), and on
  // every call after that; throws whatever the body throws, with its type
  // (the generator has then ended); ValueError("generator already
  // executing") when called from inside the generator's own body.
  Yield next() {
    promise_type& promise = this->promise();
    if (!promise.advance(nullptr, nullptr)) promise.raise_stop_iteration();
    return take_yielded(promise);
  }

  // next() that returns nullopt (false when Yield is void) where next()
  // throws StopIteration; the return value is then discarded. The body's own
  // exceptions and ValueError propagate as from next().
  TryResult try_next() {
    promise_type& promise = this->promise();
    return try_result(promise, promise.advance(nullptr, nullptr));
  }

  // Python's gen.send(value): resumes the body with `value` as the result of
  // the co_yield it is suspended at (in the innermost delegate), and returns
  // the next value yielded. Throws TypeError("can't send non-None value to a
  // just-started generator") before the first next(); otherwise throws as
  // next() does.
  template <class S = Send>
    requires(!std::is_void_v<S>)
  Yield send(std::type_identity_t<S> value) {
    promise_type& promise = this->promise();
    check_can_send(promise);
    if (!promise.advance(std::addressof(value), nullptr)) promise.raise_stop_iteration();
    return take_yielded(promise);
  }

  // send() that returns nullopt (false when Yield is void) where send()
  // throws StopIteration.
  template <class S = Send>
    requires(!std::is_void_v<S>)
  TryResult try_send(std::type_identity_t<S> value) {
    promise_type& promise = this->promise();
    check_can_send(promise);
    return try_result(promise, promise.advance(std::addressof(value), nullptr));
  }

  // Python's gen.throw(exception): raises `exception` inside the body at the
  // co_yield it is suspended at (in the innermost delegate). If the body
  // handles it and yields again, returns that value; if it ends, throws
  // StopIteration; if the exception (or another) escapes, it propagates
  // here. A generator that has not started ends without running, and one
  // that has ended raises `exception` at once. Throws TypeError for a null
  // exception_ptr, ValueError when the generator is executing.
  Yield throw_(std::exception_ptr exception) {
    if (!exception) throw TypeError("throw_() needs an exception");
    promise_type& promise = this->promise();
    promise.check_not_running();
    if (!promise.started()) promise.end_unstarted();
    if (promise.ended()) std::rethrow_exception(exception);
    if (!promise.advance(nullptr, std::move(exception))) promise.raise_stop_iteration();
    return take_yielded(promise);
  }
  template <class E>
    requires(!std::same_as<std::decay_t<E>, std::exception_ptr>)
  Yield throw_(E&& exception) {
    return throw_(std::make_exception_ptr(std::forward<E>(exception)));
  }

  // Python's gen.close(): raises GeneratorExit inside the body at its
  // co_yield (in the innermost delegate, then in each delegating generator
  // in turn, PEP 380). Returns when the body ends by that GeneratorExit or
  // returns (the return value is discarded); an exception other than
  // GeneratorExit escaping the body propagates. Throws RuntimeError
  // ("generator ignored GeneratorExit") if the body yields instead — the
  // generator stays suspended there. A generator that has not started ends
  // without running; closing an ended or empty generator does nothing.
  // Throws ValueError when the generator is executing.
  void close() {
    if (!frame_) return;
    promise_type& promise = frame_.promise();
    promise.check_not_running();
    if (!promise.started()) promise.end_unstarted();
    if (promise.ended()) return;
    bool yielded = false;
    try {
      yielded = promise.advance(nullptr, std::make_exception_ptr(GeneratorExit()));
    } catch (const GeneratorExit&) {
      return;
    }
    if (yielded) throw RuntimeError("generator ignored GeneratorExit");
    promise.discard_return_value();
  }

  // Range-for: `for (auto& value : gen)`. begin() runs the body to its first
  // (or next) co_yield; each ++ runs it to the next one; the iteration ends
  // with the body, discarding the return value. *it refers to the yielded
  // value in the body's frame, valid until the next ++. Exceptions as from
  // next(). Iterators stay valid when the Generator is moved.
  template <class Y = Yield>
    requires(!std::is_void_v<Y>)
  iterator begin() {
    return iterator(this->promise());
  }
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  friend promise_type;
  template <class, class, class>
  friend class detail::Delegation;

  explicit Generator(std::coroutine_handle<promise_type> frame) noexcept : frame_(frame) {}

  promise_type& promise() const {
    if (!frame_) throw ValueError("operation on an empty Generator (moved from or default-constructed)");
    return frame_.promise();
  }

  static void check_can_send(const promise_type& promise) {
    promise.check_not_running();
    if (!promise.started() && !promise.ended())
      throw TypeError("can't send non-None value to a just-started generator");
  }

  static Yield take_yielded(promise_type& promise) {
    if constexpr (!std::is_void_v<Yield>) return std::move(promise.yielded());
  }

  static TryResult try_result(promise_type& promise, bool yielded) {
    if (!yielded) promise.discard_return_value();
    if constexpr (std::is_void_v<Yield>) {
      return yielded;
    } else {
      if (!yielded) return std::nullopt;
      return std::optional<Yield>(take_yielded(promise));
    }
  }

  void reset() noexcept {
    if (frame_) std::exchange(frame_, {}).promise().destroy();
  }

  std::coroutine_handle<promise_type> frame_;
};

// The input iterator of range-for over a generator.
template <class Yield, class Send, class Return>
class Generator<Yield, Send, Return>::iterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using difference_type = std::ptrdiff_t;
  using value_type = Yield;
  using reference = Yield&;
  using pointer = Yield*;

  iterator() noexcept = default;

  reference operator*() const noexcept { return promise_->yielded(); }
  pointer operator->() const noexcept { return std::addressof(promise_->yielded()); }

  iterator& operator++() {
    advance();
    return *this;
  }
  void operator++(int) { advance(); }

  friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return it.promise_ == nullptr; }

 private:
  friend class Generator;

  explicit iterator(promise_type& promise) : promise_(&promise) { advance(); }

  void advance() {
    if (promise_->advance(nullptr, nullptr)) return;
    promise_->discard_return_value();
    promise_ = nullptr;
  }

  promise_type* promise_ = nullptr;
};

// The operand of `co_yield yield_from(generator)`, made by yield_from().
template <class Yield, class Send, class Return>
struct [[nodiscard]] YieldFrom {
  Generator<Yield, Send, Return> generator;
};

// `co_yield yield_from(std::move(generator))` — Python's `yield from
// generator` — delegates to `generator` (which may have started already; it
// is then resumed as next() would) and evaluates to its return value. A
// generator that already ended evaluates at once (to nothing when Return is
// void; with a non-void Return its value is gone, and the co_yield throws
// ValueError). Throws ValueError for an empty or an executing generator.
template <class Yield, class Send, class Return>
YieldFrom<Yield, Send, Return> yield_from(Generator<Yield, Send, Return>&& generator) {
  if (generator.state() == GeneratorState::GEN_RUNNING) throw ValueError("generator already executing");
  if (!generator) throw ValueError("yield_from() of an empty Generator");
  return {std::move(generator)};
}

}  // namespace weft::aio
