// tools/weft/serve/listening_line.hpp — what `weft serve` says on stdout
// once it serves, which `weft shootout` reads back: "listening on
// HOST:PORT (details)", and the words it adds to the details when it was
// asked for io_uring but runs epoll.
#pragma once

#include <string_view>

namespace weft::tool {

inline constexpr std::string_view kListeningOn = "listening on ";
inline constexpr std::string_view kFellBackToEpoll = "io_uring is not available here, fell back to epoll";

}  // namespace weft::tool
