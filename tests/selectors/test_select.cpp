// select() on every selector: what it reports, its timeouts (none, zero, negative, positive, huge,
// rounding), select_into, waking from another thread, and signals during the wait (PEP 475).
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <weft/errors.hpp>
#include <weft/selectors.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>

#include "selectors/selectors_support.hpp"

namespace {

using namespace weft::test;

template <class P>
class Select : public SelectorTest<P> {};
TYPED_TEST_SUITE(Select, AllSelectors, SelectorName);

TYPED_TEST(Select, ReportsWhatIsReady) {
  SelectorOf<TypeParam, int> s;
  auto [rd, wr] = socket_pair();
  s.register_(rd.get(), EVENT_READ, 1);
  const auto wr_key = s.register_(wr.get(), EVENT_WRITE, 2);
  const auto ready = s.select();
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].first, wr_key);
  EXPECT_EQ(ready[0].second, EVENT_WRITE);
}

TYPED_TEST(Select, ReportsBothEventsWhenBothAreReady) {
  SelectorOf<TypeParam, int> s;
  auto [a, b] = socket_pair();
  s.register_(a.get(), EVENT_READ | EVENT_WRITE, 1);
  send_text(b, "x");
  const auto ready = s.select(kPatience);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].first.fd, a.get());
  EXPECT_EQ(ready[0].second, EVENT_READ | EVENT_WRITE);
}

TYPED_TEST(Select, ReportsOnlyTheRegisteredEvents) {
  SelectorOf<TypeParam, int> s;
  auto [a, b] = socket_pair();
  s.register_(a.get(), EVENT_READ, 1);
  send_text(b, "x");
  const auto ready = s.select(kPatience);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].second, EVENT_READ);
}

TYPED_TEST(Select, ReportsAHangUpAsReadable) {
  SelectorOf<TypeParam, int> s;
  auto [a, b] = socket_pair();
  auto [c, d] = socket_pair();
  s.register_(a.get(), EVENT_READ, 1);
  s.register_(c.get(), EVENT_READ | EVENT_WRITE, 2);
  b.reset();
  d.reset();
  const auto ready = s.select(kPatience);
  ASSERT_EQ(ready.size(), 2u);
  for (const auto& [key, events] : ready) {
    EXPECT_NE(events & EVENT_READ, 0) << key.data;
    EXPECT_EQ(events & ~key.events, 0) << key.data;
  }
}

// What each kernel interface makes of a descriptor closed while registered, as in Python: select(2)
// fails with EBADF, poll(2) reports it (POLLNVAL), epoll forgets it.
TYPED_TEST(Select, ClosedWhileRegistered) {
  SelectorOf<TypeParam, int> s;
  auto [a, b] = socket_pair();
  const int fd = a.get();
  s.register_(fd, EVENT_READ, 1);
  a.reset();
  if constexpr (std::is_same_v<TypeParam, UseSelect>) {
    try {
      s.select(0s);
      ADD_FAILURE() << "select(2) accepted a closed descriptor";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code().value(), EBADF);
    }
  } else if constexpr (std::is_same_v<TypeParam, UsePoll>) {
    const auto ready = s.select(0s);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready[0].first.fd, fd);
    EXPECT_EQ(ready[0].second, EVENT_READ);
  } else {
    EXPECT_TRUE(s.select(0s).empty());
  }
  EXPECT_EQ(s.unregister(fd).data, 1);
  EXPECT_TRUE(s.select(0s).empty());
}

TYPED_TEST(Select, ZeroTimeoutPolls) {
  SelectorOf<TypeParam> s;
  auto [rd, wr] = socket_pair();
  s.register_(rd.get(), EVENT_READ);
  Stopwatch sw;
  EXPECT_TRUE(s.select(0s).empty());
  EXPECT_TRUE(s.select(-1s).empty());
  EXPECT_TRUE(s.select(std::chrono::duration<double>(-0.5)).empty());
  EXPECT_LT(sw.elapsed(), kSlack);
}

TYPED_TEST(Select, EmptySelectorPolls) {
  SelectorOf<TypeParam> s;
  EXPECT_TRUE(s.select(0s).empty());
}

TYPED_TEST(Select, PositiveTimeoutExpires) {
  SelectorOf<TypeParam> s;
  auto [rd, wr] = socket_pair();
  s.register_(rd.get(), EVENT_READ);
  {
    Stopwatch sw;
    EXPECT_TRUE(s.select(kTick).empty());
    EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  }
  {
    const std::chrono::duration<double> tick = kTick;
    Stopwatch sw;
    EXPECT_TRUE(s.select(tick).empty());
    EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  }
  {
    Stopwatch sw;
    EXPECT_TRUE(s.select(std::optional<std::chrono::milliseconds>(kTick)).empty());
    EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  }
}

TYPED_TEST(Select, TimeoutIsRoundedUpNotDown) {
  SelectorOf<TypeParam> s;
  auto [rd, wr] = socket_pair();
  s.register_(rd.get(), EVENT_READ);
  for (auto timeout : {1500us, 1us, 999us}) {
    Stopwatch sw;
    EXPECT_TRUE(s.select(timeout).empty());
    EXPECT_GE(sw.elapsed(), timeout);
  }
}

