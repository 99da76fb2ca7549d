// asyncio subprocesses: pipes as streams, exit codes and signals, waiting
// and its cancellation, communicate() with large input, redirections, the
// environment, descriptors the child must not inherit, and the end of a
// Process that nobody waited for — on both IO backends.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "io/io_support.hpp"
#include "weft/aio/subprocess.hpp"
#include "weft/asyncio.hpp"
#include "weft/net/errors.hpp"

namespace aio = weft::aio;
using namespace std::chrono_literals;

namespace {

class AioSubprocess : public ::testing::TestWithParam<weft::io::Backend> {
 protected:
  void SetUp() override {
    frames_at_start_ = aio::detail::live_frames();
    fds_at_start_ = weft::test::open_fd_count();
  }
  void TearDown() override {
    EXPECT_EQ(aio::detail::live_frames(), frames_at_start_) << "coroutine frames leaked";
    EXPECT_EQ(weft::test::open_fd_count(), fds_at_start_) << "descriptors leaked";
  }
  template <class T>
  T run(aio::Task<T> coro) {
    return aio::run(std::move(coro), weft::io::LoopOptions{.backend = GetParam()});
  }

 private:
  long frames_at_start_ = 0;
  int fds_at_start_ = 0;
};

const aio::SubprocessOptions kPipes{.stdin_ = aio::PIPE, .stdout_ = aio::PIPE, .stderr_ = aio::PIPE};

// Whether `pid` is gone entirely (reaped, not a zombie).
bool reaped(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

}  // namespace

TEST_P(AioSubprocess, EchoThroughCat) {
  run([]() -> aio::Task<void> {
    aio::Process cat = co_await aio::create_subprocess_exec("cat", kPipes);
    EXPECT_GT(cat.pid(), 0);
    EXPECT_FALSE(cat.returncode().has_value());
    aio::StreamWriter& in = *cat.stdin_();
    aio::StreamReader& out = *cat.stdout_();
    in.write("hello\n");
    co_await in.drain();
    EXPECT_EQ(co_await out.readline(), "hello\n");
    in.write("and goodbye");
    in.close();
    EXPECT_EQ(co_await out.read(), "and goodbye");
    EXPECT_TRUE(out.at_eof());
    EXPECT_EQ(co_await cat.wait(), 0);
    EXPECT_EQ(cat.returncode(), 0);
  }());
}

TEST_P(AioSubprocess, ExitCodesAreReported) {
  run([]() -> aio::Task<void> {
    aio::Process failing = co_await aio::create_subprocess_shell("exit 3");
    EXPECT_EQ(co_await failing.wait(), 3);
    EXPECT_EQ(failing.returncode(), 3);
    aio::Process fine = co_await aio::create_subprocess_exec("true");
    EXPECT_EQ(co_await fine.wait(), 0);
    EXPECT_EQ(co_await fine.wait(), 0) << "waiting again returns at once";
  }());
}

TEST_P(AioSubprocess, KillAndTerminateAreReportedAsNegativeSignals) {
  run([]() -> aio::Task<void> {
    aio::Process killed = co_await aio::create_subprocess_exec("sleep", "30");
    killed.kill();
    EXPECT_EQ(co_await killed.wait(), -SIGKILL);
    killed.terminate();  // reaped already: nothing happens
    aio::Process terminated = co_await aio::create_subprocess_exec("sleep", "30");
    terminated.terminate();
    EXPECT_EQ(co_await terminated.wait(), -SIGTERM);
    aio::Process signalled = co_await aio::create_subprocess_exec("sleep", "30");
    signalled.send_signal(SIGUSR1);
    EXPECT_EQ(co_await signalled.wait(), -SIGUSR1);
  }());
}

TEST_P(AioSubprocess, SeveralTasksMayWait) {
  run([]() -> aio::Task<void> {
    aio::Process child = co_await aio::create_subprocess_exec("sleep", "30");
    auto first = aio::create_task(child.wait());
    auto second = aio::create_task(child.wait());
    co_await aio::sleep(0ms);
    child.kill();
    EXPECT_EQ(co_await first, -SIGKILL);
    EXPECT_EQ(co_await second, -SIGKILL);
  }());
}

TEST_P(AioSubprocess, ACancelledWaitLeavesTheChildRunning) {
  run([]() -> aio::Task<void> {
    aio::Process child = co_await aio::create_subprocess_exec("sleep", "30");
    auto waiter = aio::create_task(child.wait());
    co_await aio::sleep(0ms);
    EXPECT_TRUE(waiter.cancel());
    EXPECT_THROW(co_await waiter, aio::CancelledError);
    EXPECT_FALSE(child.returncode().has_value());
    EXPECT_FALSE(reaped(child.pid()));
    child.kill();
    EXPECT_EQ(co_await child.wait(), -SIGKILL);
  }());
}

TEST_P(AioSubprocess, CommunicateMovesAMebibyteThroughCatWithoutDeadlock) {
  run([]() -> aio::Task<void> {
    std::string input(1 << 20, '\0');
    for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<char>('a' + i % 26);
    aio::Process cat = co_await aio::create_subprocess_exec("cat", kPipes);
    auto [out, err] = co_await cat.communicate(input);
    EXPECT_EQ(out.size(), input.size());
    EXPECT_TRUE(out == input);
    EXPECT_EQ(err, "");
    EXPECT_EQ(cat.returncode(), 0);
  }());
}

TEST_P(AioSubprocess, CommunicateIgnoresAChildThatStopsReading) {
  run([]() -> aio::Task<void> {
    aio::Process child = co_await aio::create_subprocess_shell("exec >&-; exit 0", kPipes);
    auto [out, err] = co_await child.communicate(std::string(1 << 20, 'x'));
    EXPECT_EQ(out, "");
    EXPECT_EQ(child.returncode(), 0);
  }());
}

TEST_P(AioSubprocess, StderrCanJoinStdout) {
  run([]() -> aio::Task<void> {
    aio::Process child = co_await aio::create_subprocess_shell(
        "echo out; echo err >&2", {.stdout_ = aio::PIPE, .stderr_ = aio::STDOUT});
    EXPECT_EQ(child.stdin_(), nullptr);
    EXPECT_EQ(child.stderr_(), nullptr);
    auto [out, err] = co_await child.communicate();
    EXPECT_EQ(out, "out\nerr\n");
    EXPECT_EQ(err, "");
  }());
}

TEST_P(AioSubprocess, DevnullGivesAnEmptyInputAndSwallowsOutput) {
  run([]() -> aio::Task<void> {
    aio::Process reader = co_await aio::create_subprocess_exec(
        "cat", {}, {.stdin_ = aio::DEVNULL, .stdout_ = aio::PIPE, .stderr_ = aio::DEVNULL});
    auto [out, err] = co_await reader.communicate();
    EXPECT_EQ(out, "");
    EXPECT_EQ(co_await reader.wait(), 0);
  }());
}

TEST_P(AioSubprocess, AFileDescriptorCanBeGiven) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  run([](int write_end) -> aio::Task<void> {
    aio::Process child = co_await aio::create_subprocess_shell("echo into the pipe",
                                                               {.stdout_ = aio::Stdio::file(write_end)});
    EXPECT_EQ(co_await child.wait(), 0);
  }(fds[1]));
  ::close(fds[1]);
  char buffer[64] = {};
  EXPECT_EQ(::read(fds[0], buffer, sizeof buffer), 14);
  EXPECT_STREQ(buffer, "into the pipe\n");
  ::close(fds[0]);
}

