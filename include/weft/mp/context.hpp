// weft/mp/context.hpp — choosing how child processes start: Python's
// set_start_method, get_start_method, get_all_start_methods and
// get_context.
//
// The default start method is fork, not Python 3.14's forkserver, because
// it is what a C++ user is happiest with: a child starts in about a
// millisecond instead of tens, every callable works (lambdas with captures,
// std::function, run() overrides, arguments of any type), and it is what
// fork() has always meant in C++. Programs that start processes while
// other threads run should choose spawn or forkserver: fork then prints a
// DeprecationWarning, as Python 3.12 does, because a lock some other thread
// held stays held forever in the child. Forkserver pays the spawn cost once
// and then forks each child from a clean single-threaded server.
//
// A Context starts its processes with one method whatever the global
// setting: get_context("spawn").Process(f, 1).start(). A typed context,
// get_context<StartMethod::spawn>(), also refuses at compile time a target
// its method cannot carry (a lambda with captures).
//
// Thread-safety: every function here may be called from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "weft/codec/function.hpp"
#include "weft/mp/process.hpp"

namespace weft::mp {

// "fork", "spawn" or "forkserver".
std::string_view start_method_name(StartMethod method) noexcept;
// The method called `name`; throws ValueError "cannot find context for
// 'name'".
StartMethod start_method_from_name(std::string_view name);

// Sets the global start method. Throws RuntimeError "context has already
// been set" if one was set (or used by starting a process, or read by
// get_start_method()) unless `force`; ValueError for an unknown name.
// With `force`, an empty name unsets it.
void set_start_method(std::string_view method, bool force = false);
// The global start method's name, fixing it to the default (fork) if none
// was set; with `allow_none`, empty instead when none was set.
std::optional<std::string> get_start_method(bool allow_none);
std::string get_start_method();
// Every start method, the default first.
std::vector<std::string> get_all_start_methods();

// A start method chosen at run time.
class Context {
 public:
  explicit Context(StartMethod method) noexcept : method_(method) {}

  // A Process (not started) that will start with this context's method.
  template <class... A>
  mp::Process Process(A&&... args) const {
    return mp::Process(detail::WithMethod{method_}, std::forward<A>(args)...);
  }
  std::string get_start_method() const { return std::string(start_method_name(method_)); }
  StartMethod method() const noexcept { return method_; }

 private:
  StartMethod method_;
};

// A start method known at compile time.
template <StartMethod M>
class TypedContext {
 public:
  template <class... A>
  mp::Process Process(A&&... args) const {
    if constexpr (M != StartMethod::fork) check_target<A...>();
    return mp::Process(detail::WithMethod{M}, std::forward<A>(args)...);
  }
  std::string get_start_method() const { return std::string(start_method_name(M)); }
  static constexpr StartMethod method() noexcept { return M; }
  operator Context() const noexcept { return Context(M); }

 private:
  template <class First, class... Rest>
  static constexpr void check_target() {
    if constexpr (std::is_same_v<std::remove_cvref_t<First>, ProcessOptions>) {
      static_assert(sizeof...(Rest) > 0, "spawn and forkserver need a target function");
      check_target<Rest...>();
    } else {
      static_assert(codec::FunctionReference<First>,
                    "spawn and forkserver children need a target by reference: a free "
                    "function or a captureless lambda, with codec-encodable arguments; "
                    "a callable with captures needs the fork start method");
    }
  }
};

// The context of `method` ("fork", "spawn", "forkserver"), or of the
// global start method when empty. Throws ValueError for an unknown name.
Context get_context(std::string_view method = {});

template <StartMethod M>
TypedContext<M> get_context() noexcept {
  return {};
}

}  // namespace weft::mp
