// greenlet: switch and throw semantics, parents, lifetimes, threads, stacks.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <any>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "weft/errors.hpp"
#include "weft/green/greenlet.hpp"

namespace green = weft::green;

namespace {

// Sets a flag when destroyed: shows that a greenlet's stack unwound.
struct SetOnDestruction {
  bool& flag;
  ~SetOnDestruction() { flag = true; }
};

// Runs `scenario` in a forked child (killed by SIGALRM after 30 s), which exits with what it
// returns; gives the child's wait status and what it wrote to stderr.
template <class F>
std::pair<int, std::string> in_child(F scenario) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return {-1, "pipe() failed"};
  const pid_t child = ::fork();
  if (child < 0) return {-1, "fork() failed"};
  if (child == 0) {
    ::close(pipe_fds[0]);
    ::dup2(pipe_fds[1], STDERR_FILENO);
    ::alarm(30);
    ::_exit(scenario());
  }
  ::close(pipe_fds[1]);
  std::string text;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) text.append(buffer, n);
  ::close(pipe_fds[0]);
  int status = -1;
  if (::waitpid(child, &status, 0) != child) return {-1, "waitpid() failed"};
  return {status, text};
}

TEST(Greenlet, SeedTest1Test2PrintsInTheSeedsOrder) {
  std::vector<int> printed;
  green::greenlet gr1, gr2;
  gr1 = green::greenlet([&] {
    printed.push_back(12);
    gr2.switch_();
    printed.push_back(34);
    gr2.switch_();
  });
  gr2 = green::greenlet([&] {
    printed.push_back(56);
    gr1.switch_();
    printed.push_back(78);
  });
  gr1.switch_();
  EXPECT_EQ(printed, (std::vector<int>{12, 56, 34, 78}));
  EXPECT_FALSE(gr1.dead());  // suspended in its second gr2.switch_()
  EXPECT_TRUE(gr2.dead());
}

TEST(Greenlet, ValuesCrossSwitchesBothWays) {
  green::greenlet child([](std::any first) {
    int total = std::any_cast<int>(first);
    for (int i = 0; i < 3; ++i) {
      total += green::getcurrent().parent().switch_as<int>(total);
    }
    return total;
  });
  EXPECT_EQ(child.switch_as<int>(1), 1);
  EXPECT_EQ(child.switch_as<int>(10), 11);
  EXPECT_EQ(child.switch_as<int>(100), 111);
  EXPECT_EQ(child.switch_as<int>(1000), 1111);  // its return value
  EXPECT_TRUE(child.dead());
  EXPECT_FALSE(static_cast<bool>(child));
}

TEST(Greenlet, ASwitchWithoutAValueResumesWithAnEmptyOne) {
  std::any seen_by_child = 1;
  green::greenlet child([&](std::any first) {
    EXPECT_FALSE(first.has_value());
    seen_by_child = green::getcurrent().parent().switch_();
    green::getcurrent().parent().switch_(std::any(7));
  });
  EXPECT_FALSE(child.switch_().has_value());
  EXPECT_EQ(std::any_cast<int>(child.switch_()), 7);
  EXPECT_FALSE(seen_by_child.has_value());
  EXPECT_FALSE(child.switch_().has_value());  // its run returned nothing
  EXPECT_TRUE(child.dead());
}

TEST(Greenlet, AValueSentToTheRunningGreenletComesStraightBack) {
  green::greenlet self = green::getcurrent();
  EXPECT_EQ(std::any_cast<int>(self.switch_(std::any(5))), 5);
  EXPECT_FALSE(self.switch_().has_value());
  EXPECT_THROW(self.throw_(std::runtime_error("to itself")), std::runtime_error);
}

TEST(Greenlet, AnExceptionFromRunIsRaisedInTheParent) {
  green::greenlet child([] { throw std::invalid_argument("bad"); });
  EXPECT_THROW(child.switch_(), std::invalid_argument);
  EXPECT_TRUE(child.dead());
}

