// weft/aio/async_generator.hpp — AsyncGenerator<Yield, Send>, Python's
// asynchronous generator functions (PEP 525) on C++20 coroutines.
//
// A function returning AsyncGenerator<...> is Python's `async def` with
// `yield` in it: its body may co_await anything a Task may await (sleep,
// locks, queues, streams, other tasks) and co_yield values. It is lazy:
// calling it creates the generator and runs nothing. A task drives it by
// awaiting its calls, each of which runs the body up to its next co_yield:
//
//   AsyncGenerator<int> ticks(int n) {        async def ticks(n):
//     for (int i = 0; i < n; ++i) {               for i in range(n):
//       co_await aio::sleep(0.1);                     await asyncio.sleep(0.1)
//       co_yield i;                                   yield i
//     }
//   }
//   auto gen = ticks(3);                      async for i in ticks(3):
//   while (auto i = co_await gen.try_anext())     ...
//     ...;
//
// `while (auto v = co_await gen.try_anext())` is weft's `async for`: the
// loop's body is the caller's own code, so break, continue, co_return and
// exceptions behave as in Python's `async for` body, and nothing is
// allocated per value (a callback form would allocate a coroutine frame for
// every value). As in Python, leaving the loop early does not close the
// generator.
//
// End of iteration. Python's awaited __anext__() raises StopAsyncIteration
// when the body ends; anext(), asend() and athrow() do the same, as
// Generator::next() throws StopIteration. The try_ forms of anext() and
// asend() return nullopt instead, as Generator::try_next() does. athrow()
// on a generator that has already ended does nothing and evaluates to
// nullopt (Python's None). Python's async generators return
// no value (`return value` is a SyntaxError there), so neither does this
// one: its body ends with a plain co_return or by running off its end.
//
// The parameters:
//   Yield   what co_yield hands out and anext() returns (an object type).
//   Send    what asend() passes in. With void (the default), a co_yield
//           evaluates to nothing; otherwise it evaluates to
//           std::optional<Send>: the value sent, or nullopt when anext()
//           resumed the body (Python gives None).
//
// Where it runs. The body runs inside the task that awaits the call, as an
// inline-awaited Task<T> does (Python runs it in the caller's task too):
// awaits in the body suspend that task, and when it is cancelled there the
// CancelledError is raised in the body at that await, ends the body unless
// caught there, and propagates out of the call. Awaiting a call may suspend
// the awaiting task (when the body awaits); a call whose body reaches its
// co_yield without awaiting completes without suspending: it costs a plain
// call into the body and its return, so a loop over such values runs in
// constant native stack at every optimisation level (sanitized and -O0
// builds included). anext() and asend() allocate nothing (aclose()
// allocates its GeneratorExit). The generator allocates one frame, from
// the same allocator as Task frames. A TaskGroup made in the body and kept
// open across a co_yield stays bound to the task that drove the body when it
// was made (it holds a reference to that task and cancels it on a failure),
// even once another task drives the body on — Python has the same
// wrong-task issue (PEP 789). Because `yield from` is
// not allowed in Python's async generators, there is no delegation here;
// an async generator may drive another with its calls.
//
// Cleanup that awaits. C++ allows no co_await or co_yield inside a catch
// handler (Python allows `await` in `except GeneratorExit:` and `finally:`),
// and destructors cannot await. A body that must await while it handles
// aclose()'s GeneratorExit, or another exception, keeps it and leaves the
// handler first:
//
//   std::exception_ptr closing;
//   try { ... co_yield v; ... }
//   catch (const GeneratorExit&) { closing = std::current_exception(); }
//   if (closing) { co_await flush(); std::rethrow_exception(closing); }
//
// A call's awaitable must be awaited at once (it refers to the generator,
// which must outlive it). While one call is running — from the moment it
// enters the body until the body yields or ends, including while the body
// is suspended in an await — awaiting another call on the same generator
// throws RuntimeError("anext(): asynchronous generator is already running")
// ("athrow(): ..." and "aclose(): ..." for those), as Python 3.8+.
//
// Lifetime: an AsyncGenerator owns its coroutine frame and is move-only; it
// may be moved between calls (and during one: the frame does not move).
// Destroying a generator suspended at a co_yield (or never started, or
// ended) destroys its frame without resuming it: the destructors of its
// live locals run, but a `catch (const GeneratorExit&)` or any awaiting
// cleanup in the body does not. `co_await gen.aclose()` first to give the
// body that chance (Python's event loop closes forgotten async generators
// through its asyncgen hooks and loop.shutdown_asyncgens(); weft has no such
// hooks: C++ destruction cannot await). A generator must not be destroyed
// while a call on it is running and its awaiting task may still resume
// (that task would resume into the destroyed frame); destroying the
// awaiting task's frame along with it — as a loop's teardown does — is
// fine, since the frame's pending await detaches on destruction.
//
// Thread-safety: none. A generator belongs to the thread of the loop whose
// tasks drive it; different tasks of that loop may drive it in turn.
#pragma once

#include <concepts>
#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "weft/aio/detail/async_generator_promise.hpp"
#include "weft/aio/generator_errors.hpp"
#include "weft/errors.hpp"

namespace weft::aio {

// Python's inspect.getasyncgenstate().
enum class AsyncGeneratorState {
  AGEN_CREATED,    // not started yet
  AGEN_RUNNING,    // a call is running: the body executes or awaits
  AGEN_SUSPENDED,  // suspended at a co_yield
  AGEN_CLOSED,     // ended: returned, raised, or closed; or an empty AsyncGenerator
};

template <class Yield, class Send = void>
class [[nodiscard]] AsyncGenerator {
  static_assert(std::is_object_v<Yield> && !std::is_array_v<Yield>,
                "AsyncGenerator yields objects, not void, references or arrays");
  static_assert(std::is_void_v<Send> || (std::is_object_v<Send> && !std::is_array_v<Send>),
                "AsyncGenerator takes sent objects (or void), not references or arrays");

