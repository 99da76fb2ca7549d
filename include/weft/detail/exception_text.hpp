// weft/detail/exception_text.hpp — what an exception says, for the reports
// weft prints about exceptions it catches on the user's behalf.
#pragma once

#include <exception>
#include <string>

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

}  // namespace weft::detail