TEST(Greenlet, GreenletExitReachesTheParentAsAValue) {
  green::greenlet child([] { throw green::GreenletExit("bye"); });
  std::any result = child.switch_();
  ASSERT_TRUE(result.type() == typeid(green::GreenletExit));
  EXPECT_STREQ(std::any_cast<green::GreenletExit>(result).what(), "bye");
}

TEST(Greenlet, ThrowRaisesAtTheSuspensionPoint) {
  bool unwound = false;
  green::greenlet child([&] {
    SetOnDestruction flag{unwound};
    try {
      green::getcurrent().parent().switch_();
    } catch (const std::runtime_error& e) {
      return std::string("caught ") + e.what();
    }
    return std::string("not reached");
  });
  child.switch_();
  std::any result = child.throw_(std::runtime_error("boom"));
  EXPECT_EQ(std::any_cast<std::string>(result), "caught boom");
  EXPECT_TRUE(unwound);
}

TEST(Greenlet, ThrowDefaultsToGreenletExit) {
  bool unwound = false;
  green::greenlet child([&] {
    SetOnDestruction flag{unwound};
    green::getcurrent().parent().switch_();
  });
  child.switch_();
  std::any result = child.throw_();
  EXPECT_TRUE(result.type() == typeid(green::GreenletExit));
  EXPECT_TRUE(unwound);
  EXPECT_TRUE(child.dead());
}

TEST(Greenlet, ThrowIntoAnUnstartedGreenletKillsItWithoutRunning) {
  bool ran = false;
  green::greenlet child([&] { ran = true; });
  EXPECT_THROW(child.throw_(std::logic_error("never")), std::logic_error);
  EXPECT_FALSE(ran);
  EXPECT_TRUE(child.dead());
}

TEST(Greenlet, SwitchingToADeadGreenletGoesToItsParent) {
  green::greenlet dead_child([] {});
  dead_child.switch_();
  ASSERT_TRUE(dead_child.dead());
  // Relayed to its parent, the current greenlet: the switch returns at once.
  EXPECT_EQ(std::any_cast<int>(dead_child.switch_(7)), 7);
}

TEST(Greenlet, ReturnGoesToTheParentNotTheSwitcher) {
  std::vector<std::string> trace;
  green::greenlet parent([&] {
    trace.push_back("parent started");
    std::any got = green::getcurrent().parent().switch_();
    trace.push_back("parent got " + std::any_cast<std::string>(got));
  });
  parent.switch_();  // parent is now suspended
  green::greenlet child([] { return std::string("child's result"); }, parent);
  child.switch_();  // child ends -> its parent `parent` resumes -> parent ends -> main
  EXPECT_EQ(trace, (std::vector<std::string>{"parent started", "parent got child's result"}));
  EXPECT_TRUE(parent.dead());
}

TEST(Greenlet, GetcurrentParentAndMain) {
  green::greenlet main = green::getcurrent();
  EXPECT_TRUE(main.is_main());
  EXPECT_TRUE(main.parent().empty());
  green::greenlet child([&] {
    EXPECT_FALSE(green::getcurrent().is_main());
    EXPECT_EQ(green::getcurrent().parent(), main);
    return green::getcurrent().started();
  });
  EXPECT_FALSE(child.started());
  EXPECT_TRUE(std::any_cast<bool>(child.switch_()));
}

TEST(Greenlet, ParentCyclesAreRefused) {
  green::greenlet a([] {});
  green::greenlet b([] {}, a);
  EXPECT_THROW(a.set_parent(b), green::error);
  EXPECT_THROW(a.set_parent(a), green::error);
}

TEST(Greenlet, DroppingTheLastHandleUnwindsASuspendedGreenlet) {
  green::greenlet main = green::getcurrent();
  bool unwound = false;
  {
    green::greenlet child([&] {
      struct Flag {
        bool& flag;
        ~Flag() { flag = true; }
      } flag{unwound};
      main.switch_();  // holds no handle to itself
      ADD_FAILURE() << "resumed normally";
    });
    child.switch_();
    EXPECT_FALSE(unwound);
  }
  EXPECT_TRUE(unwound);
}

