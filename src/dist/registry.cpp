// The functions a program lets Redis workers run: one table per process,
// filled by WEFT_DIST_TASK from static initialisers (so it lives in
// function-local statics, constructed on first use whatever the order of
// initialisation), read by the Executor (by function) and by the worker
// (by name).
#include <cctype>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "weft/dist/errors.hpp"
#include "weft/dist/registry.hpp"
#include "weft/errors.hpp"
#include "weft/mp/remote_error.hpp"
#include "worker_bootstrap.hpp"

namespace weft::dist::detail {
namespace {

class Registry {
 public:
  static Registry& instance() {
    static Registry registry;
    return registry;
  }

  void add(std::string name, std::uint64_t signature, const void* function, MakeRunner make_runner) {
    if (name.empty()) throw ValueError("a dist task needs a name");
    std::lock_guard lock(mutex_);
    if (auto found = by_name_.find(name); found != by_name_.end()) {
      const RegisteredTask& taken = *found->second;
      if (taken.function == function && taken.signature == signature) return;
      throw ValueError("the dist task name '" + name + "' is already registered for another function");
    }
    auto task = std::make_unique<RegisteredTask>(RegisteredTask{name, signature, function, make_runner});
    // A function registered under several names is sent under its first.
    by_function_.try_emplace({function, signature}, task.get());
    by_name_.emplace(std::move(name), std::move(task));
  }

  const RegisteredTask* find(std::string_view name) const {
    std::lock_guard lock(mutex_);
    auto found = by_name_.find(name);
    return found == by_name_.end() ? nullptr : found->second.get();
  }

  const RegisteredTask* find(const void* function, std::uint64_t signature) const {
    std::lock_guard lock(mutex_);
    auto found = by_function_.find({function, signature});
    return found == by_function_.end() ? nullptr : found->second;
  }

 private:
  mutable std::mutex mutex_;
  // The tasks themselves, never moved once registered: lookups hand out
  // pointers to them.
  std::map<std::string, std::unique_ptr<RegisteredTask>, std::less<>> by_name_;
  std::map<std::pair<const void*, std::uint64_t>, const RegisteredTask*> by_function_;
};

}  // namespace

void register_task(std::string name, std::uint64_t signature, const void* function, MakeRunner make_runner) {
  // Every program that registers a task links the worker bootstrap too,
  // even from a static library: this reference pulls its object file in.
  link_worker_bootstrap();
  Registry::instance().add(std::move(name), signature, function, make_runner);
}

const RegisteredTask* find_task(std::string_view name) noexcept {
  try {
    return Registry::instance().find(name);
  } catch (...) {
    return nullptr;  // the mutex could not be taken
  }
}

const RegisteredTask* find_task(const void* function, std::uint64_t signature) noexcept {
  try {
    return Registry::instance().find(function, signature);
  } catch (...) {
    return nullptr;
  }
}

std::string task_name_from_expression(std::string_view expression) {
  std::string name;
  name.reserve(expression.size());
  for (const char c : expression)
    if (!std::isspace(static_cast<unsigned char>(c))) name.push_back(c);
  std::string_view trimmed = name;
  if (trimmed.starts_with('&')) trimmed.remove_prefix(1);
  if (trimmed.starts_with("::")) trimmed.remove_prefix(2);
  return std::string(trimmed);
}

void register_dist_exceptions() {
  static std::once_flag once;
  std::call_once(once, [] {
    mp::register_exception<RedisError>("weft::dist::RedisError");
    mp::register_exception<RedisConnectionError>("weft::dist::RedisConnectionError");
    mp::register_exception<RedisResponseError>("weft::dist::RedisResponseError");
    mp::register_exception<DeadLetterError>("weft::dist::DeadLetterError");
    mp::register_exception<TaskTimeoutError>("weft::dist::TaskTimeoutError");
  });
}

}  // namespace weft::dist::detail
