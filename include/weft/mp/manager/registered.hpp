// weft/mp/manager/registered.hpp — user types a manager's server can hold
// (what BaseManager::register_ builds on): the methods a type exposes by
// name, and the Managed object that holds one instance.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "weft/mp/manager/managed.hpp"

namespace weft::mp {

// One exposed member function: mp::method("increment", &Counter::increment).
// Its parameters and result must be codec-encodable.
template <class Fn>
  requires std::is_member_function_pointer_v<Fn>
struct Method {
  std::string name;
  Fn fn;
};

template <class Fn>
  requires std::is_member_function_pointer_v<Fn>
Method<Fn> method(std::string name, Fn fn) {
  return {std::move(name), fn};
}

namespace manager::detail {

// An instance of T on the server. Each call runs under the instance's
// mutex, so its methods are atomic as the built-in objects' are (and a
// method that blocks holds off the instance's other callers meanwhile).
template <class T>
class Registered final : public Managed {
 public:
  template <class... A>
  Registered(std::shared_ptr<const MethodTable<T>> methods, std::string type_id, std::tuple<A...> args)
      : methods_(std::move(methods)),
        type_id_(std::move(type_id)),
        object_(std::make_from_tuple<T>(std::move(args))) {}

  std::string call(std::string_view method, std::string_view args, Caller& caller) override {
    std::lock_guard lock(mutex_);
    return methods_->call(object_, type_id_, method, args, caller);
  }

 private:
  std::shared_ptr<const MethodTable<T>> methods_;
  std::string type_id_;
  std::mutex mutex_;
  T object_;
};

}  // namespace manager::detail
}  // namespace weft::mp