// As in Python, GreenletExit is raised once in a greenlet whose last handle goes: one that catches
// it and switches away again is left suspended for good (leaked, and named on stderr).
TEST(Greenlet, GreenletExitIsRaisedOnceInAGreenletThatSwallowsIt) {
  const auto [status, text] = in_child([] {
    int caught = 0;
    {
      green::greenlet swallower([&] {
        for (;;) {
          try {
            green::greenlet parent = green::getcurrent().parent();  // holds no handle to itself
            parent.switch_();
          } catch (const green::GreenletExit&) {
            ++caught;
          }
        }
      });
      swallower.switch_();
    }
    return caught;
  });
  ASSERT_TRUE(WIFEXITED(status)) << "wait status " << status << ": " << text;
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_NE(text.find("would not exit; leaked"), std::string::npos) << text;
}

// A greenlet that catches that GreenletExit and takes a new handle to itself is unwound again,
// with another GreenletExit, when that handle goes, as Python kills a resurrected greenlet again.
TEST(Greenlet, AGreenletThatKeepsItselfAfterGreenletExitGetsItAgain) {
  const auto [status, text] = in_child([] {
    static green::greenlet kept;
    static int caught = 0;
    static bool unwound = false;
    {
      green::greenlet keeper([] {
        struct Unwound {
          ~Unwound() { unwound = true; }
        } on_unwind;
        for (;;) {
          try {
            green::greenlet parent = green::getcurrent().parent();  // holds no handle to itself
            parent.switch_();
          } catch (const green::GreenletExit&) {
            if (++caught == 2) throw;
            kept = green::getcurrent();
          }
        }
      });
      keeper.switch_();
    }
    if (caught != 1) return 10 + caught;
    kept = green::greenlet();
    return caught == 2 && unwound ? 0 : 20 + caught;
  });
  ASSERT_TRUE(WIFEXITED(status)) << "wait status " << status << ": " << text;
  EXPECT_EQ(WEXITSTATUS(status), 0) << text;
  EXPECT_EQ(text.find("would not exit"), std::string::npos) << text;
}

TEST(Greenlet, SwitchingToAnotherThreadsGreenletThrows) {
  green::greenlet child([] {});
  std::thread other([&] { EXPECT_THROW(child.switch_(), green::error); });
  other.join();
  child.switch_();
  EXPECT_TRUE(child.dead());
}

TEST(Greenlet, ThreadsSwitchTheirOwnGreenletsSideBySide) {
  auto work = [] {
    long total = 0;
    green::greenlet counter([&] {
      for (;;) {
        ++total;
        green::getcurrent().parent().switch_();
      }
    });
    for (int i = 0; i < 10000; ++i) counter.switch_();
    return total;
  };
  long a = 0, b = 0;
  std::thread first([&] { a = work(); });
  std::thread second([&] { b = work(); });
  first.join();
  second.join();
  EXPECT_EQ(a, 10000);
  EXPECT_EQ(b, 10000);
}

TEST(Greenlet, ASuspendedGreenletDroppedOnAnotherThreadUnwindsOnItsOwn) {
  green::greenlet main = green::getcurrent();
  bool unwound = false;
  auto child = std::make_unique<green::greenlet>([&] {
    SetOnDestruction flag{unwound};
    main.switch_();  // holds no handle to itself
  });
  child->switch_();
  std::thread([&] { child.reset(); }).join();
  EXPECT_FALSE(unwound);
  green::greenlet next([] {});
  next.switch_();  // the next switch on this thread runs the deferred unwind
  EXPECT_TRUE(unwound);
}

// The same when the greenlet switched to resumes inside its own switch_().
TEST(Greenlet, ADroppedGreenletIsUnwoundByTheNextSwitchToASuspendedOne) {
  green::greenlet main = green::getcurrent();
  bool unwound = false;
  auto child = std::make_unique<green::greenlet>([&] {
    SetOnDestruction flag{unwound};
    main.switch_();
  });
  child->switch_();
  green::greenlet ping([&] {
    main.switch_();
    main.switch_();
  });
  ping.switch_();
  std::thread([&] { child.reset(); }).join();
  EXPECT_FALSE(unwound);
  ping.switch_();  // ping resumes in its first switch_() and runs the deferred unwind
  EXPECT_TRUE(unwound);
  ping.switch_();
  EXPECT_TRUE(ping.dead());
}

