// weft/mp/detail/thread_id.hpp — who the caller is, across processes: the
// kernel's thread and process ids, which name a thread uniquely among all
// processes of the machine (of one pid namespace) while it lives.
//
// Both are cached per thread, so asking costs no system call after the
// first time; a pthread_atfork handler clears the cache in a child created
// by fork(), whose ids differ. (A child created by a raw clone() or by
// _Fork(), which skip fork handlers, must not use weft::mp's locks.)
#pragma once

#include <cstdint>

namespace weft::mp::detail {

std::int32_t this_thread_id() noexcept;
std::int32_t this_process_id() noexcept;

}  // namespace weft::mp::detail