TEST_P(AioSubprocess, EnvironmentAndWorkingDirectory) {
  run([]() -> aio::Task<void> {
    aio::SubprocessOptions options{.stdout_ = aio::PIPE, .cwd = "/"};
    options.env = std::map<std::string, std::string>{{"GREETING", "hello"}};
    aio::Process child = co_await aio::create_subprocess_shell("echo \"$GREETING\"; pwd", options);
    auto [out, err] = co_await child.communicate();
    EXPECT_EQ(out, "hello\n/\n");
  }());
}

TEST_P(AioSubprocess, TheChildInheritsOnlyItsStandardStreams) {
  const int inheritable = ::dup(STDERR_FILENO);  // no close-on-exec
  ASSERT_GE(inheritable, 3);
  run([](int fd) -> aio::Task<void> {
    const std::string probe = "test -e /proc/self/fd/" + std::to_string(fd) + " && echo open || echo closed";
    aio::Process child = co_await aio::create_subprocess_shell(probe, {.stdout_ = aio::PIPE});
    auto [out, err] = co_await child.communicate();
    EXPECT_EQ(out, "closed\n");
  }(inheritable));
  ::close(inheritable);
}

TEST_P(AioSubprocess, AMissingProgramRaisesFileNotFoundError) {
  run([]() -> aio::Task<void> {
    for (const char* program : {"/nonexistent/weft-program", "weft-no-such-program-in-path"}) {
      try {
        co_await aio::create_subprocess_exec(program, kPipes);
        ADD_FAILURE() << program << " started";
      } catch (const weft::net::FileNotFoundError& error) {
        EXPECT_EQ(error.code(), std::errc::no_such_file_or_directory);
        EXPECT_NE(std::string(error.what()).find(program), std::string::npos) << error.what();
      }
    }
    EXPECT_THROW(co_await aio::create_subprocess_exec("/", {}), weft::net::PermissionError);
    EXPECT_THROW(co_await aio::create_subprocess_exec("true", {}, {.stdout_ = aio::STDOUT}), weft::ValueError);
  }());
}