TEST(Greenlet, GreenletsStillSuspendedWhenTheirThreadEndsAreUnwound) {
  int unwound = 0;
  std::thread([&] {
    for (int i = 0; i < 3; ++i) {
      green::greenlet child([&] {
        struct Flag {
          int& count;
          ~Flag() { ++count; }
        } flag{unwound};
        green::getcurrent().parent().switch_();  // keeps a handle to itself
      });
      child.switch_();
    }
    EXPECT_EQ(unwound, 0);
  }).join();
  EXPECT_EQ(unwound, 3);
}

// A greenlet whose last handle goes on another thread while its own thread is unwinding its
// suspended greenlets (at the thread's end) is unwound there too, and its run function
// destroyed there; it was destroyed at once on the other thread, unrun and still listed for
// that unwinding.
TEST(Greenlet, ALastHandleDroppedElsewhereWhileItsThreadEndsIsUnwoundThere) {
  const std::thread::id main_id = std::this_thread::get_id();
  std::atomic<bool> unwound_on_its_thread{false};
  std::atomic<bool> unwound_elsewhere{false};
  std::atomic<bool> run_destroyed_on_its_thread{false};
  std::atomic<bool> run_destroyed_elsewhere{false};
  std::promise<void> unwinding;
  std::promise<void> dropped;
  std::shared_future<void> dropped_done = dropped.get_future().share();
  green::greenlet handed;
  green::greenlet second;
  struct Where {
    std::thread::id main;
    std::atomic<bool>& here;
    std::atomic<bool>& elsewhere;
    ~Where() { (std::this_thread::get_id() == main ? elsewhere : here) = true; }
  };
  struct Wait {
    std::promise<void>& started;
    std::shared_future<void> done;
    ~Wait() {
      started.set_value();
      done.wait_for(std::chrono::seconds(10));
    }
  };
  std::thread t([&] {
    auto run_marker = std::make_shared<Where>(main_id, run_destroyed_on_its_thread, run_destroyed_elsewhere);
    green::greenlet g([&, run_marker] {
      Where where{main_id, unwound_on_its_thread, unwound_elsewhere};
      green::greenlet up = green::greenlet::getcurrent().parent();  // holds no handle to itself
      up.switch_();
    });
    g.switch_();
    run_marker.reset();
    handed = g;
    g = green::greenlet();
    // Started last, so unwound first at the thread's end: it holds that up until `handed` is
    // dropped.
    second = green::greenlet([&] {
      Wait wait{unwinding, dropped_done};
      green::greenlet::getcurrent().parent().switch_();
    });
    second.switch_();
  });
  ASSERT_EQ(unwinding.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  handed = green::greenlet();
  dropped.set_value();
  t.join();
  second = green::greenlet();
  EXPECT_TRUE(unwound_on_its_thread);
  EXPECT_FALSE(unwound_elsewhere);
  EXPECT_TRUE(run_destroyed_on_its_thread);
  EXPECT_FALSE(run_destroyed_elsewhere);
}

TEST(Greenlet, AGreenletMayDropItsOwnLastHandleWhileRunning) {
  green::greenlet main = green::getcurrent();
  auto holder = std::make_unique<green::greenlet>();
  bool unwound = false;
  *holder = green::greenlet([&] {
    SetOnDestruction flag{unwound};
    holder.reset();  // its only handle
    main.switch_(std::string("suspended"));
    ADD_FAILURE() << "resumed normally";
  });
  green::greenlet* raw = holder.get();
  EXPECT_EQ(std::any_cast<std::string>(raw->switch_()), "suspended");
  EXPECT_TRUE(unwound);  // unwound as soon as it switched out
  green::greenlet finishing([&] {
    holder = std::make_unique<green::greenlet>(green::getcurrent());
    holder.reset();
    return 5;
  });
  EXPECT_EQ(std::any_cast<int>(finishing.switch_()), 5);
}

// A greenlet whose last handle goes on another thread while it runs, and which then returns, is
// freed by its own thread: nothing is raised in it, nothing is reported.
TEST(Greenlet, AGreenletDroppedElsewhereWhileRunningThatThenReturnsIsFreedQuietly) {
  auto own = std::make_unique<green::greenlet>();
  auto elsewhere = std::make_unique<green::greenlet>();
  *own = green::greenlet([&] {
    own.reset();
    std::thread([&] { elsewhere.reset(); }).join();  // its last handle
    return 42;
  });
  *elsewhere = *own;
  green::greenlet* raw = own.get();
  testing::internal::CaptureStderr();
  const std::any result = raw->switch_();
  green::greenlet([] {}).switch_();
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(std::any_cast<int>(result), 42);
  EXPECT_EQ(err, "");
}

// A greenlet dropped on another thread before it started is freed there at once, with its run
// function, which never runs: as Python frees a greenlet that is not running, nothing waits for
// its own thread to switch again.
TEST(Greenlet, AnUnstartedGreenletDroppedOnAnotherThreadIsFreedThere) {
  struct Where {
    std::thread::id& destroyed_on;
    bool armed = true;
    explicit Where(std::thread::id& on) : destroyed_on(on) {}
    Where(Where&& other) noexcept : destroyed_on(other.destroyed_on) { other.armed = false; }
    ~Where() {
      if (armed) destroyed_on = std::this_thread::get_id();
    }
  };
  std::thread::id destroyed_on;
  bool ran = false;
  auto unstarted = std::make_unique<green::greenlet>([&ran, where = Where(destroyed_on)] { ran = true; });
  std::thread::id dropper;
  std::thread([&] {
    dropper = std::this_thread::get_id();
    unstarted.reset();
  }).join();
  EXPECT_FALSE(ran);
  EXPECT_EQ(destroyed_on, dropper);
}

TEST(Greenlet, ExceptionsInFlightAreKeptPerGreenlet) {
  green::greenlet other([] {
    try {
      throw std::runtime_error("inner");
    } catch (const std::exception&) {
      green::getcurrent().parent().switch_();
      EXPECT_EQ(std::uncaught_exceptions(), 0);
    }
  });
  try {
    throw std::logic_error("outer");
  } catch (const std::logic_error& e) {
    other.switch_();
    EXPECT_STREQ(e.what(), "outer");
    try {
      throw;  // the exception being handled here is still ours
    } catch (const std::logic_error& again) {
      EXPECT_STREQ(again.what(), "outer");
    }
  }
  other.switch_();
  EXPECT_TRUE(other.dead());
}

// The inline switch_() takes the common case itself; a greenlet resumed by
// a plain switch from one with no exception in flight still gets its own
// handler's exception back.
TEST(Greenlet, APlainSwitchGivesBackTheHandlerStateOfTheGreenletResumed) {
  bool still_handled = false;
  green::greenlet handler([&] {
    try {
      throw std::runtime_error("held");
    } catch (const std::runtime_error&) {
      green::getcurrent().parent().switch_();
      still_handled = std::current_exception() != nullptr;
    }
  });
  handler.switch_();
  EXPECT_EQ(std::current_exception(), nullptr);
  handler.switch_();
  EXPECT_TRUE(still_handled);
  EXPECT_TRUE(handler.dead());
}

// Plain switches back and forth between started greenlets (the inline path)
// keep each one's place.
TEST(Greenlet, PlainSwitchesAlternateBetweenTwoGreenlets) {
  int steps = 0;
  green::greenlet ping([&] {
    for (int i = 0; i < 1000; ++i) {
      ++steps;
      green::getcurrent().parent().switch_();
    }
  });
  for (int i = 0; i < 1000; ++i) {
    ping.switch_();
    ASSERT_EQ(steps, i + 1);
  }
  EXPECT_FALSE(ping.dead());
  ping.switch_();
  EXPECT_TRUE(ping.dead());
}

// A greenlet that handled an exception while another was suspended must not
// get that handler's state back on later switches between greenlets that
// handle none.
TEST(Greenlet, ExceptionStateDoesNotOutliveItsHandler) {
  green::greenlet main = green::getcurrent();
  int checks = 0;
  green::greenlet other([&] {
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(std::current_exception(), nullptr);
      EXPECT_EQ(std::uncaught_exceptions(), 0);
      ++checks;
      main.switch_();
    }
  });
  try {
    throw std::runtime_error("handled in main");
  } catch (const std::runtime_error&) {
    other.switch_();
    EXPECT_NE(std::current_exception(), nullptr);
  }
  EXPECT_EQ(std::current_exception(), nullptr);
  other.switch_();
  EXPECT_EQ(std::current_exception(), nullptr);
  other.switch_();
  EXPECT_EQ(std::current_exception(), nullptr);
  other.switch_();
  EXPECT_TRUE(other.dead());
  EXPECT_EQ(checks, 3);
}

