// weft/dist/registry.hpp — the functions a program lets Redis workers run,
// by name, as Celery's @app.task registers them.
//
//   long fib(int n) { ... }
//   WEFT_DIST_TASK(fib);                          // at namespace scope: "fib"
//   WEFT_DIST_TASK_NAMED("math.square", +[](int x) { return x * x; });
//
// A task travels as its registered name, the hash of its function type and
// its encoded arguments, never as an address: a worker runs only functions
// its own executable registered, and any executable built from the same
// sources (another host, another build) understands the same names. A
// name whose type differs between the two sides (a changed signature) is
// refused by the worker, and the task goes to the dead-letter stream.
//
// Register at namespace scope (the macros) so that workers started by
// `weft worker`, which never enter main(), have the functions too; or call
// register_task() in code that workers also run before serving (see
// weft/dist/worker.hpp).
//
// Thread-safety: registering and looking up may happen from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>

#include "weft/codec/function.hpp"
#include "weft/mp/detail/worker_pool_tasks.hpp"

namespace weft::dist {

namespace detail {

using MakeRunner = std::unique_ptr<mp::detail::TaskRunner> (*)(const void* fn);

template <class Fn>
std::unique_ptr<mp::detail::TaskRunner> make_call_runner(const void* fn) {
  return std::make_unique<mp::detail::CallRunner<Fn>>(reinterpret_cast<Fn>(const_cast<void*>(fn)));
}

// A registered function.
struct RegisteredTask {
  std::string name;
  std::uint64_t signature = 0;
  const void* function = nullptr;
  MakeRunner make_runner = nullptr;
};

// Registers; throws ValueError for an empty name, or a name already taken
// by another function (registering the same function under the same name
// again is allowed).
void register_task(std::string name, std::uint64_t signature, const void* function, MakeRunner make_runner);

// The task registered under `name`, or nullptr.
const RegisteredTask* find_task(std::string_view name) noexcept;
// The task registered for `function` with that signature, or nullptr.
const RegisteredTask* find_task(const void* function, std::uint64_t signature) noexcept;

// Makes weft::dist's exceptions (DeadLetterError, TaskTimeoutError, the
// Redis errors) cross processes as themselves (mp::register_exception).
// Idempotent; the Executor and run_worker call it.
void register_dist_exceptions();

// "fib" from "fib", "&fib" or " ::app::fib " (leading '&', spaces and "::" dropped).
std::string task_name_from_expression(std::string_view expression);

}  // namespace detail

// Registers a free function or captureless lambda under `name`. Throws
// ValueError as detail::register_task.
template <codec::FunctionReference F>
void register_task(std::string name, F&& f) {
  auto fn = codec::function_pointer(f);
  using Fn = decltype(fn);
  detail::register_task(std::move(name), codec::detail::signature_hash(typeid(Fn)),
                        reinterpret_cast<const void*>(fn), &detail::make_call_runner<Fn>);
}

namespace detail {

// What WEFT_DIST_TASK runs: registers `fn` under its own spelling.
template <class Fn>
bool register_static(std::string_view expression, Fn fn) {
  dist::register_task(task_name_from_expression(expression), fn);
  return true;
}

}  // namespace detail

}  // namespace weft::dist

#define WEFT_DIST_CONCAT_INNER(a, b) a##b
#define WEFT_DIST_CONCAT(a, b) WEFT_DIST_CONCAT_INNER(a, b)

// Registers `fn` under its own spelling ("fib", "app::fib").
#define WEFT_DIST_TASK(fn)                                                    \
  [[maybe_unused]] static const bool WEFT_DIST_CONCAT(weft_dist_task_, __COUNTER__) = \
      ::weft::dist::detail::register_static(#fn, ::weft::codec::function_pointer(fn))

// Registers `fn` (a function or captureless lambda) under `name`.
#define WEFT_DIST_TASK_NAMED(name, fn)                                        \
  [[maybe_unused]] static const bool WEFT_DIST_CONCAT(weft_dist_task_, __COUNTER__) = \
      (::weft::dist::register_task(name, fn), true)