TYPED_TEST(Select, EmptySelectorWaitsTheTimeout) {
  SelectorOf<TypeParam> s;
  Stopwatch sw;
  EXPECT_TRUE(s.select(kTick).empty());
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
}

TYPED_TEST(Select, NoTimeoutReturnsOnceReady) {
  SelectorOf<TypeParam> s;
  auto [rd, wr] = socket_pair();
  s.register_(wr.get(), EVENT_WRITE);
  EXPECT_EQ(s.select().size(), 1u);
  EXPECT_EQ(s.select(std::nullopt).size(), 1u);
  EXPECT_EQ(s.select(std::optional<std::chrono::seconds>()).size(), 1u);
}

TYPED_TEST(Select, HugeTimeoutsReturnOnceReady) {
  SelectorOf<TypeParam> s;
  auto [rd, wr] = socket_pair();
  s.register_(wr.get(), EVENT_WRITE);
  EXPECT_EQ(s.select(std::chrono::hours::max()).size(), 1u);
  EXPECT_EQ(s.select(std::chrono::nanoseconds::max()).size(), 1u);
  EXPECT_EQ(s.select(std::chrono::duration<double>(1e300)).size(), 1u);
  EXPECT_EQ(s.select(std::chrono::duration<double>(std::numeric_limits<double>::infinity())).size(), 1u);
  EXPECT_EQ(s.select(std::chrono::hours(24 * 365)).size(), 1u);
}

TYPED_TEST(Select, NaNTimeoutThrowsValueError) {
  SelectorOf<TypeParam> s;
  EXPECT_THROW(s.select(std::chrono::duration<double>(std::nan(""))), weft::ValueError);
}

TYPED_TEST(Select, SelectIntoReusesTheList) {
  SelectorOf<TypeParam, int> s;
  auto [rd, wr] = socket_pair();
  s.register_(rd.get(), EVENT_READ, 1);
  s.register_(wr.get(), EVENT_WRITE, 2);
  send_text(wr, "x");
  typename SelectorOf<TypeParam, int>::ReadyList ready;
  s.select_into(ready, kPatience);
  ASSERT_EQ(ready.size(), 2u);
  const auto* storage = ready.data();
  s.select_into(ready);
  EXPECT_EQ(ready.size(), 2u);
  EXPECT_EQ(recv_text(rd), "x");
  s.select_into(ready, 0s);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].first.data, 2);
  s.select_into(ready, std::nullopt);
  EXPECT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready.data(), storage);
}

TYPED_TEST(Select, WakesWhenAnotherThreadWrites) {
  SelectorOf<TypeParam, int> s;
  auto [rd, wr] = socket_pair();
  s.register_(rd.get(), EVENT_READ, 7);
  SleepProbe probe;
  std::thread writer([&] {
    if (probe.wait_asleep()) send_text(wr, "wake");
  });
  probe.arm();
  const auto ready = s.select(kPatience);
  writer.join();
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].first.data, 7);
  EXPECT_EQ(ready[0].second, EVENT_READ);
}

std::atomic<int> signals_caught{0};

extern "C" void count_signal(int) { signals_caught.fetch_add(1, std::memory_order_relaxed); }

// Catches SIGUSR1 with a handler that interrupts system calls (no SA_RESTART) while it lives.
class InterruptingSignal {
 public:
  InterruptingSignal() {
    signals_caught = 0;
    struct sigaction action {};
    action.sa_handler = count_signal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGUSR1, &action, &previous_);
  }
  InterruptingSignal(const InterruptingSignal&) = delete;
  InterruptingSignal& operator=(const InterruptingSignal&) = delete;
  ~InterruptingSignal() { ::sigaction(SIGUSR1, &previous_, nullptr); }

 private:
  struct sigaction previous_ {};
};

TYPED_TEST(Select, SignalDuringATimedWaitResumesWithTheTimeLeft) {
  SelectorOf<TypeParam> s;
  auto [rd, wr] = socket_pair();
  s.register_(rd.get(), EVENT_READ);
  InterruptingSignal signal;
  const auto timeout = 10 * kTick;
  SleepProbe probe;
  const pthread_t selecting = ::pthread_self();
  std::thread killer([&] {
    if (probe.wait_asleep()) ::pthread_kill(selecting, SIGUSR1);
  });
  Stopwatch sw;
  probe.arm();
  const auto ready = s.select(timeout);
  const auto elapsed = sw.elapsed();
  killer.join();
  EXPECT_TRUE(ready.empty());
  EXPECT_TRUE(expired_after(elapsed, timeout));
  EXPECT_TRUE(eventually([] { return signals_caught.load() == 1; }));
}

TYPED_TEST(Select, SignalDuringAnUntimedWaitKeepsWaiting) {
  SelectorOf<TypeParam, int> s;
  auto [rd, wr] = socket_pair();
  s.register_(rd.get(), EVENT_READ, 3);
  InterruptingSignal signal;
  SleepProbe probe;
  const pthread_t selecting = ::pthread_self();
  std::thread killer([&] {
    if (!probe.wait_asleep()) return;
    ::pthread_kill(selecting, SIGUSR1);
    if (eventually([] { return signals_caught.load() == 1; })) probe.wait_asleep();
    send_text(wr, "late");
  });
  probe.arm();
  const auto ready = s.select();
  killer.join();
  EXPECT_EQ(signals_caught.load(), 1);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].first.data, 3);
}

}  // namespace
