// How a manager's synchronisation objects expose their methods: a table of
// names, each calling a member function that receives the Caller first
// (through manager::invoke_encoded).
#pragma once

#include <string>
#include <string_view>

#include "weft/codec.hpp"
#include "weft/errors.hpp"
#include "weft/mp/manager/managed.hpp"

namespace weft::mp::manager::detail {

// Runs the member function Fn (whose first parameter is the Caller) with
// the decoded `args`; returns the encoded result (nil for void).
template <auto Fn, class C>
std::string run(C& self, std::string_view args, Caller& caller) {
  return invoke_encoded(self, Fn, args, &caller);
}

template <class C>
struct Method {
  std::string_view name;
  std::string (*invoke)(C&, std::string_view args, Caller&);
};

// Managed::call over Derived::methods() (a span of Method<Derived>).
template <class Derived>
class Dispatching : public Managed {
 public:
  explicit Dispatching(const char* type_name) noexcept : type_name_(type_name) {}

  std::string call(std::string_view method, std::string_view args, Caller& caller) override {
    for (const auto& entry : Derived::methods()) {
      if (entry.name == method) return entry.invoke(static_cast<Derived&>(*this), args, caller);
    }
    throw AttributeError("'" + std::string(type_name_) + "' object has no attribute '" + std::string(method) +
                         "'");
  }

 private:
  const char* type_name_;
};

}  // namespace weft::mp::manager::detail
