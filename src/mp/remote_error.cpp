// Exceptions across process boundaries: the registry of rebuildable types.
#include "weft/mp/remote_error.hpp"

#include <cxxabi.h>
#include <signal.h>
#include <string.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <shared_mutex>
#include <stdexcept>
#include <unordered_map>

#include "weft/codec.hpp"
#include "weft/errors.hpp"
#include "weft/futures/errors.hpp"
#include "weft/mp/manager/proxy.hpp"
#include "weft/queue/errors.hpp"
#include "weft/threading/barrier.hpp"
#include "weft/threading/deadlock.hpp"

namespace weft::mp {

namespace {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> name(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                                   &std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(mangled);
}

std::string worker_lost_text(pid_t pid, int exitcode, bool sending) {
  std::string text = "worker " + std::to_string(pid);
  if (exitcode < 0) {
    const char* abbrev = sigabbrev_np(-exitcode);
    text += " was killed by ";
    text += abbrev != nullptr ? std::string("SIG") + abbrev : std::string("a signal");
    text += " (signal " + std::to_string(-exitcode) + ")";
  } else {
    text += " exited with code " + std::to_string(exitcode);
  }
  return text + (sending ? " after running the task, while sending its result" : " while running the task");
}

// Keyed by the mangled name: type_info objects of one type may differ
// between modules, their names do not.
class Registry {
 public:
  static Registry& instance() {
    static Registry registry;
    return registry;
  }

  void add(const std::type_info& type, std::string name, detail::ExceptionFactory factory) {
    if (name.empty()) name = demangle(type.name());
    std::unique_lock lock(mutex_);
    names_[type.name()] = name;
    factories_[std::move(name)] = factory;
  }

  // The registered name of the type, or empty.
  std::string name_of(const char* mangled) const {
    std::shared_lock lock(mutex_);
    auto found = names_.find(mangled);
    return found == names_.end() ? std::string() : found->second;
  }

  detail::ExceptionFactory factory_of(const std::string& name) const {
    std::shared_lock lock(mutex_);
    auto found = factories_.find(name);
    return found == factories_.end() ? nullptr : found->second;
  }

 private:
  Registry() {
    add_message_types();
    add(typeid(std::bad_alloc), "std::bad_alloc",
        [](const std::string&) { return std::make_exception_ptr(std::bad_alloc()); });
    add_fixed<CancelledError>("CancelledError");
  }

  void add_message_types() {
    add_one<std::runtime_error>("std::runtime_error");
    add_one<std::logic_error>("std::logic_error");
    add_one<std::invalid_argument>("std::invalid_argument");
    add_one<std::out_of_range>("std::out_of_range");
    add_one<std::length_error>("std::length_error");
    add_one<std::domain_error>("std::domain_error");
    add_one<std::range_error>("std::range_error");
    add_one<std::overflow_error>("std::overflow_error");
    add_one<std::underflow_error>("std::underflow_error");
    add_one<RuntimeError>("RuntimeError");
    add_one<ValueError>("ValueError");
    add_one<KeyError>("KeyError");
    add_one<IndexError>("IndexError");
    add_one<AttributeError>("AttributeError");
    add_one<TimeoutError>("TimeoutError");
    add_one<EOFError>("EOFError");
    add_one<codec::DecodeError>("weft::codec::DecodeError");
    add_one<codec::EncodeError>("weft::codec::EncodeError");
    add_one<futures::InvalidStateError>("InvalidStateError");
    add_one<futures::BrokenExecutor>("BrokenExecutor");
    add_one<futures::BrokenThreadPool>("BrokenThreadPool");
    add_one<futures::BrokenProcessPool>("BrokenProcessPool");
    add_fixed<Empty>("queue.Empty");
    add_fixed<Full>("queue.Full");
    add_fixed<ShutDown>("queue.ShutDown");
    add_fixed<BrokenBarrierError>("BrokenBarrierError");
    add_one<DeadlockError>("DeadlockError");
    add_one<ProcessError>("ProcessError");
    add_one<AuthenticationError>("AuthenticationError");
    add_one<ManagerGoneError>("ManagerGoneError");
  }

  template <class E>
  void add_one(std::string name) {
    add(typeid(E), std::move(name), &detail::make_registered<E>);
  }

  // A type whose message is fixed: rebuilt by its default constructor.
  template <class E>
  void add_fixed(std::string name) {
    add(typeid(E), std::move(name), [](const std::string&) { return std::make_exception_ptr(E()); });
  }

  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::string> names_;                   // mangled -> name
  std::unordered_map<std::string, detail::ExceptionFactory> factories_;  // name -> factory
};

}  // namespace

RemoteError::RemoteError(std::string type_name, std::string message)
    : ProcessError(message.empty() ? type_name : type_name + ": " + message),
      type_name_(std::move(type_name)),
      message_(std::move(message)) {}

WorkerLostError::WorkerLostError(pid_t pid, int exitcode, bool sending)
    : ProcessError(worker_lost_text(pid, exitcode, sending)), pid_(pid), exitcode_(exitcode) {}

namespace detail {

void register_exception_factory(const std::type_info& type, std::string name, ExceptionFactory factory) {
  Registry::instance().add(type, std::move(name), factory);
}

}  // namespace detail

detail::EncodedException encode_exception(std::exception_ptr error) noexcept {
  detail::EncodedException encoded;
  try {
    try {
      std::rethrow_exception(error);
    } catch (const RemoteError& remote) {
      // Passing on an exception this process could not rebuild keeps its
      // original type.
      encoded.type = remote.type_name();
      encoded.message = remote.message();
      return encoded;
    } catch (...) {
      const std::type_info* type = abi::__cxa_current_exception_type();
      const char* mangled = type != nullptr ? type->name() : "unknown";
      encoded.type = Registry::instance().name_of(mangled);
      if (encoded.type.empty()) encoded.type = demangle(mangled);
      try {
        throw;
      } catch (const std::exception& e) {
        encoded.message = e.what();
      } catch (...) {
      }
    }
  } catch (...) {
    // Out of memory while copying the strings: say so rather than throw.
    encoded.type = "std::bad_alloc";
    encoded.message.clear();
  }
  return encoded;
}

std::exception_ptr decode_exception(const detail::EncodedException& encoded) noexcept {
  try {
    if (auto factory = Registry::instance().factory_of(encoded.type)) return factory(encoded.message);
    return std::make_exception_ptr(RemoteError(encoded.type, encoded.message));
  } catch (...) {
    return std::current_exception();
  }
}

}  // namespace weft::mp