// Python's StreamReader: ValueError('Limit cannot be <= 0'), raised before any child starts
// (a missing program would raise FileNotFoundError).
TEST_P(AioSubprocess, ALimitOfZeroThrowsValueErrorBeforeTheChildStarts) {
  run([]() -> aio::Task<void> {
    for (const char* program : {"true", "/nonexistent/weft-program"}) {
      try {
        co_await aio::create_subprocess_exec(program, {}, {.stdout_ = aio::PIPE, .limit = 0});
        ADD_FAILURE() << program << " started";
      } catch (const weft::ValueError& error) {
        EXPECT_STREQ(error.what(), "Limit cannot be <= 0");
      } catch (const std::exception& error) {
        ADD_FAILURE() << program << ": " << error.what();
      }
    }
  }());
}

// Python searches os.get_exec_path(env): the PATH of the child's environment when one is given
// (/bin:/usr/bin if it has none), not this process's.
TEST_P(AioSubprocess, AGivenEnvironmentsPathIsSearched) {
  char found_dir[] = "/tmp/weft-path-XXXXXX";
  char denied_dir[] = "/tmp/weft-path-XXXXXX";
  ASSERT_NE(::mkdtemp(found_dir), nullptr);
  ASSERT_NE(::mkdtemp(denied_dir), nullptr);
  const std::string name = "weft-env-path-probe";
  const std::string found = std::string(found_dir) + "/" + name;
  const std::string denied = std::string(denied_dir) + "/" + name;
  for (const auto& [path, mode] : {std::pair{found, 0755}, std::pair{denied, 0644}}) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, mode);
    ASSERT_GE(fd, 0);
    const std::string script = "#!/bin/sh\necho found\n";
    ASSERT_EQ(::write(fd, script.data(), script.size()), static_cast<ssize_t>(script.size()));
    ::close(fd);
  }
  run([](std::string name, std::string found_dir, std::string denied_dir) -> aio::Task<void> {
    using Env = std::map<std::string, std::string>;
    aio::SubprocessOptions options{.stdout_ = aio::PIPE};
    // The first EACCES is remembered while the search goes on.
    options.env = Env{{"PATH", "/nonexistent:" + denied_dir + ":" + found_dir}};
    aio::Process child = co_await aio::create_subprocess_exec(name, {}, options);
    auto [out, err] = co_await child.communicate();
    EXPECT_EQ(out, "found\n");
    options.env = Env{{"PATH", "/nonexistent:" + denied_dir}};
    EXPECT_THROW(co_await aio::create_subprocess_exec(name, {}, options), weft::net::PermissionError);
    options.env = Env{{"PATH", "/nonexistent"}};
    EXPECT_THROW(co_await aio::create_subprocess_exec("sh", "-c", "true", options), weft::net::FileNotFoundError);
    options.env = Env{{"GREETING", "hello"}};  // no PATH: /bin:/usr/bin
    child = co_await aio::create_subprocess_exec("sh", "-c", "echo \"$GREETING\"", options);
    auto [greeting, none] = co_await child.communicate();
    EXPECT_EQ(greeting, "hello\n");
  }(name, found_dir, denied_dir));
  ::unlink(found.c_str());
  ::unlink(denied.c_str());
  ::rmdir(found_dir);
  ::rmdir(denied_dir);
}

