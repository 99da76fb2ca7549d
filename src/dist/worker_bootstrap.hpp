// The worker bootstrap's link anchor (see worker_bootstrap.cpp).
#pragma once

namespace weft::dist::detail {

// Does nothing; referencing it links the bootstrap's object file, and with
// it the static constructor that turns a run of the program into a worker.
void link_worker_bootstrap() noexcept;

}  // namespace weft::dist::detail
