// futures::ProcessPoolExecutor's members that are not templates.
#include <exception>
#include <string>
#include <utility>

#include "weft/errors.hpp"
#include "weft/futures/process_pool_executor.hpp"

namespace weft::futures {

ProcessPoolExecutor::ProcessPoolExecutor(ProcessPoolOptions options, mp::detail::Initializer initializer) {
  if (options.max_workers && *options.max_workers == 0)
    throw ValueError("max_workers must be greater than 0");
  if (options.max_tasks_per_child && *options.max_tasks_per_child == 0)
    throw ValueError("max_tasks_per_child must be >= 1");
  mp::detail::WorkerPoolConfig config;
  config.processes = options.max_workers.value_or(0);
  config.context = options.mp_context.value_or(mp::get_context());
  config.initializer = std::move(initializer);
  config.max_tasks_per_child = options.max_tasks_per_child;
  config.name_prefix = "ProcessPoolWorker";
  pool_ = std::make_unique<mp::detail::WorkerPool>(std::move(config));
}

ProcessPoolExecutor::~ProcessPoolExecutor() {
  try {
    shutdown(true);
  } catch (...) {
  }
}

void ProcessPoolExecutor::check_open() const {
  if (auto broken = pool_->broken()) std::rethrow_exception(broken);
  if (pool_->closed()) throw_shut_down();
}

void ProcessPoolExecutor::throw_shut_down() {
  throw RuntimeError("cannot schedule new futures after shutdown");
}

void ProcessPoolExecutor::shutdown(bool wait, bool cancel_futures) {
  pool_->close();  // first, so that no submission slips in after the cancelling
  if (cancel_futures) pool_->cancel_pending();
  if (wait) pool_->join();
}

void ProcessPoolExecutor::terminate_workers() {
  pool_->terminate(std::make_exception_ptr(BrokenProcessPool("the workers were terminated")), false);
}

void ProcessPoolExecutor::kill_workers() {
  pool_->terminate(std::make_exception_ptr(BrokenProcessPool("the workers were killed")), true);
}

}  // namespace weft::futures
