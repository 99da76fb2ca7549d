// tools/weft/load/load_report.hpp — how `weft load` prints a finished run:
// a short human summary, or one JSON object (for scripts and the shootout).
#pragma once

#include <string>

#include "weft/load/load_generator.hpp"

namespace weft::tool {

// Several lines ending in '\n'; the last is the client-saturated warning
// when that applies. Never blocks; throws only std::bad_alloc.
std::string load_summary_text(const LoadOptions& options, const LoadResult& result);

// One JSON object on one line (no trailing newline). Absent optionals are
// null. Never blocks; throws only std::bad_alloc.
std::string load_result_json(const LoadOptions& options, const LoadResult& result);

// The text of the warning printed when result.client_saturated is set.
inline constexpr const char* kClientSaturatedWarning =
    "client saturated its core: the numbers measure the client";

}  // namespace weft::tool
