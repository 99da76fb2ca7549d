// mp::cpu_count() and mp::process_cpu_count(), and the pool sizes that
// default to the latter.
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <cstddef>
#include <thread>

#include "weft/futures/process_pool_executor.hpp"
#include "weft/futures/thread_pool_executor.hpp"
#include "weft/mp/cpu_count.hpp"
#include "weft/mp/pool.hpp"

namespace weft::mp {
namespace {

// Runs `body` on a new thread whose affinity mask holds one CPU, the first
// the calling thread may use.
template <class Body>
void on_one_cpu(Body body) {
  cpu_set_t mine;
  ASSERT_EQ(::sched_getaffinity(0, sizeof mine, &mine), 0);
  int first = 0;
  while (!CPU_ISSET(first, &mine)) ++first;
  std::thread narrowed([&] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    ASSERT_EQ(::sched_setaffinity(0, sizeof one, &one), 0);
    body();
  });
  narrowed.join();
}

TEST(MpCpuCount, CountsTheOnlineCpusAndThoseThisThreadMayUse) {
  EXPECT_EQ(cpu_count(), static_cast<std::size_t>(::sysconf(_SC_NPROCESSORS_ONLN)));
  cpu_set_t mine;
  ASSERT_EQ(::sched_getaffinity(0, sizeof mine, &mine), 0);
  EXPECT_EQ(process_cpu_count(), static_cast<std::size_t>(CPU_COUNT(&mine)));
  EXPECT_GE(process_cpu_count(), 1u);
  EXPECT_LE(process_cpu_count(), cpu_count());
}

TEST(MpCpuCount, ANarrowedAffinityMaskNarrowsOnlyProcessCpuCount) {
  const std::size_t online = cpu_count();
  on_one_cpu([&] {
    EXPECT_EQ(process_cpu_count(), 1u);
    EXPECT_EQ(cpu_count(), online);
  });
}

TEST(MpCpuCount, PoolsDefaultToProcessCpuCountAsPython) {
  on_one_cpu([] {
    Pool pool;
    EXPECT_EQ(pool.processes(), 1u);
    pool.terminate();
    futures::ProcessPoolExecutor processes;
    EXPECT_EQ(processes.max_workers(), 1u);
    processes.shutdown();
    futures::ThreadPoolExecutor threads;
    EXPECT_EQ(threads.max_workers(), 5u);  // min(32, process_cpu_count() + 4)
  });
}

}  // namespace
}  // namespace weft::mp
