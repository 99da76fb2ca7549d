// Process identities and families: names, current_process and
// parent_process in a child, grandchildren, daemons (no children of their
// own, death with a SIGKILLed parent, termination at exit), the start
// method settings and the multi-threaded fork warning.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <latch>
#include <string>
#include <thread>

#include "test_process_support.hpp"
#include "weft/errors.hpp"

namespace process_test {
namespace {

using weft::mp::Process;
using weft::mp::ProcessOptions;

class ProcessFamily : public testing::TestWithParam<StartMethod> {};

void noop() {}
void hang() { block_forever(); }

void describe(Report report) {
  const auto me = weft::mp::current_process();
  const auto parent = weft::mp::parent_process();
  report.send(me.name() + "|" + std::to_string(*me.pid() == ::getpid()) + "|" +
              std::to_string(me.daemon()) + "|" + (parent ? parent->name() : "none") + "|" +
              (parent ? std::to_string(*parent->pid()) : "0") + "|" +
              std::to_string(parent && parent->is_alive()) + "|" +
              weft::mp::get_start_method() + "|" +
              std::to_string(weft::mp::active_children().size()));
}

void describe_grandchild(Report report) {
  auto p = weft::mp::get_context().Process(&describe, report);
  report.send(p.name());
  p.start();
  p.join();
}

void try_to_have_children(Report report) {
  try {
    Process(&noop).start();
    report.send("started");
  } catch (const weft::RuntimeError& e) {
    report.send(e.what());
  }
}

// Starts a daemon grandchild that hangs, reports its pid, then hangs.
void start_daemon_then_hang(Report report) {
  auto daemon = weft::mp::get_context().Process(ProcessOptions{.daemon = true}, &hang);
  daemon.start();
  report.send(std::to_string(*daemon.pid()));
  block_forever();
}

// Starts a daemon grandchild that hangs and a plain one that ends, then
// returns: the exit of this child must terminate the first, join the second.
void leave_children_behind(Report report) {
  auto daemon = new Process(ProcessOptions{.daemon = true}, &hang);
  auto plain = new Process(&noop);
  daemon->start();
  plain->start();
  report.send(std::to_string(*daemon->pid()));
  // Never destroyed: the exit function is what ends them.
}

TEST_P(ProcessFamily, NamesAndParentInTheChild) {
  ReportPipe pipe;
  auto p = weft::mp::Context(GetParam()).Process(&describe, pipe.report());
  p.start();
  const std::string expected = p.name() + "|1|0|MainProcess|" + std::to_string(::getpid()) +
                               "|1|" + std::string(weft::mp::start_method_name(GetParam())) + "|0";
  EXPECT_EQ(pipe.line(), expected);
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST_P(ProcessFamily, GrandchildrenAreNamedAfterTheirParent) {
  ReportPipe pipe;
  auto p = weft::mp::Context(GetParam()).Process(&describe_grandchild, pipe.report());
  p.start();
  const std::string child = p.name();
  EXPECT_EQ(pipe.line(), child + ":1");
  const auto line = pipe.line();
  ASSERT_TRUE(line);
  EXPECT_TRUE(line->starts_with(child + ":1|1|0|" + child + "|" + std::to_string(*p.pid()) + "|1|"))
      << *line;
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST_P(ProcessFamily, DaemonsMayNotHaveChildren) {
  ReportPipe pipe;
  auto p = weft::mp::Context(GetParam()).Process(ProcessOptions{.daemon = true},
                                                 &try_to_have_children, pipe.report());
  p.start();
  EXPECT_EQ(pipe.line(), "daemonic processes are not allowed to have children");
  p.join();
}

TEST_P(ProcessFamily, DaemonGrandchildDiesWithAKilledParent) {
  ReportPipe pipe;
  auto p = weft::mp::Context(GetParam()).Process(&start_daemon_then_hang, pipe.report());
  p.start();
  const auto line = pipe.line();
  ASSERT_TRUE(line) << "no grandchild";
  const pid_t grandchild = std::stoi(*line);
  const int pidfd = pidfd_open(grandchild);
  ASSERT_GE(pidfd, 0);
  EXPECT_FALSE(ends_within(pidfd, 0ms));
  p.kill();
  p.join();
  EXPECT_EQ(p.exitcode(), -9);
  const bool ended = ends_within(pidfd, generous);
  if (!ended) pidfd_kill(pidfd);
  EXPECT_TRUE(ended);
  ::close(pidfd);
}

TEST_P(ProcessFamily, ExitTerminatesDaemonsAndJoinsTheRest) {
  ReportPipe pipe;
  auto p = weft::mp::Context(GetParam()).Process(&leave_children_behind, pipe.report());
  p.start();
  const auto line = pipe.line();
  ASSERT_TRUE(line);
  const int pidfd = pidfd_open(std::stoi(*line));
  EXPECT_TRUE(p.join(generous));
  EXPECT_EQ(p.exitcode(), 0);
  if (pidfd >= 0) {  // the grandchild may already be gone
    const bool ended = ends_within(pidfd, generous);
    if (!ended) pidfd_kill(pidfd);
    EXPECT_TRUE(ended);
    ::close(pidfd);
  }
}

TEST_P(ProcessFamily, DaemonStartedOffTheMainThreadOutlivesThatThread) {
  std::optional<Process> p;
  std::thread([&] {
    p.emplace(weft::mp::detail::WithMethod{GetParam()}, ProcessOptions{.daemon = true}, &hang);
    p->start();
  }).join();
  EXPECT_FALSE(p->join(100ms)) << "the daemon died with the thread that started it";
  p->kill();
  p->join();
  EXPECT_EQ(p->exitcode(), -9);
}

INSTANTIATE_TEST_SUITE_P(Methods, ProcessFamily, all_methods, method_name);

TEST(ProcessRegistry, MainProcess) {
  const auto me = weft::mp::current_process();
  EXPECT_EQ(me.name(), "MainProcess");
  EXPECT_EQ(me.pid(), ::getpid());
  EXPECT_FALSE(me.daemon());
  EXPECT_TRUE(me.is_alive());
  EXPECT_FALSE(me.exitcode());
  EXPECT_THROW(me.join(), weft::RuntimeError);
  EXPECT_THROW(me.terminate(), weft::RuntimeError);
  EXPECT_FALSE(weft::mp::parent_process());
  EXPECT_EQ(weft::mp::current_process(), me);
}

TEST(ProcessRegistry, DefaultNamesCount) {
  Process a(&noop);
  Process b(&noop);
  const int first = std::stoi(a.name().substr(std::string("Process-").size()));
  EXPECT_EQ(b.name(), "Process-" + std::to_string(first + 1));
}

TEST(ProcessRegistry, OnlyTheCreatorUsesAProcess) {
  Process other(&noop);
  ReportPipe pipe;
  Process p([&] {
    for (auto call : {+[](Process& q) { q.is_alive(); }, +[](Process& q) { q.start(); }}) {
      try {
        call(other);
        pipe.report().send("allowed");
      } catch (const weft::RuntimeError& e) {
        pipe.report().send(e.what());
      }
    }
  });
  p.start();
  EXPECT_EQ(pipe.line(), "can only test a child process");
  EXPECT_EQ(pipe.line(), "can only start a process object created by current process");
  p.join();
}

TEST(ProcessStartMethods, SetGetAndContexts) {
  EXPECT_EQ(weft::mp::get_all_start_methods(),
            (std::vector<std::string>{"fork", "spawn", "forkserver"}));
  weft::mp::set_start_method("", true);
  EXPECT_FALSE(weft::mp::get_start_method(true));
  EXPECT_EQ(weft::mp::get_start_method(), "fork");  // fixes the default
  EXPECT_THROW(weft::mp::set_start_method("spawn"), weft::RuntimeError);
  weft::mp::set_start_method("spawn", true);
  EXPECT_EQ(weft::mp::get_start_method(), "spawn");
  EXPECT_EQ(weft::mp::get_context().get_start_method(), "spawn");
  EXPECT_EQ(weft::mp::get_context("forkserver").get_start_method(), "forkserver");
  EXPECT_THROW(weft::mp::get_context("thread"), weft::ValueError);
  EXPECT_THROW(weft::mp::set_start_method("thread", true), weft::ValueError);

  ReportPipe pipe;  // the global method applies to a plain Process
  Process p(&describe, pipe.report());
  p.start();
  const auto line = pipe.line();
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("|spawn|"), std::string::npos) << *line;
  p.join();
  weft::mp::set_start_method("fork", true);
}

TEST(ProcessForkWarning, MultiThreadedForkWarns) {
  std::latch release(1);
  std::thread other([&] { release.wait(); });
  Capture err(STDERR_FILENO);
  Process p(&noop);
  p.start();
  p.join();
  const std::string text = err.text();
  release.count_down();
  other.join();
  EXPECT_NE(text.find("DeprecationWarning: This process (pid=" + std::to_string(::getpid()) +
                      ") is multi-threaded, use of fork() may lead to deadlocks in the child.\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace process_test
