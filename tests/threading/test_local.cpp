// weft::local<T>: per-thread values, initializers, destruction at thread exit or with the local.
#include <gtest/gtest.h>
#include <weft/threading.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "threading/test_support.hpp"

namespace {

using namespace weft::test;

// Counts its live instances (moves included) in a counter it points to.
class Counted {
 public:
  explicit Counted(std::atomic<int>* live) : live_(live) { ++*live_; }
  Counted(Counted&& other) noexcept : live_(other.live_) { ++*live_; }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
  ~Counted() { --*live_; }

 private:
  std::atomic<int>* live_;
};

TEST(Local, EachThreadHasItsOwnValue) {
  weft::local<int> value;
  *value = 1;
  const int seen_by_other = on_other_thread([&] {
    const int initial = *value;
    *value = 2;
    return initial;
  });
  EXPECT_EQ(seen_by_other, 0);
  EXPECT_EQ(*value, 1);
}

TEST(Local, InitializerRunsOncePerThreadOnThatThread) {
  std::atomic<int> calls{0};
  weft::local<std::string> name([&] {
    ++calls;
    return weft::current_thread().name();
  });
  EXPECT_EQ(*name, "MainThread");
  EXPECT_EQ(name->size(), 10u);
  EXPECT_EQ(calls, 1);
  weft::Thread t({.name = "other"}, [&] {
    name.get() += "!";
    name.get() += "!";
  });
  std::string seen;
  weft::Thread reader({.name = "reader"}, [&] { seen = *name; });
  t.start();
  t.join();
  reader.start();
  reader.join();
  EXPECT_EQ(seen, "reader");
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(*name, "MainThread");
}

TEST(Local, ReferenceIsStableOnAThread) {
  weft::local<int> value;
  EXPECT_EQ(&value.get(), &*value);
  EXPECT_EQ(value.operator->(), &value.get());
}

TEST(Local, IndependentLocalsDoNotShareValues) {
  weft::local<int> a;
  weft::local<int> b;
  *a = 1;
  *b = 2;
  EXPECT_EQ(*a, 1);
  EXPECT_EQ(*b, 2);
}

TEST(Local, ValuesAreDestroyedWhenTheirThreadExits) {
  std::atomic<int> live{0};
  weft::local<Counted> value([&] { return Counted(&live); });
  std::atomic<int> live_inside{-1};
  weft::Thread t([&] {
    value.get();
    live_inside = live.load();
  });
  t.start();
  t.join();
  EXPECT_EQ(live_inside, 1);
  EXPECT_EQ(live, 0);
  std::thread foreign([&] { value.get(); });
  foreign.join();
  EXPECT_EQ(live, 0);
}

TEST(Local, ValuesOfLiveThreadsAreDestroyedWithTheLocal) {
  std::atomic<int> live{0};
  auto value = std::make_unique<weft::local<Counted>>([&] { return Counted(&live); });
  weft::Event touched;
  weft::Event release;
  weft::Thread t([&] {
    value->get();
    touched.set();
    release.wait(kPatience);
  });
  t.start();
  ASSERT_TRUE(touched.wait(kPatience));
  value->get();
  EXPECT_EQ(live, 2);
  value.reset();
  EXPECT_EQ(live, 0);
  release.set();
  t.join();
  EXPECT_EQ(live, 0);
}

TEST(Local, ManyThreadsManyValues) {
  std::atomic<int> live{0};
  std::atomic<int> mismatches{0};
  {
    weft::local<int> mine;
    weft::local<Counted> counted([&] { return Counted(&live); });
    std::vector<std::unique_ptr<weft::Thread>> threads;
    for (int i = 0; i < 8; ++i) {
      threads.push_back(std::make_unique<weft::Thread>([&, i] {
        counted.get();
        for (int k = 0; k < 100; ++k) {
          *mine = i * 1000 + k;
          if (*mine != i * 1000 + k) ++mismatches;
        }
      }));
      threads.back()->start();
    }
    for (auto& t : threads) t->join();
    EXPECT_EQ(live, 0);
  }
  EXPECT_EQ(mismatches, 0);
}

// Touches `late` from its destructor, which runs while its thread releases its values.
struct TouchesAtExit {
  weft::local<Counted>* late = nullptr;
  ~TouchesAtExit() {
    if (late != nullptr) late->get();
  }
};

TEST(Local, AValueMadeWhileItsThreadReleasesItsValuesIsDestroyedToo) {
  std::atomic<int> live{0};
  weft::local<Counted> late([&] { return Counted(&live); });
  weft::local<TouchesAtExit> early;
  std::thread foreign([&] { early.get().late = &late; });
  foreign.join();
  EXPECT_EQ(live, 0);
  weft::Thread t([&] { early.get().late = &late; });
  t.start();
  t.join();
  EXPECT_EQ(live, 0);
}

// Counted in `live`; while `ping` is set, its destructor makes `other`'s value on its thread.
struct PingPong {
  weft::local<PingPong>* other;
  std::atomic<int>* live;
  const std::atomic<bool>* ping;
  PingPong(weft::local<PingPong>* other, std::atomic<int>* live, const std::atomic<bool>* ping)
      : other(other), live(live), ping(ping) {
    ++*live;
  }
  PingPong(PingPong&& from) noexcept
      : other(from.other), live(std::exchange(from.live, nullptr)), ping(from.ping) {}
  ~PingPong() {
    if (live == nullptr) return;
    --*live;
    if (*ping) other->get();
  }
};

// Two locals whose values' destructors make each other's anew: a thread's exit destroys a few
// rounds of them and keeps the last until its local<T> dies, instead of never ending.
TEST(Local, ValuesMakingEachOtherAtExitStopAfterAFewRounds) {
  std::atomic<int> live{0};
  std::atomic<bool> ping{true};
  {
    weft::local<PingPong>* second = nullptr;
    weft::local<PingPong> first([&] { return PingPong(second, &live, &ping); });
    weft::local<PingPong> other([&] { return PingPong(&first, &live, &ping); });
    second = &other;
    std::thread foreign([&] { first.get(); });
    foreign.join();
    EXPECT_EQ(live, 1);
    weft::Thread t([&] { first.get(); });
    t.start();
    t.join(kPatience);
    EXPECT_FALSE(t.is_alive());
    EXPECT_EQ(live, 2);
    ping = false;
  }
  EXPECT_EQ(live, 0);
}

// A thread_local made before the thread's first local<T> access is destroyed after that
// thread's values are; a local<T> it touches then gets a value kept until the local<T> dies.
thread_local TouchesAtExit t_touches_after_release;

TEST(Local, AValueMadeAfterItsThreadReleasedItsValuesLivesUntilTheLocalDies) {
  std::atomic<int> live{0};
  {
    weft::local<Counted> value([&] { return Counted(&live); });
    std::thread foreign([&] {
      t_touches_after_release.late = &value;
      value.get();
    });
    foreign.join();
    EXPECT_EQ(live, 1);
  }
  EXPECT_EQ(live, 0);
}

}  // namespace
