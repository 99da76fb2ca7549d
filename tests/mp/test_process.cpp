// weft::mp::Process under each start method: exit codes, joins, signals,
// sentinels, closing, output, and arguments that own descriptors.
#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "test_process_support.hpp"
#include "weft/errors.hpp"
#include "weft/mp/connection.hpp"

namespace process_test {
// Encodes, but refuses to be decoded.
struct Undecodable {};
}  // namespace process_test

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
namespace adaptor {
template <>
struct pack<process_test::Undecodable> {
  template <class Stream>
  packer<Stream>& operator()(packer<Stream>& o, const process_test::Undecodable&) const {
    return o.pack(0);
  }
};
template <>
struct convert<process_test::Undecodable> {
  const msgpack::object& operator()(const msgpack::object&, process_test::Undecodable&) const {
    throw weft::codec::DecodeError("refused");
  }
};
}  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack

namespace process_test {
namespace {

using weft::mp::Process;
using weft::mp::ProcessOptions;

class ProcessTest : public testing::TestWithParam<StartMethod> {
 protected:
  weft::mp::Context context() const { return weft::mp::Context(GetParam()); }
};

void noop() {}
void fail_with(std::string what) { throw weft::ValueError(what); }
void exit_with(int code) { throw weft::mp::SystemExit{code}; }
void hang() { block_forever(); }
void say(Report report, std::string text) { report.send(text); }
void print_child() {
  std::printf("child;");
  std::cout << "stream;";
}
void post(Mailbox mailbox, std::string text) { mailbox.write(text); }
void take_undecodable(Undecodable) {}
void say_then_hang(Report report) {
  report.send("running");
  block_forever();
}

TEST_P(ProcessTest, ExitcodeZero) {
  auto p = context().Process(&noop);
  EXPECT_FALSE(p.exitcode());
  EXPECT_FALSE(p.pid());
  EXPECT_FALSE(p.is_alive());
  p.start();
  ASSERT_TRUE(p.pid());
  EXPECT_EQ(p.ident(), p.pid());
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_FALSE(p.is_alive());
}

TEST_P(ProcessTest, ExceptionPrintsTracebackAndGivesOne) {
  auto p = context().Process(&fail_with, std::string("boom"));
  Capture err(STDERR_FILENO);
  p.start();
  p.join();
  const std::string text = err.text();
  EXPECT_EQ(p.exitcode(), 1);
  EXPECT_NE(text.find("Process " + p.name() + ":\nTraceback (most recent call last):\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nweft::ValueError: boom\n"), std::string::npos) << text;
}

TEST_P(ProcessTest, SystemExitGivesItsCode) {
  auto p = context().Process(&exit_with, 7);
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 7);
}

TEST_P(ProcessTest, TerminateGivesMinusFifteen) {
  ReportPipe pipe;
  auto p = context().Process(&say_then_hang, pipe.report());
  p.start();
  ASSERT_EQ(pipe.line(), "running");
  EXPECT_TRUE(p.is_alive());
  p.terminate();
  p.join();
  EXPECT_EQ(p.exitcode(), -15);
}

TEST_P(ProcessTest, KillGivesMinusNine) {
  auto p = context().Process(&hang);
  p.start();
  p.kill();
  p.join();
  EXPECT_EQ(p.exitcode(), -9);
  p.kill();  // nothing once ended
  p.terminate();
}

TEST_P(ProcessTest, JoinTimesOut) {
  auto p = context().Process(&hang);
  p.start();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(p.join(50ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
  EXPECT_FALSE(p.join(-1ms)) << "a negative timeout counts as 0, as in Python";
  EXPECT_TRUE(p.is_alive());
  EXPECT_FALSE(p.exitcode());
  p.kill();
  EXPECT_TRUE(p.join(generous));
  EXPECT_TRUE(p.join(0ms));
  EXPECT_TRUE(p.join(-1ms));
}

TEST_P(ProcessTest, SentinelPollsReadableAtExit) {
  auto p = context().Process(&hang);
  EXPECT_THROW(p.sentinel(), weft::ValueError);
  p.start();
  pollfd ready{p.sentinel(), POLLIN, 0};
  EXPECT_EQ(::poll(&ready, 1, 0), 0);
  p.kill();
  EXPECT_EQ(::poll(&ready, 1, 20'000), 1);
  p.join();
  EXPECT_EQ(p.exitcode(), -9);
}

TEST_P(ProcessTest, ReportsThroughAnInheritedPipe) {
  ReportPipe pipe;
  auto p = context().Process(&say, pipe.report(), std::string("hello"));
  p.start();
  EXPECT_EQ(pipe.line(), "hello");
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

void say_noexcept(Report report, std::string text) noexcept { report.send(text); }

TEST_P(ProcessTest, ArgumentsTravelAsTheParameterTypes) {
  ReportPipe pipe;
  auto p = context().Process(&say_noexcept, pipe.report(), "a literal");
  p.start();
  EXPECT_EQ(pipe.line(), "a literal");
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

void greet_over(weft::mp::Connection connection) { connection.send_bytes("hi"); }

// As in Python, start() drops the parent's copy of the target's arguments:
// once the child is done with its end of the Pipe, the parent reads end of
// file while the Process object still lives.
TEST_P(ProcessTest, ParentDropsTheArgumentsOnceStarted) {
  auto [parent_end, child_end] = weft::mp::Pipe();
  auto p = context().Process(&greet_over, std::move(child_end));
  p.start();
  ASSERT_TRUE(parent_end.poll(std::chrono::seconds(20)));
  EXPECT_EQ(parent_end.recv_bytes(), "hi");
  ASSERT_TRUE(parent_end.poll(std::chrono::seconds(20))) << "the parent still holds the child's end";
  EXPECT_THROW(parent_end.recv_bytes(), weft::EOFError);
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST_P(ProcessTest, UndecodableArgumentsEndTheChildWithOne) {
  auto p = context().Process(&take_undecodable, Undecodable{});
  Capture err(STDERR_FILENO);
  p.start();
  p.join();
  const std::string text = err.text();
  EXPECT_EQ(p.exitcode(), GetParam() == StartMethod::fork ? 0 : 1);
  if (GetParam() != StartMethod::fork) {
    EXPECT_NE(text.find("weft::codec::DecodeError"), std::string::npos) << text;
  }
}

TEST_P(ProcessTest, SharedBlockArgumentIsWrittenByTheChild) {
  const Mailbox mailbox = Mailbox::create();
  auto p = context().Process(&post, mailbox, std::string("written by the child"));
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(mailbox.read(), "written by the child");
}

TEST_P(ProcessTest, CaptureLessLambdaTarget) {
  ReportPipe pipe;
  auto p = context().Process([](Report r, int n) { r.send(std::to_string(n * 2)); },
                             pipe.report(), 21);
  p.start();
  EXPECT_EQ(pipe.line(), "42");
  p.join();
}

TEST_P(ProcessTest, ChildOutputIsFlushedAndNotDuplicated) {
  Capture out(STDOUT_FILENO);
  std::printf("parent;");  // buffered: must be written once, before the child's
  auto p = context().Process(&print_child);
  p.start();
  p.join();
  EXPECT_EQ(out.text(), "parent;child;stream;");
}

TEST_P(ProcessTest, CloseRules) {
  auto p = context().Process(&hang);
  p.start();
  EXPECT_THROW(p.close(), weft::ValueError);
  p.kill();
  p.join();
  p.close();
  p.close();  // twice is fine
  EXPECT_THROW(p.exitcode(), weft::ValueError);
  EXPECT_THROW(p.is_alive(), weft::ValueError);
  EXPECT_THROW(p.join(), weft::ValueError);
  EXPECT_THROW(p.sentinel(), weft::ValueError);
  EXPECT_THROW(p.terminate(), weft::ValueError);
  EXPECT_THROW(p.start(), weft::ValueError);
  EXPECT_TRUE(p.pid());
  EXPECT_FALSE(p.name().empty());
}

TEST_P(ProcessTest, ClosingAnEndedChildNeverJoinedForgetsIt) {
  auto p = context().Process(&noop);
  p.start();
  pollfd ended{p.sentinel(), POLLIN, 0};
  ASSERT_EQ(::poll(&ended, 1, 20'000), 1);
  p.close();
  EXPECT_TRUE(weft::mp::active_children().empty());
  auto next = context().Process(&noop);
  next.start();
  next.join();
  EXPECT_EQ(next.exitcode(), 0);
}

TEST_P(ProcessTest, StateErrors) {
  auto p = context().Process(&noop);
  EXPECT_THROW(p.join(), weft::RuntimeError);
  EXPECT_THROW(p.terminate(), weft::RuntimeError);
  p.start();
  EXPECT_THROW(p.start(), weft::RuntimeError);
  EXPECT_THROW(p.set_daemon(true), weft::RuntimeError);
  p.join();
}

TEST_P(ProcessTest, ActiveChildrenReapsFinishedOnes) {
  auto quick = context().Process(&noop);
  auto slow = context().Process(&hang);
  quick.start();
  slow.start();
  pollfd ready{quick.sentinel(), POLLIN, 0};
  ASSERT_EQ(::poll(&ready, 1, 20'000), 1);
  const auto alive = weft::mp::active_children();
  ASSERT_EQ(alive.size(), 1u);
  EXPECT_EQ(alive[0], slow.handle());
  EXPECT_EQ(alive[0].pid(), slow.pid());
  EXPECT_EQ(quick.exitcode(), 0);
  slow.kill();
  slow.join();
  EXPECT_TRUE(weft::mp::active_children().empty());
}

TEST_P(ProcessTest, DestructorTerminatesADaemonAndJoins) {
  int pidfd = -1;
  {
    auto p = context().Process(ProcessOptions{.daemon = true}, &hang);
    p.start();
    pidfd = pidfd_open(*p.pid());
    ASSERT_GE(pidfd, 0);
  }
  EXPECT_TRUE(ends_within(pidfd, 0ms));
  ::close(pidfd);
  EXPECT_TRUE(weft::mp::active_children().empty());
}

TEST_P(ProcessTest, OptionsNameAndDaemon) {
  auto p = context().Process(ProcessOptions{.name = "worker", .daemon = true}, &noop);
  EXPECT_EQ(p.name(), "worker");
  EXPECT_TRUE(p.daemon());
  p.set_name("renamed");
  p.set_daemon(false);
  EXPECT_EQ(p.name(), "renamed");
  EXPECT_FALSE(p.daemon());
}

INSTANTIATE_TEST_SUITE_P(Methods, ProcessTest, all_methods, method_name);

// ------------------------------------------------ what only fork can carry

TEST(ProcessCaptures, ForkRunsAnyCallable) {
  ReportPipe pipe;
  const std::string captured = "captured";
  Process p([&] { pipe.report().send(captured); });
  weft::mp::get_context("fork").Process([&] { pipe.report().send("context"); }).start();
  p.start();
  EXPECT_EQ(pipe.line(), "context");
  EXPECT_EQ(pipe.line(), "captured");
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  for (auto& child : weft::mp::active_children()) child.join();
}

TEST(ProcessCaptures, SpawnAndForkserverRefuseCaptures) {
  int local = 0;
  for (const char* method : {"spawn", "forkserver"}) {
    auto p = weft::mp::get_context(method).Process([&] { ++local; });
    try {
      p.start();
      FAIL() << "started with captures under " << method;
    } catch (const weft::ValueError& e) {
      EXPECT_NE(std::string(e.what()).find("fork start method"), std::string::npos);
    }
    EXPECT_FALSE(p.pid());
  }
}

// Plain fork()s, one every few hundred microseconds, from another thread:
// a child that inherited a socket opened since this began (a start's
// payload channel, say) stops itself, still holding it, until destroyed.
class ForkingThread {
 public:
  ForkingThread() {
    for (int fd = 0; fd < max_fd; ++fd) known_[fd] = socket_inode(fd);
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        const pid_t pid = ::fork();
        if (pid == 0) {
          for (int fd = 0; fd < max_fd; ++fd)
            if (const ino_t inode = socket_inode(fd); inode != 0 && inode != known_[fd]) ::raise(SIGSTOP);
          ::_exit(0);
        }
        int status = 0;
        if (pid > 0 && ::waitpid(pid, &status, WUNTRACED) == pid && WIFSTOPPED(status)) stopped_.push_back(pid);
        std::this_thread::sleep_for(std::chrono::microseconds(300));
      }
    });
  }
  ~ForkingThread() {
    stop_.store(true);
    thread_.join();
    for (const pid_t pid : stopped_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }

 private:
  static constexpr int max_fd = 256;
  static ino_t socket_inode(int fd) {
    struct stat st;
    return ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) ? st.st_ino : 0;
  }
  ino_t known_[max_fd];
  std::atomic<bool> stop_{false};
  std::vector<pid_t> stopped_;
  std::thread thread_;
};

TEST(ProcessStart, ForksByAnotherThreadDoNotHoldASpawnedChildBack) {
  for (const char* method : {"spawn", "forkserver"}) {
    ForkingThread forks;
    for (int i = 0; i < 15; ++i) {
      auto p = weft::mp::get_context(method).Process(&noop);
      p.start();
      ASSERT_TRUE(p.join(std::chrono::seconds(10))) << method << " child " << i << " still reading its start";
      EXPECT_EQ(p.exitcode(), 0);
    }
  }
}

TEST(ProcessStart, ConcurrentStartsStartOneChild) {
  for (int round = 0; round < 50; ++round) {
    Process p(&noop);
    std::atomic<bool> go{false};
    std::atomic<int> started{0};
    std::atomic<int> refused{0};
    auto starter = [&] {
      while (!go.load()) {
      }
      try {
        p.start();
        ++started;
      } catch (const weft::RuntimeError& error) {
        EXPECT_STREQ(error.what(), "cannot start a process twice");
        ++refused;
      }
    };
    std::thread a(starter);
    std::thread b(starter);
    go = true;
    a.join();
    b.join();
    ASSERT_EQ(started.load(), 1) << "round " << round;
    EXPECT_EQ(refused.load(), 1);
    p.join();
    EXPECT_EQ(p.exitcode(), 0);
  }
}

// An argument whose encoding, done by start() for the spawn start method,
// holds start() until the test lets it go.
std::atomic<bool> encoding_started{false};
std::atomic<bool> encoding_released{false};
struct HeldEncoding {
  int value = 0;
  template <typename Packer>
  void msgpack_pack(Packer& packer) const {
    encoding_started = true;
    encoding_started.notify_all();
    encoding_released.wait(false);
    packer.pack(value);
  }
  void msgpack_unpack(const msgpack::object& object) { value = object.as<int>(); }
};

void take_held(HeldEncoding) {}

TEST(ProcessStart, CloseWhileAnotherThreadStartsRefuses) {
  encoding_started = false;
  encoding_released = false;
  auto p = weft::mp::get_context<StartMethod::spawn>().Process(&take_held, HeldEncoding{});
  std::thread starter([&] { p.start(); });
  encoding_started.wait(false);
  EXPECT_THROW(p.close(), weft::ValueError);
  encoding_released = true;
  encoding_released.notify_all();
  starter.join();
  ASSERT_TRUE(p.join(std::chrono::seconds(10)));
  EXPECT_EQ(p.exitcode(), 0);
  p.close();
}

class Subclass : public Process {
 public:
  explicit Subclass(Report report) : report_(report) {}
  void run() override { report_.send("subclass " + weft::mp::current_process().name()); }

 private:
  Report report_;
};

TEST(ProcessCaptures, SubclassRunUnderFork) {
  ReportPipe pipe;
  Subclass p(pipe.report());
  p.start();
  EXPECT_EQ(pipe.line(), "subclass " + p.name());
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST(ProcessCaptures, TypedContextAcceptsFunctionReferences) {
  ReportPipe pipe;
  auto p = weft::mp::get_context<StartMethod::spawn>().Process(&say, pipe.report(),
                                                                std::string("typed"));
  p.start();
  EXPECT_EQ(pipe.line(), "typed");
  p.join();
  EXPECT_EQ(weft::mp::get_context<StartMethod::forkserver>().get_start_method(), "forkserver");
}

}  // namespace
}  // namespace process_test
