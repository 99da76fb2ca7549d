// weft/detail/exception_text.hpp — what an exception says and what type it
// is, for the reports weft prints about exceptions it catches on the user's
// behalf.
#pragma once

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <string>
#include <typeinfo>

namespace weft::detail {

// what() for a std::exception, a placeholder for anything else.
inline std::string exception_text(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "(not a std::exception)";
  }
}

// The demangled type name of the exception being handled, or "unknown
// exception" outside a catch block. Call inside a catch block.
inline std::string current_exception_type() {
  const std::type_info* type = abi::__cxa_current_exception_type();
  if (type == nullptr) return "unknown exception";
  int status = 0;
  char* readable = abi::__cxa_demangle(type->name(), nullptr, nullptr, &status);
  std::string result = status == 0 && readable != nullptr ? readable : type->name();
  std::free(readable);
  return result;
}

}  // namespace weft::detail