// A working directory the child cannot enter is the error Python reports, named by the directory
// rather than the program (its chdir comes before the program is looked for), whether PATH is
// this process's or a given environment's.
TEST_P(AioSubprocess, AWorkingDirectoryThatCannotBeEnteredIsReportedAsItself) {
  run([]() -> aio::Task<void> {
    using Env = std::map<std::string, std::string>;
    for (const std::optional<Env>& env : {std::optional<Env>{}, std::optional<Env>{Env{{"PATH", "/bin:/usr/bin"}}}}) {
      for (const char* program : {"true", "/bin/true", "weft-no-such-program-in-path"}) {
        aio::SubprocessOptions options{.cwd = "/nonexistent/weft-cwd", .env = env};
        try {
          co_await aio::create_subprocess_exec(program, {}, options);
          ADD_FAILURE() << program << " started";
        } catch (const weft::net::FileNotFoundError& error) {
          EXPECT_NE(std::string(error.what()).find("'/nonexistent/weft-cwd'"), std::string::npos) << error.what();
        }
        options.cwd = "/dev/null";
        try {
          co_await aio::create_subprocess_exec(program, {}, options);
          ADD_FAILURE() << program << " started";
        } catch (const weft::net::OSError& error) {  // Python's NotADirectoryError
          EXPECT_EQ(error.code(), std::errc::not_a_directory);
          EXPECT_NE(std::string(error.what()).find("'/dev/null'"), std::string::npos) << error.what();
        }
      }
    }
  }());
}

// Searched in a given PATH with a working directory that can be entered, a program found nowhere
// is FileNotFoundError and one found only where it may not run is PermissionError, both naming
// the program; an empty PATH entry (or a relative one) is the child's working directory.
TEST_P(AioSubprocess, AGivenPathIsSearchedFromTheChildsWorkingDirectory) {
  char dir[] = "/tmp/weft-path-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string runs = std::string(dir) + "/weft-runs";
  const std::string denied = std::string(dir) + "/weft-denied";
  for (const auto& [path, mode] : {std::pair{runs, 0755}, std::pair{denied, 0644}}) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, mode);
    ASSERT_GE(fd, 0);
    const std::string script = "#!/bin/sh\npwd\n";
    ASSERT_EQ(::write(fd, script.data(), script.size()), static_cast<ssize_t>(script.size()));
    ::close(fd);
  }
  run([](std::string dir) -> aio::Task<void> {
    using Env = std::map<std::string, std::string>;
    aio::SubprocessOptions options{.stdout_ = aio::PIPE, .cwd = dir, .env = Env{{"PATH", "/nonexistent:"}}};
    aio::Process child = co_await aio::create_subprocess_exec("weft-runs", {}, options);
    auto [out, err] = co_await child.communicate();
    EXPECT_EQ(out, dir + "\n");
    options.cwd = "/";
    options.env = Env{{"PATH", "/nonexistent:" + dir.substr(1)}};
    child = co_await aio::create_subprocess_exec("weft-runs", {}, options);
    auto [again, none] = co_await child.communicate();
    EXPECT_EQ(again, "/\n");
    options.env = Env{{"PATH", "/nonexistent:" + dir}};
    try {
      co_await aio::create_subprocess_exec("weft-denied", {}, options);
      ADD_FAILURE() << "weft-denied started";
    } catch (const weft::net::PermissionError& error) {
      EXPECT_NE(std::string(error.what()).find("'weft-denied'"), std::string::npos) << error.what();
    }
    try {
      co_await aio::create_subprocess_exec("weft-missing", {}, options);
      ADD_FAILURE() << "weft-missing started";
    } catch (const weft::net::FileNotFoundError& error) {
      EXPECT_NE(std::string(error.what()).find("'weft-missing'"), std::string::npos) << error.what();
    }
  }(dir));
  ::unlink(runs.c_str());
  ::unlink(denied.c_str());
  ::rmdir(dir);
}