TEST(Greenlet, ManyGreenletsReuseStacks) {
  for (int round = 0; round < 3; ++round) {
    std::vector<green::greenlet> many;
    for (int i = 0; i < 2000; ++i) {
      many.emplace_back([](std::any v) { return std::any_cast<int>(green::getcurrent().parent().switch_(v)) * 2; });
    }
    for (int i = 0; i < 2000; ++i) ASSERT_EQ(std::any_cast<int>(many[i].switch_(i)), i);
    for (int i = 0; i < 2000; ++i) ASSERT_EQ(std::any_cast<int>(many[i].switch_(i)), 2 * i);
  }
}

// A stack size too large for any stack is refused when the greenlet is made, not rounded to
// a stack of nothing.
TEST(GreenletStack, AStackSizeTooLargeForAnyStackIsAValueError) {
  EXPECT_THROW(green::greenlet([] {}, {}, green::StackOptions{SIZE_MAX - 100}), weft::ValueError);
  EXPECT_THROW(green::greenlet([] {}, {}, green::StackOptions{SIZE_MAX / 2}), weft::ValueError);
  green::greenlet small([] { return 1; }, {}, green::StackOptions{1});
  EXPECT_EQ(std::any_cast<int>(small.switch_()), 1);
}

// A size no mapping can hold — past the address range a process maps without a hint (2^47
// bytes on x86-64, 2^48 on AArch64) — is refused when the greenlet is made too, not at its
// first switch as the kernel refusing the memory.
TEST(GreenletStack, AStackSizeNoMappingCanHoldIsAValueError) {
  for (const std::size_t size : {std::size_t{1} << 49, std::size_t{1} << 52, std::size_t{1} << 57}) {
    EXPECT_THROW(green::greenlet([] {}, {}, green::StackOptions{size}), weft::ValueError) << size;
  }
}

