target_sources(weft PRIVATE
  pool_api.cpp
  pool_executor.cpp
  worker_main.cpp
  worker_pool.cpp)
