// The user types the manager tests register, in every process that serves
// or uses them (the tests, their spawned children and the remote peer).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include "weft/mp/managers.hpp"

namespace manager_test {

class Counter {
 public:
  explicit Counter(int start) : value_(start) {}
  int increment(int by) { return value_ += by; }
  int value() const { return value_; }
  void fail(std::string why) const { throw std::invalid_argument(why); }

 private:
  int value_;
};

// "Counter" (constructed from an int), and the shared instances
// "get_counter" (a Counter from 100), "get_queue" (a Queue) and
// "get_dict" (a dict).
inline bool register_types() {
  namespace mp = weft::mp;
  mp::BaseManager::register_<Counter, int>("Counter", mp::method("increment", &Counter::increment),
                                           mp::method("value", &Counter::value),
                                           mp::method("fail", &Counter::fail));
  mp::BaseManager::register_shared("get_counter", "Counter", 100);
  mp::BaseManager::register_shared("get_queue", "Queue", std::optional<long long>(0));
  mp::BaseManager::register_shared("get_dict", "dict", std::vector<std::pair<std::string, std::string>>{});
  return true;
}

inline const bool registered = register_types();

}  // namespace manager_test
