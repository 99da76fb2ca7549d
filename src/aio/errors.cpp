// asyncio's own exceptions.
#include "weft/aio/errors.hpp"

namespace weft::aio {

ExceptionGroup::ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions)
    : message_(std::move(message)), exceptions_(std::move(exceptions)) {
  text_ = message_ + " (" + std::to_string(exceptions_.size()) + " sub-exception" +
          (exceptions_.size() == 1 ? "" : "s") + ")";
}

}  // namespace weft::aio