  using Op = detail::AsyncGeneratorOp;
  template <Op op>
  using Call = detail::AsyncGeneratorCall<Yield, Send, op>;

 public:
  using promise_type = detail::AsyncGeneratorPromise<Yield, Send>;
  using yield_type = Yield;
  using send_type = Send;

  // An empty generator: state() is AGEN_CLOSED, aclose() does nothing, and
  // every other call throws ValueError. So is a moved-from one.
  AsyncGenerator() noexcept = default;
  AsyncGenerator(AsyncGenerator&& other) noexcept : frame_(std::exchange(other.frame_, {})) {}
  AsyncGenerator& operator=(AsyncGenerator&& other) noexcept {
    if (this != &other) {
      reset();
      frame_ = std::exchange(other.frame_, {});
    }
    return *this;
  }
  // Destroys the frame without resuming it (see Lifetime above).
  ~AsyncGenerator() { reset(); }

  // Whether this holds a generator (not default-constructed or moved from).
  explicit operator bool() const noexcept { return static_cast<bool>(frame_); }

  AsyncGeneratorState state() const noexcept {
    if (!frame_) return AsyncGeneratorState::AGEN_CLOSED;
    const promise_type& promise = frame_.promise();
    if (promise.running()) return AsyncGeneratorState::AGEN_RUNNING;
    if (promise.ended()) return AsyncGeneratorState::AGEN_CLOSED;
    return promise.started() ? AsyncGeneratorState::AGEN_SUSPENDED : AsyncGeneratorState::AGEN_CREATED;
  }

  // `co_await gen.anext()` — Python's `await anext(gen)`: runs the body up
  // to its next co_yield (starting it the first time) and evaluates to the
  // value yielded. Throws StopAsyncIteration when the body ends, and on
  // every call after that; whatever the body throws, with its type (the
  // generator has then ended), CancelledError included; RuntimeError when a
  // call is already running. Throws ValueError at once for an empty
  // generator.
  Call<Op::anext> anext() { return Call<Op::anext>(&promise()); }

  // anext() that evaluates to nullopt where anext() throws
  // StopAsyncIteration: `while (auto v = co_await gen.try_anext())`.
  Call<Op::try_anext> try_anext() { return Call<Op::try_anext>(&promise()); }

  // `co_await gen.asend(value)` — Python's `await gen.asend(value)`:
  // resumes the body with `value` as the result of the co_yield it is
  // suspended at, and evaluates to the next value yielded. Throws
  // TypeError("can't send non-None value to a just-started async
  // generator") before the first call; otherwise throws as anext() does.
  template <class S = Send>
    requires(!std::is_void_v<S>)
  Call<Op::asend> asend(std::type_identity_t<S> value) {
    return Call<Op::asend>(&promise(), std::move(value));
  }

  // asend() that evaluates to nullopt where asend() throws
  // StopAsyncIteration.
  template <class S = Send>
    requires(!std::is_void_v<S>)
  Call<Op::try_asend> try_asend(std::type_identity_t<S> value) {
    return Call<Op::try_asend>(&promise(), std::move(value));
  }

  // `co_await gen.athrow(exception)` — Python's `await gen.athrow(exc)`:
  // raises `exception` inside the body at the co_yield it is suspended at.
  // If the body handles it and yields again, evaluates to that value; if it
  // ends, throws StopAsyncIteration; if the exception (or another) escapes,
  // it propagates. A generator that has not started ends without running
  // and the exception propagates at once; on one that has already ended
  // athrow() does nothing and evaluates to nullopt, as Python's evaluates
  // to None (3.11.7+). Throws TypeError at once for a null exception_ptr;
  // RuntimeError when a call is already running.
  Call<Op::athrow> athrow(std::exception_ptr exception) {
    if (!exception) throw TypeError("athrow() needs an exception");
    return Call<Op::athrow>(&promise(), std::move(exception));
  }
  template <class E>
    requires(!std::same_as<std::decay_t<E>, std::exception_ptr>)
  Call<Op::athrow> athrow(E&& exception) {
    return athrow(std::make_exception_ptr(std::forward<E>(exception)));
  }

  // `co_await gen.aclose()` — Python's `await gen.aclose()`: raises
  // GeneratorExit inside the body at its co_yield; the body may await
  // while it cleans up. Completes when the body ends by that GeneratorExit
  // or returns; another exception escaping the body propagates (a
  // CancelledError from an await in the cleanup, say). Throws RuntimeError
  // ("async generator ignored GeneratorExit") if the body yields instead —
  // the generator stays suspended there. A generator that has not started
  // ends without running; closing an ended or empty generator does
  // nothing. Throws RuntimeError when a call is already running.
  Call<Op::aclose> aclose() noexcept { return Call<Op::aclose>(frame_ ? &frame_.promise() : nullptr); }

 private:
  friend promise_type;

  explicit AsyncGenerator(std::coroutine_handle<promise_type> frame) noexcept : frame_(frame) {}

  promise_type& promise() const {
    if (!frame_) throw ValueError("operation on an empty AsyncGenerator (moved from or default-constructed)");
    return frame_.promise();
  }

  void reset() noexcept {
    if (frame_) std::exchange(frame_, {}).destroy();
  }

  std::coroutine_handle<promise_type> frame_;
};

namespace detail {
template <class Yield, class Send>
AsyncGenerator<Yield, Send> AsyncGeneratorPromise<Yield, Send>::get_return_object() noexcept {
  return AsyncGenerator<Yield, Send>(frame());
}
}  // namespace detail

}  // namespace weft::aio
