// The global start method and the contexts.
#include "weft/mp/context.hpp"

#include <mutex>

#include "process_state.hpp"
#include "weft/errors.hpp"

namespace weft::mp {
namespace detail {
namespace {

constexpr StartMethod default_method = StartMethod::fork;

struct Setting {
  std::mutex mutex;
  std::optional<StartMethod> method;
};

Setting& setting() {
  static auto* instance = new Setting;
  return *instance;
}

}  // namespace

StartMethod global_start_method() {
  Setting& s = setting();
  std::lock_guard guard(s.mutex);
  if (!s.method) s.method = default_method;
  return *s.method;
}

void force_start_method(StartMethod method) noexcept {
  // In a fork child the mutex may be held by a thread that does not exist.
  auto* fresh = new (&setting()) Setting;
  fresh->method = method;
}

}  // namespace detail

std::string_view start_method_name(StartMethod method) noexcept {
  switch (method) {
    case StartMethod::fork:
      return "fork";
    case StartMethod::spawn:
      return "spawn";
    case StartMethod::forkserver:
      return "forkserver";
  }
  return "fork";
}

StartMethod start_method_from_name(std::string_view name) {
  for (StartMethod method : {StartMethod::fork, StartMethod::spawn, StartMethod::forkserver})
    if (start_method_name(method) == name) return method;
  throw ValueError("cannot find context for '" + std::string(name) + "'");
}

void set_start_method(std::string_view method, bool force) {
  detail::Setting& s = detail::setting();
  std::lock_guard guard(s.mutex);
  if (s.method && !force) throw RuntimeError("context has already been set");
  if (method.empty() && force) {
    s.method.reset();
    return;
  }
  s.method = start_method_from_name(method);
}

std::optional<std::string> get_start_method(bool allow_none) {
  detail::Setting& s = detail::setting();
  {
    std::lock_guard guard(s.mutex);
    if (!s.method && allow_none) return std::nullopt;
  }
  return std::string(start_method_name(detail::global_start_method()));
}

std::string get_start_method() { return *get_start_method(false); }

std::vector<std::string> get_all_start_methods() {
  std::vector<std::string> names{std::string(start_method_name(detail::default_method))};
  for (StartMethod method : {StartMethod::fork, StartMethod::spawn, StartMethod::forkserver})
    if (method != detail::default_method) names.emplace_back(start_method_name(method));
  return names;
}

Context get_context(std::string_view method) {
  return Context(method.empty() ? detail::global_start_method() : start_method_from_name(method));
}

}  // namespace weft::mp
