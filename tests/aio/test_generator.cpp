// Tests of weft::aio::Generator: Python's generators (PEP 255 next and
// StopIteration, PEP 342 send/throw/close, PEP 380 yield from, PEP 479).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <new>
#include <optional>
#include <ranges>
#include <string>
#include <thread>
#include <vector>

#include <weft/aio/generator.hpp>

namespace {

// Allocations made through operator new by the current thread while
// counting_allocations is set (see the replacement operator new below).
thread_local bool counting_allocations = false;
thread_local std::size_t allocations_counted = 0;

}  // namespace

void* operator new(std::size_t size) {
  if (counting_allocations) ++allocations_counted;
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc();
}
// Not inlined, so that the compiler does not pair std::free with a call to
// the (replaced) operator new and warn about a mismatch.
[[gnu::noinline]] void operator delete(void* memory) noexcept { std::free(memory); }
[[gnu::noinline]] void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }

namespace {

namespace aio = weft::aio;
using aio::Generator;
using aio::GeneratorState;
using Log = std::vector<std::string>;

// Counts the allocations its thread makes while it lives.
class AllocationCounter {
 public:
  AllocationCounter() {
    allocations_counted = 0;
    counting_allocations = true;
  }
  ~AllocationCounter() { counting_allocations = false; }
  std::size_t count() const { return allocations_counted; }
};

// Logs "~name" when destroyed: shows that a frame's locals were destroyed.
struct OnDestruction {
  Log& log;
  std::string name;
  ~OnDestruction() { log.push_back("~" + name); }
};

Generator<int> count(int n) {
  for (int i = 0; i < n; ++i) co_yield i;
}

template <class Yield, class Send, class Return>
std::vector<Yield> drain(Generator<Yield, Send, Return>& generator) {
  std::vector<Yield> values;
  for (auto& value : generator) values.push_back(value);
  return values;
}

// ---------------------------------------------------------------- next

Generator<int> logged_count(Log& log, int n) {
  log.push_back("start");
  for (int i = 0; i < n; ++i) {
    log.push_back("yield " + std::to_string(i));
    co_yield i;
  }
  log.push_back("end");
}

TEST(Generator, BodyRunsOnlyWhenAskedAndEndsWithStopIteration) {
  Log log;
  auto g = logged_count(log, 2);
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(g.state(), GeneratorState::GEN_CREATED);

  EXPECT_EQ(g.next(), 0);
  EXPECT_EQ(log, (Log{"start", "yield 0"}));
  EXPECT_EQ(g.state(), GeneratorState::GEN_SUSPENDED);
  EXPECT_EQ(g.next(), 1);
  EXPECT_EQ(log.size(), 3u);

  EXPECT_THROW(g.next(), aio::StopIteration);
  EXPECT_EQ(log.back(), "end");
  EXPECT_EQ(g.state(), GeneratorState::GEN_CLOSED);
  EXPECT_THROW(g.next(), aio::StopIteration);
  EXPECT_EQ(log.size(), 4u);
}

TEST(Generator, TryNextReturnsNulloptWhereNextThrowsStopIteration) {
  auto g = count(2);
  EXPECT_EQ(g.try_next(), std::optional<int>(0));
  EXPECT_EQ(g.try_next(), std::optional<int>(1));
  EXPECT_EQ(g.try_next(), std::nullopt);
  EXPECT_EQ(g.try_next(), std::nullopt);
}

Generator<void> steps(Log& log) {
  log.push_back("1");
  co_yield aio::None;
  log.push_back("2");
}

TEST(Generator, VoidYieldIsPythonsBareYield) {
  Log log;
  auto g = steps(log);
  g.next();
  EXPECT_EQ(log, (Log{"1"}));
  EXPECT_FALSE(g.try_next());
  EXPECT_EQ(log, (Log{"1", "2"}));

  auto h = steps(log);
  EXPECT_TRUE(h.try_next());
  EXPECT_THROW(h.next(), aio::StopIteration);
}

Generator<int, void, std::string> answer() {
  co_yield 1;
  co_return "forty-two";
}

TEST(Generator, StopIterationCarriesTheReturnValueOnce) {
  auto g = answer();
  EXPECT_EQ(g.next(), 1);
  try {
    g.next();
    FAIL() << "no StopIteration";
  } catch (const aio::StopIteration& stop) {
    EXPECT_TRUE(stop.has_value());
    EXPECT_EQ(stop.value<std::string>(), "forty-two");
    EXPECT_THROW(stop.value<int>(), weft::TypeError);
  }
  try {
    g.next();
    FAIL() << "no StopIteration";
  } catch (const aio::StopIteration& stop) {
    EXPECT_FALSE(stop.has_value());
    EXPECT_THROW(stop.value<std::string>(), weft::TypeError);
  }
}

Generator<int, void, std::unique_ptr<int>> returns_move_only() {
  co_return std::make_unique<int>(7);
}

TEST(Generator, StopIterationValueMayBeMoveOnly) {
  auto g = returns_move_only();
  try {
    g.next();
    FAIL() << "no StopIteration";
  } catch (aio::StopIteration& stop) {
    std::unique_ptr<int> value = std::move(stop.value<std::unique_ptr<int>>());
    ASSERT_NE(value, nullptr);
    EXPECT_EQ(*value, 7);
  }
}

TEST(Generator, VoidReturnEndsWithAStopIterationWithoutValue) {
  auto g = count(0);
  try {
    g.next();
    FAIL() << "no StopIteration";
  } catch (const aio::StopIteration& stop) {
    EXPECT_FALSE(stop.has_value());
  }
}

TEST(Generator, TryNextDiscardsTheReturnValue) {
  auto g = answer();
  EXPECT_EQ(g.try_next(), std::optional<int>(1));
  EXPECT_EQ(g.try_next(), std::nullopt);
  try {
    g.next();
    FAIL() << "no StopIteration";
  } catch (const aio::StopIteration& stop) {
    EXPECT_FALSE(stop.has_value());
  }
}

Generator<int> fails_after_one(Log& log) {
  OnDestruction local{log, "local"};
  co_yield 1;
  throw weft::KeyError("missing");
}

TEST(Generator, BodyExceptionPropagatesWithItsTypeAndEndsTheGenerator) {
  Log log;
  auto g = fails_after_one(log);
  EXPECT_EQ(g.next(), 1);
  EXPECT_THROW(g.next(), weft::KeyError);
  EXPECT_EQ(log, (Log{"~local"}));
  EXPECT_EQ(g.state(), GeneratorState::GEN_CLOSED);
  EXPECT_THROW(g.next(), aio::StopIteration);
}

Generator<int> leaks_stop_iteration() {
  auto exhausted = count(0);
  co_yield exhausted.next();
}

TEST(Generator, StopIterationEscapingTheBodyBecomesRuntimeError) {
  auto g = leaks_stop_iteration();
  try {
    g.next();
    FAIL() << "no RuntimeError";
  } catch (const weft::RuntimeError& error) {
    EXPECT_STREQ(error.what(), "generator raised StopIteration");
  }
}

// --------------------------------------------------------------- values

Generator<std::string> names(std::vector<std::string>& after) {
  std::string name = "kept";
  co_yield name;
  after.push_back(name);
  co_yield "converted from a literal";
}

TEST(Generator, LvalueYieldIsCopiedAndConvertedYieldIsAccepted) {
  std::vector<std::string> after;
  auto g = names(after);
  EXPECT_EQ(g.next(), "kept");
  EXPECT_EQ(g.next(), "converted from a literal");
  EXPECT_EQ(after, (std::vector<std::string>{"kept"}));
}

Generator<std::unique_ptr<int>> move_only_values(bool& moved_from) {
  co_yield std::make_unique<int>(1);
  auto owned = std::make_unique<int>(2);
  co_yield std::move(owned);
  moved_from = owned == nullptr;
}

TEST(Generator, RvalueYieldIsMovedOutWithoutCopy) {
  bool moved_from = false;
  auto g = move_only_values(moved_from);
  EXPECT_EQ(*g.next(), 1);
  EXPECT_EQ(*g.next(), 2);
  EXPECT_FALSE(g.try_next());
  EXPECT_TRUE(moved_from);
}

// ----------------------------------------------------------------- send

Generator<int, std::string> recorder(std::vector<std::optional<std::string>>& received) {
  while (true) {
    std::optional<std::string> value = co_yield static_cast<int>(received.size());
    received.push_back(std::move(value));
  }
}

TEST(Generator, SendBecomesTheValueOfCoYieldAndNextSendsNone) {
  std::vector<std::optional<std::string>> received;
  auto g = recorder(received);
  EXPECT_EQ(g.next(), 0);
  EXPECT_EQ(g.send("a"), 1);
  EXPECT_EQ(g.next(), 2);
  EXPECT_EQ(g.send("b"), 3);
  EXPECT_EQ(g.try_send("c"), std::optional<int>(4));
  EXPECT_EQ(received, (std::vector<std::optional<std::string>>{"a", std::nullopt, "b", "c"}));
}

TEST(Generator, SendBeforeTheFirstNextIsATypeError) {
  std::vector<std::optional<std::string>> received;
  auto g = recorder(received);
  try {
    g.send("too early");
    FAIL() << "no TypeError";
  } catch (const weft::TypeError& error) {
    EXPECT_STREQ(error.what(), "can't send non-None value to a just-started generator");
  }
  EXPECT_EQ(g.state(), GeneratorState::GEN_CREATED);
  EXPECT_EQ(g.next(), 0);
  EXPECT_TRUE(received.empty());
}

Generator<int, int, int> sum_until_zero() {
  int total = 0;
  while (true) {
    std::optional<int> value = co_yield total;
    if (value == 0) co_return total;
    total += value.value_or(0);
  }
}

TEST(Generator, SendThatEndsTheBodyThrowsStopIterationWithTheReturnValue) {
  auto g = sum_until_zero();
  EXPECT_EQ(g.next(), 0);
  EXPECT_EQ(g.send(3), 3);
  EXPECT_EQ(g.send(4), 7);
  try {
    g.send(0);
    FAIL() << "no StopIteration";
  } catch (const aio::StopIteration& stop) {
    EXPECT_EQ(stop.value<int>(), 7);
  }
  EXPECT_THROW(g.send(1), aio::StopIteration);
  EXPECT_EQ(g.try_send(1), std::nullopt);
}

// ---------------------------------------------------------------- throw_

Generator<std::string> resilient() {
  for (int round = 0;; ++round) {
    std::string caught;
    try {
      co_yield "round " + std::to_string(round);
    } catch (const weft::ValueError& error) {
      caught = error.what();
    }
    if (!caught.empty()) co_yield "caught " + caught;
  }
}

TEST(Generator, ThrowRaisesAtTheCoYieldAndReturnsTheNextValue) {
  auto g = resilient();
  EXPECT_EQ(g.next(), "round 0");
  EXPECT_EQ(g.throw_(weft::ValueError("bad")), "caught bad");
  EXPECT_EQ(g.next(), "round 1");
  EXPECT_EQ(g.throw_(std::make_exception_ptr(weft::ValueError("worse"))), "caught worse");
  EXPECT_EQ(g.next(), "round 2");
  EXPECT_THROW(g.throw_(weft::KeyError("unhandled")), weft::KeyError);
  EXPECT_EQ(g.state(), GeneratorState::GEN_CLOSED);
}

Generator<int, void, int> returns_when_thrown_into() {
  try {
    co_yield 1;
  } catch (const weft::ValueError&) {
  }
  co_return 99;
}

TEST(Generator, ThrowThatEndsTheBodyThrowsStopIteration) {
  auto g = returns_when_thrown_into();
  EXPECT_EQ(g.next(), 1);
  try {
    g.throw_(weft::ValueError("stop"));
    FAIL() << "no StopIteration";
  } catch (const aio::StopIteration& stop) {
    EXPECT_EQ(stop.value<int>(), 99);
  }
}

TEST(Generator, ThrowIntoAnUnstartedGeneratorEndsItWithoutRunningTheBody) {
  Log log;
  auto g = logged_count(log, 3);
  EXPECT_THROW(g.throw_(weft::KeyError("early")), weft::KeyError);
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(g.state(), GeneratorState::GEN_CLOSED);
  EXPECT_THROW(g.next(), aio::StopIteration);
}

TEST(Generator, ThrowIntoAnEndedGeneratorRaisesTheException) {
  auto g = count(0);
  EXPECT_FALSE(g.try_next());
  EXPECT_THROW(g.throw_(weft::KeyError("late")), weft::KeyError);
}

TEST(Generator, ThrowOfANullExceptionIsATypeError) {
  auto g = count(2);
  EXPECT_EQ(g.next(), 0);
  EXPECT_THROW(g.throw_(std::exception_ptr()), weft::TypeError);
  EXPECT_EQ(g.next(), 1);
}

// ----------------------------------------------------------------- close

Generator<int> cleans_up(Log& log) {
  OnDestruction resource{log, "resource"};
  try {
    co_yield 1;
    co_yield 2;
  } catch (const aio::GeneratorExit&) {
    log.push_back("GeneratorExit");
    throw;
  }
}

TEST(Generator, CloseRaisesGeneratorExitInsideAndRunsItsCleanup) {
  Log log;
  auto g = cleans_up(log);
  EXPECT_EQ(g.next(), 1);
  g.close();
  EXPECT_EQ(log, (Log{"GeneratorExit", "~resource"}));
  EXPECT_EQ(g.state(), GeneratorState::GEN_CLOSED);
  g.close();
  EXPECT_EQ(log.size(), 2u);
  EXPECT_THROW(g.next(), aio::StopIteration);
}

Generator<int, void, int> returns_on_generator_exit(Log& log) {
  try {
    co_yield 1;
  } catch (const aio::GeneratorExit&) {
    log.push_back("GeneratorExit");
  }
  co_return 5;
}

TEST(Generator, CloseAcceptsABodyThatReturnsAndDiscardsTheValue) {
  Log log;
  auto g = returns_on_generator_exit(log);
  EXPECT_EQ(g.next(), 1);
  g.close();
  EXPECT_EQ(log, (Log{"GeneratorExit"}));
  try {
    g.next();
    FAIL() << "no StopIteration";
  } catch (const aio::StopIteration& stop) {
    EXPECT_FALSE(stop.has_value());
  }
}

Generator<int> ignores_generator_exit() {
  for (int i = 0;; ++i) {
    try {
      co_yield i;
    } catch (const aio::GeneratorExit&) {
    }
  }
}

TEST(Generator, YieldingAfterGeneratorExitIsARuntimeError) {
  auto g = ignores_generator_exit();
  EXPECT_EQ(g.next(), 0);
  try {
    g.close();
    FAIL() << "no RuntimeError";
  } catch (const weft::RuntimeError& error) {
    EXPECT_STREQ(error.what(), "generator ignored GeneratorExit");
  }
  EXPECT_EQ(g.state(), GeneratorState::GEN_SUSPENDED);
  EXPECT_EQ(g.next(), 2);
}

Generator<int> fails_on_generator_exit() {
  try {
    co_yield 1;
  } catch (const aio::GeneratorExit&) {
    throw weft::KeyError("while closing");
  }
}

TEST(Generator, CloseLetsAnotherExceptionThrough) {
  auto g = fails_on_generator_exit();
  EXPECT_EQ(g.next(), 1);
  EXPECT_THROW(g.close(), weft::KeyError);
  EXPECT_EQ(g.state(), GeneratorState::GEN_CLOSED);
}

TEST(Generator, CloseOfAnUnstartedGeneratorNeverRunsIt) {
  Log log;
  auto g = cleans_up(log);
  g.close();
  EXPECT_EQ(g.state(), GeneratorState::GEN_CLOSED);
  EXPECT_THROW(g.next(), aio::StopIteration);
  EXPECT_TRUE(log.empty());
}

TEST(Generator, DestroyingASuspendedGeneratorRunsDestructorsWithoutResumingIt) {
  Log log;
  {
    auto g = cleans_up(log);
    EXPECT_EQ(g.next(), 1);
  }
  EXPECT_EQ(log, (Log{"~resource"}));
}

// ------------------------------------------------------------ range-for

static_assert(std::input_iterator<Generator<int>::iterator>);
static_assert(std::ranges::input_range<Generator<int>>);

TEST(Generator, RangeForYieldsEveryValue) {
  std::vector<int> values;
  for (int value : count(4)) values.push_back(value);
  EXPECT_EQ(values, (std::vector<int>{0, 1, 2, 3}));
}

TEST(Generator, RangeForContinuesWhereNextLeftOff) {
  auto g = count(4);
  EXPECT_EQ(g.next(), 0);
  EXPECT_EQ(drain(g), (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(drain(g).empty());
}

TEST(Generator, RangeForPropagatesTheBodysException) {
  Log log;
  auto g = fails_after_one(log);
  std::vector<int> values;
  const auto iterate = [&] {
    for (int value : g) values.push_back(value);
  };
  EXPECT_THROW(iterate(), weft::KeyError);
  EXPECT_EQ(values, (std::vector<int>{1}));
}

TEST(Generator, IteratorSurvivesAMoveOfTheGenerator) {
  auto g = count(3);
  auto it = g.begin();
  EXPECT_EQ(*it, 0);
  Generator<int> moved = std::move(g);
  ++it;
  EXPECT_EQ(*it, 1);
  EXPECT_EQ(moved.next(), 2);
  ++it;
  EXPECT_TRUE(it == moved.end());
}

// ------------------------------------------------------------ ownership

TEST(Generator, MovedMidIterationContinuesInItsNewOwner) {
  auto g = count(3);
  EXPECT_EQ(g.next(), 0);
  Generator<int> h = std::move(g);
  EXPECT_EQ(h.next(), 1);
  EXPECT_FALSE(g);
  EXPECT_EQ(g.state(), GeneratorState::GEN_CLOSED);
  EXPECT_THROW(g.next(), weft::ValueError);

  g = std::move(h);
  EXPECT_EQ(g.next(), 2);
  EXPECT_FALSE(g.try_next());
}

TEST(Generator, MoveAssignmentDestroysTheGeneratorItReplaces) {
  Log log;
  auto g = cleans_up(log);
  EXPECT_EQ(g.next(), 1);
  g = cleans_up(log);
  EXPECT_EQ(log, (Log{"~resource"}));
  EXPECT_EQ(g.state(), GeneratorState::GEN_CREATED);
}

TEST(Generator, EmptyGeneratorRefusesEverythingButClose) {
  Generator<int, int> g;
  EXPECT_FALSE(g);
  EXPECT_EQ(g.state(), GeneratorState::GEN_CLOSED);
  EXPECT_THROW(g.next(), weft::ValueError);
  EXPECT_THROW(g.try_next(), weft::ValueError);
  EXPECT_THROW(g.send(1), weft::ValueError);
  EXPECT_THROW(g.throw_(weft::KeyError("x")), weft::ValueError);
  EXPECT_THROW(g.begin(), weft::ValueError);
  g.close();
}

TEST(Generator, ResumesOnAnotherThreadBetweenCalls) {
  auto g = count(3);
  EXPECT_EQ(g.next(), 0);
  int on_other_thread = -1;
  std::thread([&] { on_other_thread = g.next(); }).join();
  EXPECT_EQ(on_other_thread, 1);
  EXPECT_EQ(g.next(), 2);
}

// ------------------------------------------------------------ reentrancy

struct ReentrancyReport {
  std::vector<std::string> errors;
  GeneratorState state_inside = GeneratorState::GEN_CREATED;
};

Generator<int, int> calls_itself(Generator<int, int>& self, ReentrancyReport& report) {
  report.state_inside = self.state();
  try {
    self.next();
  } catch (const weft::ValueError& error) {
    report.errors.push_back(std::string("next: ") + error.what());
  }
  try {
    self.send(1);
  } catch (const weft::ValueError& error) {
    report.errors.push_back(std::string("send: ") + error.what());
  }
  try {
    self.close();
  } catch (const weft::ValueError& error) {
    report.errors.push_back(std::string("close: ") + error.what());
  }
  co_yield 1;
  co_yield 2;
}

TEST(Generator, ReentrantCallsAreAValueErrorAsInPython) {
  ReentrancyReport report;
  Generator<int, int> g;
  g = calls_itself(g, report);
  EXPECT_EQ(g.next(), 1);
  EXPECT_EQ(report.state_inside, GeneratorState::GEN_RUNNING);
  EXPECT_EQ(report.errors, (std::vector<std::string>{"next: generator already executing",
                                                     "send: generator already executing",
                                                     "close: generator already executing"}));
  EXPECT_EQ(g.next(), 2);
}

Generator<int, int> delegates_to_a_reentrant_call(Generator<int, int>& self, ReentrancyReport& report) {
  co_yield aio::yield_from(calls_itself(self, report));
}

TEST(Generator, ReentrantCallFromADelegateIsAValueError) {
  ReentrancyReport report;
  Generator<int, int> g;
  g = delegates_to_a_reentrant_call(g, report);
  EXPECT_EQ(g.next(), 1);
  EXPECT_EQ(report.state_inside, GeneratorState::GEN_RUNNING);
  EXPECT_EQ(report.errors.size(), 3u);
  EXPECT_EQ(g.next(), 2);
}

// ------------------------------------------------------------ allocation

Generator<int, void, int> pair_with_sum(int a, int b) {
  co_yield a;
  co_yield b;
  co_return a + b;
}

Generator<int> sums() {
  const int first = co_yield aio::yield_from(pair_with_sum(1, 2));
  co_yield first;
  const int second = co_yield aio::yield_from(pair_with_sum(10, 20));
  co_yield second;
}

TEST(Generator, AllocatesOneFramePerGeneratorAndNothingPerYield) {
  std::size_t at_creation = 0;
  std::size_t while_iterating = 0;
  long total = 0;
  {
    AllocationCounter counter;
    auto g = count(1000);
    at_creation = counter.count();
    for (int value : g) total += value;
    while_iterating = counter.count() - at_creation;
  }
  EXPECT_LE(at_creation, 1u);
  EXPECT_EQ(while_iterating, 0u);
  EXPECT_EQ(total, 999 * 1000 / 2);

  std::size_t nested = 0;
  std::vector<int> values;
  values.reserve(8);
  {
    AllocationCounter counter;
    for (int value : sums()) values.push_back(value);
    nested = counter.count();
  }
  EXPECT_LE(nested, 3u);  // the frames of sums() and its two delegates
  EXPECT_EQ(values, (std::vector<int>{1, 2, 3, 10, 20, 30}));
}

// ------------------------------------------------------------ yield from

TEST(YieldFrom, DelegateValuesComeOutAndItsReturnValueIsTheResult) {
  auto g = sums();
  EXPECT_EQ(drain(g), (std::vector<int>{1, 2, 3, 10, 20, 30}));
}

Generator<int, void, std::string> describes_sum(int a, int b) {
  const int sum = co_yield aio::yield_from(pair_with_sum(a, b));
  co_return std::to_string(a) + "+" + std::to_string(b) + "=" + std::to_string(sum);
}

TEST(YieldFrom, DelegateMayReturnAnotherType) {
  auto g = describes_sum(2, 3);
  EXPECT_EQ(g.next(), 2);
  EXPECT_EQ(g.next(), 3);
  try {
    g.next();
    FAIL() << "no StopIteration";
  } catch (const aio::StopIteration& stop) {
    EXPECT_EQ(stop.value<std::string>(), "2+3=5");
  }
}

std::string describe(const std::optional<int>& sent) { return sent ? std::to_string(*sent) : "None"; }

Generator<std::string, int, int> level3(Log& log) {
  std::optional<int> a = co_yield "level3";
  log.push_back("level3 got " + describe(a));
  std::optional<int> b = co_yield "level3 again";
  log.push_back("level3 got " + describe(b));
  co_return b.value_or(0) * 10;
}

Generator<std::string, int, int> level2(Log& log) {
  const int result = co_yield aio::yield_from(level3(log));
  log.push_back("level2 result " + std::to_string(result));
  std::optional<int> c = co_yield "level2";
  log.push_back("level2 got " + describe(c));
  co_return result + c.value_or(0);
}

Generator<std::string, int> level1(Log& log) {
  const int result = co_yield aio::yield_from(level2(log));
  co_yield "level1 " + std::to_string(result);
}

TEST(YieldFrom, SendReachesTheInnermostGeneratorThroughThreeLevels) {
  Log log;
  auto g = level1(log);
  EXPECT_EQ(g.next(), "level3");
  EXPECT_EQ(g.next(), "level3 again");
  EXPECT_EQ(g.send(7), "level2");
  EXPECT_EQ(g.send(9), "level1 79");
  EXPECT_EQ(log, (Log{"level3 got None", "level3 got 7", "level2 result 70", "level2 got 9"}));
  EXPECT_THROW(g.send(1), aio::StopIteration);
}

Generator<int> raises_key_error() {
  co_yield 1;
  throw weft::KeyError("deep");
}

Generator<int> forwards() { co_yield aio::yield_from(raises_key_error()); }

Generator<int> forwards_again() { co_yield aio::yield_from(forwards()); }

TEST(YieldFrom, ExceptionsKeepTheirTypeThroughNestedDelegation) {
  auto g = forwards_again();
  EXPECT_EQ(g.next(), 1);
  EXPECT_THROW(g.next(), weft::KeyError);
  EXPECT_EQ(g.state(), GeneratorState::GEN_CLOSED);
}

Generator<int> catches_from_its_delegate(Log& log) {
  try {
    co_yield aio::yield_from(forwards());
  } catch (const weft::KeyError& error) {
    log.push_back(std::string("caught ") + error.what());
  }
  co_yield 2;
}

TEST(YieldFrom, DelegatingGeneratorCanCatchTheDelegatesException) {
  Log log;
  auto g = catches_from_its_delegate(log);
  EXPECT_EQ(drain(g), (std::vector<int>{1, 2}));
  EXPECT_EQ(log, (Log{"caught deep"}));
}

Generator<std::string> handles_value_error() {
  try {
    co_yield "inner";
  } catch (const weft::ValueError&) {
  }
  co_yield "inner handled";
}

Generator<std::string> handles_key_error() {
  bool caught = false;
  try {
    co_yield aio::yield_from(handles_value_error());
  } catch (const weft::KeyError&) {
    caught = true;
  }
  if (caught) co_yield "middle handled";
}

Generator<std::string> outermost() { co_yield aio::yield_from(handles_key_error()); }

TEST(YieldFrom, ThrowReachesTheInnermostGeneratorAndPropagatesOutward) {
  auto g = outermost();
  EXPECT_EQ(g.next(), "inner");
  EXPECT_EQ(g.throw_(weft::ValueError("for the innermost")), "inner handled");
  EXPECT_EQ(g.throw_(weft::KeyError("for the middle")), "middle handled");
  EXPECT_THROW(g.throw_(weft::IndexError("for nobody")), weft::IndexError);
}

Generator<int> closable(Log& log, std::vector<std::string> names) {
  const std::string name = names.back();
  names.pop_back();
  OnDestruction resource{log, name};
  try {
    if (names.empty())
      co_yield 0;
    else
      co_yield aio::yield_from(closable(log, names));
  } catch (const aio::GeneratorExit&) {
    log.push_back("GeneratorExit in " + name);
    throw;
  }
}

TEST(YieldFrom, CloseClosesEveryLevelInnermostFirst) {
  Log log;
  auto g = closable(log, {"c", "b", "a"});
  EXPECT_EQ(g.next(), 0);
  g.close();
  EXPECT_EQ(log, (Log{"GeneratorExit in c", "~c", "GeneratorExit in b", "~b", "GeneratorExit in a", "~a"}));
  EXPECT_EQ(g.state(), GeneratorState::GEN_CLOSED);
}

TEST(YieldFrom, DestroyingASuspendedChainDestroysEveryFrameLeafFirst) {
  Log log;
  {
    auto g = closable(log, {"c", "b", "a"});
    EXPECT_EQ(g.next(), 0);
  }
  EXPECT_EQ(log, (Log{"~c", "~b", "~a"}));
}

Generator<int> delegates_then_goes_on(Log& log) {
  try {
    const int result = co_yield aio::yield_from(returns_on_generator_exit(log));
    log.push_back("resumed with " + std::to_string(result));
  } catch (const aio::GeneratorExit&) {
    log.push_back("GeneratorExit in the delegating generator");
  }
  co_yield aio::yield_from(count(0));
  log.push_back("a later delegation returned normally");
}

TEST(YieldFrom, DelegatingGeneratorGetsGeneratorExitEvenIfTheDelegateReturned) {
  Log log;
  auto g = delegates_then_goes_on(log);
  EXPECT_EQ(g.next(), 1);
  g.close();
  EXPECT_EQ(log, (Log{"GeneratorExit", "GeneratorExit in the delegating generator",
                      "a later delegation returned normally"}));
  EXPECT_EQ(g.state(), GeneratorState::GEN_CLOSED);
}

Generator<int> ignores_generator_exit_once() {
  try {
    co_yield 1;
  } catch (const aio::GeneratorExit&) {
  }
  co_yield 2;
}

Generator<int> delegates_to_one_that_ignores_generator_exit(Log& log) {
  co_yield aio::yield_from(ignores_generator_exit_once());
  log.push_back("the delegate returned");
  co_yield 3;
}

TEST(YieldFrom, DelegateIgnoringGeneratorExitLeavesTheChainSuspended) {
  Log log;
  auto g = delegates_to_one_that_ignores_generator_exit(log);
  EXPECT_EQ(g.next(), 1);
  EXPECT_THROW(g.close(), weft::RuntimeError);
  EXPECT_EQ(g.state(), GeneratorState::GEN_SUSPENDED);
  EXPECT_EQ(g.next(), 3);  // the delegate's later return is an ordinary one
  EXPECT_EQ(log, (Log{"the delegate returned"}));
}

Generator<int> yields_from(Generator<int> inner) { co_yield aio::yield_from(std::move(inner)); }

TEST(YieldFrom, StartedGeneratorContinuesWhereItWas) {
  auto inner = count(4);
  EXPECT_EQ(inner.next(), 0);
  EXPECT_EQ(inner.next(), 1);
  auto g = yields_from(std::move(inner));
  EXPECT_EQ(drain(g), (std::vector<int>{2, 3}));
}

TEST(YieldFrom, GeneratorSuspendedInItsOwnDelegationJoinsTheNewChain) {
  auto inner = sums();
  EXPECT_EQ(inner.next(), 1);  // suspended inside its first delegate
  auto g = yields_from(std::move(inner));
  EXPECT_EQ(g.next(), 2);
  EXPECT_EQ(g.next(), 3);
  EXPECT_EQ(g.next(), 10);
  auto outer = yields_from(std::move(g));  // and again, three levels deep now
  EXPECT_EQ(drain(outer), (std::vector<int>{20, 30}));
}

TEST(YieldFrom, EndedGeneratorWithoutReturnValueEvaluatesAtOnce) {
  auto inner = count(1);
  EXPECT_EQ(inner.next(), 0);
  EXPECT_FALSE(inner.try_next());
  auto g = yields_from(std::move(inner));
  EXPECT_FALSE(g.try_next());
}

Generator<int> sum_of_ended_delegate() {
  auto inner = pair_with_sum(1, 2);
  while (inner.try_next()) {
  }
  const int sum = co_yield aio::yield_from(std::move(inner));
  co_yield sum;
}

TEST(YieldFrom, EndedGeneratorWhoseReturnValueIsGoneIsAValueError) {
  auto g = sum_of_ended_delegate();
  EXPECT_THROW(g.next(), weft::ValueError);
}

TEST(YieldFrom, EmptyGeneratorIsAValueError) {
  EXPECT_THROW((void)aio::yield_from(Generator<int>()), weft::ValueError);
}

// ------------------------------------------------------- deep delegation

constexpr int kDepth = 10'000;

// Where the native stack is in the function that calls this.
[[gnu::noinline]] std::uintptr_t stack_position() {
  return reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
}

std::uintptr_t distance(std::uintptr_t a, std::uintptr_t b) { return a > b ? a - b : b - a; }

// Measures how far from where it was made the native stack reaches.
class StackProbe {
 public:
  StackProbe() : origin_(stack_position()) {}
  void probe() { farthest_ = std::max(farthest_, distance(origin_, stack_position())); }
  std::uintptr_t farthest() const { return farthest_; }

 private:
  std::uintptr_t origin_;
  std::uintptr_t farthest_ = 0;
};

// kDepth generators deep: the innermost yields twice and returns what it
// was sent; every level returns its delegate's value. Each probes the stack
// whenever it runs.
Generator<int, int, int> nested(int depth, StackProbe& stack) {
  stack.probe();
  if (depth == 0) {
    std::optional<int> sent = co_yield 1;
    stack.probe();
    co_yield 2;
    stack.probe();
    co_return sent.value_or(-1);
  }
  const int result = co_yield aio::yield_from(nested(depth - 1, stack));
  stack.probe();
  co_return result;
}

TEST(YieldFrom, TenThousandLevelsRunInConstantStack) {
  constexpr std::uintptr_t kSlack = 64 * 1024;  // far less than a frame per level
  StackProbe stack;
  auto g = nested(kDepth, stack);
  EXPECT_EQ(g.next(), 1);
  EXPECT_LT(stack.farthest(), kSlack) << "building the chain";
  EXPECT_EQ(g.send(7), 2);
  EXPECT_LT(stack.farthest(), kSlack) << "resuming its leaf";
  try {
    g.next();
    FAIL() << "no StopIteration";
  } catch (const aio::StopIteration& stop) {
    EXPECT_EQ(stop.value<int>(), 7);
  }
  EXPECT_LT(stack.farthest(), kSlack) << "unwinding the chain";
}

Generator<int> nested_failing(int depth, int& destroyed) {
  struct CountDestruction {
    int& destroyed;
    ~CountDestruction() { ++destroyed; }
  } count_destruction{destroyed};
  if (depth == 0) {
    co_yield 1;
    throw weft::KeyError("from the bottom");
  }
  co_yield aio::yield_from(nested_failing(depth - 1, destroyed));
}

TEST(YieldFrom, TenThousandLevelsPropagateAnExceptionWithItsType) {
  int destroyed = 0;
  auto g = nested_failing(kDepth, destroyed);
  EXPECT_EQ(g.next(), 1);
  EXPECT_THROW(g.next(), weft::KeyError);
  EXPECT_EQ(destroyed, kDepth + 1);
}

TEST(YieldFrom, TenThousandLevelsClose) {
  int destroyed = 0;
  auto g = nested_failing(kDepth, destroyed);
  EXPECT_EQ(g.next(), 1);
  g.close();
  EXPECT_EQ(destroyed, kDepth + 1);
  EXPECT_EQ(g.state(), GeneratorState::GEN_CLOSED);
}

TEST(YieldFrom, TenThousandLevelsAreDestroyedWithoutRecursion) {
  int destroyed = 0;
  {
    auto g = nested_failing(kDepth, destroyed);
    EXPECT_EQ(g.next(), 1);
  }
  EXPECT_EQ(destroyed, kDepth + 1);
}

}  // namespace