int recurse(int depth) {
  volatile char frame[512];
  frame[0] = static_cast<char>(depth);
  return depth > 1'000'000 ? frame[0] : recurse(depth + 1) + frame[0];
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
TEST(GreenletStack, OverflowIsReportedNamingTheGreenlet) {
  const auto [status, text] = in_child([] {
    green::greenlet deep([] { return recurse(0); }, {}, green::StackOptions{64 * 1024});
    deep.set_name("deep-recursion");
    deep.switch_();
    return 0;
  });
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGABRT);
  EXPECT_NE(text.find("stack overflow in greenlet deep-recursion"), std::string::npos) << text;
}

// A greenlet without a name of its own is reported by its default one.
TEST(GreenletStack, OverflowIsReportedNamingAGreenletByItsDefaultName) {
  const auto [status, text] = in_child([] {
    green::greenlet deep([] { return recurse(0); }, {}, green::StackOptions{64 * 1024});
    std::fprintf(stderr, "expected: %s\n", deep.name().c_str());
    deep.switch_();
    return 0;
  });
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGABRT);
  const std::size_t expected = text.find("expected: greenlet-");
  ASSERT_NE(expected, std::string::npos) << text;
  const std::string name = text.substr(expected + 10, text.find('\n', expected) - expected - 10);
  EXPECT_NE(text.find("stack overflow in greenlet " + name + " ("), std::string::npos) << text;
}
#endif

}  // namespace