// As Python's child does, every PATH entry is tried until one runs: a candidate that cannot be
// executed (ENOEXEC: not a binary and no #!) or whose #! interpreter is missing (ENOENT) is passed
// over; the first error other than ENOENT and ENOTDIR is raised if none runs.
TEST_P(AioSubprocess, ThePathSearchGoesOnPastACandidateThatFailsToExecute) {
  char first_dir[] = "/tmp/weft-path-XXXXXX";
  char second_dir[] = "/tmp/weft-path-XXXXXX";
  ASSERT_NE(::mkdtemp(first_dir), nullptr);
  ASSERT_NE(::mkdtemp(second_dir), nullptr);
  const std::vector<std::pair<std::string, std::string>> files{
      {std::string(first_dir) + "/weft-not-exec", "no interpreter line\n"},
      {std::string(first_dir) + "/weft-bad-interp", "#!/nonexistent/weft-interpreter\n"},
      {std::string(second_dir) + "/weft-not-exec", "#!/bin/sh\necho second\n"},
      {std::string(second_dir) + "/weft-bad-interp", "#!/bin/sh\necho second\n"}};
  for (const auto& [path, content] : files) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    ::close(fd);
  }
  run([](std::string first, std::string second) -> aio::Task<void> {
    using Env = std::map<std::string, std::string>;
    aio::SubprocessOptions options{.stdout_ = aio::PIPE};
    for (const char* program : {"weft-not-exec", "weft-bad-interp"}) {
      options.env = Env{{"PATH", first + ":" + second}};
      try {
        aio::Process child = co_await aio::create_subprocess_exec(program, {}, options);
        auto [out, err] = co_await child.communicate();
        EXPECT_EQ(out, "second\n") << program;
      } catch (const std::exception& error) {
        ADD_FAILURE() << program << ": " << error.what();
      }
    }
    options.env = Env{{"PATH", first + ":/nonexistent"}};
    try {
      co_await aio::create_subprocess_exec("weft-not-exec", {}, options);
      ADD_FAILURE() << "weft-not-exec started";
    } catch (const weft::net::OSError& error) {
      EXPECT_EQ(error.code().value(), ENOEXEC) << error.what();
    }
    try {
      co_await aio::create_subprocess_exec("weft-bad-interp", {}, options);
      ADD_FAILURE() << "weft-bad-interp started";
    } catch (const weft::net::FileNotFoundError& error) {
      EXPECT_NE(std::string(error.what()).find("'weft-bad-interp'"), std::string::npos) << error.what();
    }
  }(first_dir, second_dir));
  for (const auto& [path, content] : files) ::unlink(path.c_str());
  ::rmdir(first_dir);
  ::rmdir(second_dir);
}

TEST_P(AioSubprocess, AProcessNobodyWaitsForIsKilledAndReapedWhenDropped) {
  pid_t pid = run([]() -> aio::Task<pid_t> {
    aio::Process child = co_await aio::create_subprocess_exec("sleep", "30", kPipes);
    co_return child.pid();
  }());
  EXPECT_TRUE(reaped(pid));
}

TEST_P(AioSubprocess, AChildThatEndsIsReapedWithoutAWait) {
  run([]() -> aio::Task<void> {
    aio::Process child = co_await aio::create_subprocess_exec("true", {}, {.stdout_ = aio::PIPE});
    EXPECT_EQ(co_await child.stdout_()->read(), "");  // its end of the pipe closed: it exited
    for (int turn = 0; turn < 100000 && !child.returncode(); ++turn) co_await aio::sleep(0ms);
    EXPECT_EQ(child.returncode(), 0);
    EXPECT_TRUE(reaped(child.pid()));
  }());
}

INSTANTIATE_TEST_SUITE_P(Backends, AioSubprocess,
                         ::testing::Values(weft::io::Backend::epoll, weft::io::Backend::io_uring),
                         [](const auto& info) { return std::string(weft::io::to_string(info.param)); });
