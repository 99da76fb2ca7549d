// mp::Pool's members that are not templates.
#include <exception>
#include <string>
#include <utility>

#include "weft/errors.hpp"
#include "weft/mp/pool.hpp"

namespace weft::mp {

namespace detail {

// Python's map(): chunksize, extra = divmod(len, processes * 4), rounded up.
std::size_t default_chunksize(std::size_t items, std::size_t processes) noexcept {
  if (items == 0) return 1;
  const std::size_t per = processes * 4;
  return items / per + (items % per != 0 ? 1 : 0);
}

}  // namespace detail

Pool::Pool(PoolOptions options, detail::Initializer initializer) {
  if (options.processes && *options.processes == 0)
    throw ValueError("Number of processes must be at least 1");
  detail::WorkerPoolConfig config;
  config.processes = options.processes.value_or(0);
  config.context = options.context.value_or(get_context());
  config.initializer = std::move(initializer);
  config.max_tasks_per_child = options.maxtasksperchild;
  pool_ = std::make_unique<detail::WorkerPool>(std::move(config));
}

Pool::~Pool() = default;

void Pool::close() { pool_->close(); }

void Pool::terminate() { pool_->terminate(std::make_exception_ptr(CancelledError()), false); }

void Pool::join() { pool_->join(); }

void Pool::check_running() const {
  if (auto broken = pool_->broken()) std::rethrow_exception(broken);
  if (pool_->closed()) throw ValueError("Pool not running");
}

}  // namespace weft::mp
