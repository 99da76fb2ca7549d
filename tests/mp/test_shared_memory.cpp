#include "weft/mp/shared_memory.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "mp/connection_support.hpp"
#include "weft/errors.hpp"
#include "weft/net/errors.hpp"

namespace mp = weft::mp;
namespace net = weft::net;
using weft::test::Child;

namespace {

bool in_dev_shm(const std::string& name) {
  return std::filesystem::exists("/dev/shm/" + name);
}

// The entries of /dev/shm these tests may create: random names and the
// explicit names of this process.
std::set<std::string> our_segments(const std::string& prefix) {
  std::set<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
    const std::string name = entry.path().filename();
    if (name.starts_with("wnsm_") || name.starts_with(prefix)) found.insert(name);
  }
  return found;
}

// Fails a test that leaves a segment or a descriptor behind.
class SharedMemoryTest : public ::testing::Test {
 protected:
  // The first segment created starts the resource tracker, whose socket then stays open for
  // the life of the process: not a leak of any one test.
  static void SetUpTestSuite() { mp::SharedMemory(std::nullopt, true, 1); }

  void SetUp() override {
    before_ = our_segments(prefix_);
    fds_before_ = weft::test::open_fds();
  }
  void TearDown() override {
    EXPECT_EQ(our_segments(prefix_), before_) << "a segment was left in /dev/shm";
    EXPECT_EQ(weft::test::open_fds(), fds_before_) << "a descriptor leaked";
  }

  // A name no other test or run uses.
  std::string fresh_name() { return prefix_ + std::to_string(++counter_); }

 private:
  std::string prefix_ = "weft_test_shm_" + std::to_string(::getpid()) + "_";
  int counter_ = 0;
  std::set<std::string> before_;
  int fds_before_ = 0;
};

TEST_F(SharedMemoryTest, CreatesWithARandomNameAndAttachesByName) {
  std::string name;
  {
    mp::SharedMemory created(std::nullopt, true, 100);
    name = created.name();
    EXPECT_TRUE(name.starts_with("wnsm_")) << name;
    EXPECT_EQ(name.size(), 13u);  // Python's psm_ names are 12 characters
    EXPECT_TRUE(in_dev_shm(name));
    EXPECT_EQ(created.size(), 100u);
    ASSERT_EQ(created.buf().size(), 100u);
    EXPECT_TRUE(std::all_of(created.buf().begin(), created.buf().end(),
                            [](std::byte b) { return b == std::byte{0}; }));
    created.buf()[99] = std::byte{7};

    mp::SharedMemory attached(name);
    EXPECT_EQ(attached.name(), name);
    EXPECT_EQ(attached.size(), 100u);
    EXPECT_EQ(attached.buf()[99], std::byte{7});
    attached.buf()[0] = std::byte{9};
    EXPECT_EQ(created.buf()[0], std::byte{9});
  }
  EXPECT_FALSE(in_dev_shm(name));
}

TEST_F(SharedMemoryTest, RandomNamesDiffer) {
  mp::SharedMemory a(std::nullopt, true, 1);
  mp::SharedMemory b(std::nullopt, true, 1);
  EXPECT_NE(a.name(), b.name());
}

TEST_F(SharedMemoryTest, CreatesWithAGivenName) {
  const std::string name = fresh_name();
  mp::SharedMemory created(name, true, 4096);
  EXPECT_EQ(created.name(), name);
  EXPECT_TRUE(in_dev_shm(name));
}

TEST_F(SharedMemoryTest, CreatingAnExistingNameIsFileExistsError) {
  const std::string name = fresh_name();
  mp::SharedMemory first(name, true, 16);
  first.buf()[0] = std::byte{1};
  try {
    mp::SharedMemory second(name, true, 32);
    FAIL() << "no FileExistsError";
  } catch (const net::FileExistsError& e) {
    EXPECT_EQ(e.code(), std::errc::file_exists);
    EXPECT_EQ(std::string(e.what()), "[Errno 17] File exists: '/" + name + "'");
  }
  // The failed creation neither unlinked nor resized the first segment.
  EXPECT_TRUE(in_dev_shm(name));
  mp::SharedMemory attached(name);
  EXPECT_EQ(attached.size(), 16u);
  EXPECT_EQ(attached.buf()[0], std::byte{1});
}

TEST_F(SharedMemoryTest, AttachingAMissingNameIsFileNotFoundError) {
  const std::string name = fresh_name();
  try {
    mp::SharedMemory missing(name);
    FAIL() << "no FileNotFoundError";
  } catch (const net::FileNotFoundError& e) {
    EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
    EXPECT_NE(std::string(e.what()).find("'/" + name + "'"), std::string::npos) << e.what();
  }
}

TEST_F(SharedMemoryTest, ValueErrors) {
  EXPECT_THROW(mp::SharedMemory(std::nullopt, true, 0), weft::ValueError);
  EXPECT_THROW(mp::SharedMemory(fresh_name(), true, 0), weft::ValueError);
  EXPECT_THROW(mp::SharedMemory(std::nullopt), weft::ValueError);
  EXPECT_THROW(mp::SharedMemory(std::nullopt, false, 10), weft::ValueError);
}

TEST_F(SharedMemoryTest, AnInvalidNameIsOSError) {
  try {
    mp::SharedMemory bad("has/slash", true, 8);
    FAIL() << "no OSError";
  } catch (const net::OSError& e) {
    EXPECT_EQ(e.code(), std::errc::invalid_argument);
  }
}

TEST_F(SharedMemoryTest, ACreationThatCannotBeMappedLeavesNothingBehind) {
  const std::string name = fresh_name();
  EXPECT_THROW(mp::SharedMemory(name, true, std::size_t{1} << 62), net::OSError);
  EXPECT_FALSE(in_dev_shm(name));
}

TEST_F(SharedMemoryTest, AttachingAnEmptySegmentIsValueError) {
  const std::string name = fresh_name();
  const int fd = ::shm_open(("/" + name).c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  ASSERT_GE(fd, 0);
  ::close(fd);
  EXPECT_THROW(mp::SharedMemory{name}, weft::ValueError);
  EXPECT_TRUE(in_dev_shm(name));  // attaching never unlinks, even on failure
  ::shm_unlink(("/" + name).c_str());
}

TEST_F(SharedMemoryTest, AttachingIgnoresTheSizeArgument) {
  mp::SharedMemory created(std::nullopt, true, 64);
  mp::SharedMemory attached(created.name(), false, 1 << 20);
  EXPECT_EQ(attached.size(), 64u);
}

TEST_F(SharedMemoryTest, AnAttachedObjectNeverUnlinks) {
  mp::SharedMemory created(std::nullopt, true, 8);
  {
    mp::SharedMemory attached(created.name());
    attached.close();
  }
  EXPECT_TRUE(in_dev_shm(created.name()));
  mp::SharedMemory again(created.name());  // still attachable
}

TEST_F(SharedMemoryTest, UnlinkRemovesTheNameButNotTheMemory) {
  mp::SharedMemory created(std::nullopt, true, 8);
  mp::SharedMemory attached(created.name());
  created.unlink();
  EXPECT_FALSE(in_dev_shm(created.name()));
  created.buf()[3] = std::byte{3};
  EXPECT_EQ(attached.buf()[3], std::byte{3});
  EXPECT_THROW(created.unlink(), net::FileNotFoundError);
  EXPECT_THROW(attached.unlink(), net::FileNotFoundError);
  EXPECT_THROW(mp::SharedMemory{created.name()}, net::FileNotFoundError);
}

TEST_F(SharedMemoryTest, AnyProcessMayUnlinkAndTheCreatorThenDoesNot) {
  const std::string name = fresh_name();
  auto created = std::make_unique<mp::SharedMemory>(name, true, 8);
  mp::SharedMemory(name).unlink();
  EXPECT_FALSE(in_dev_shm(name));
  // A new segment takes the name; the first creator must leave it alone.
  mp::SharedMemory successor(name, true, 8);
  created.reset();
  EXPECT_TRUE(in_dev_shm(name));
}

TEST_F(SharedMemoryTest, CloseUnmapsAndKeepsTheSegment) {
  mp::SharedMemory created(std::nullopt, true, 8);
  const std::string name = created.name();
  created.close();
  created.close();
  EXPECT_TRUE(created.buf().empty());
  EXPECT_EQ(created.size(), 8u);
  EXPECT_TRUE(in_dev_shm(name));
  mp::SharedMemory attached(name);
  EXPECT_EQ(attached.size(), 8u);
}

TEST_F(SharedMemoryTest, UntrackedSegmentsOutliveTheirCreator) {
  std::string name;
  {
    mp::SharedMemory created(std::nullopt, true, 8, /*track=*/false);
    name = created.name();
  }
  EXPECT_TRUE(in_dev_shm(name));
  mp::SharedMemory(name).unlink();
}

TEST_F(SharedMemoryTest, MovingTransfersTheDutyToUnlink) {
  mp::SharedMemory created(std::nullopt, true, 8);
  const std::string name = created.name();
  {
    mp::SharedMemory moved(std::move(created));
    EXPECT_EQ(moved.name(), name);
    EXPECT_EQ(moved.buf().size(), 8u);
    EXPECT_TRUE(created.buf().empty());  // NOLINT(bugprone-use-after-move)
  }
  EXPECT_FALSE(in_dev_shm(name));
}

TEST_F(SharedMemoryTest, MoveAssignmentReleasesTheOldSegment) {
  mp::SharedMemory target(std::nullopt, true, 8);
  const std::string old_name = target.name();
  mp::SharedMemory source(std::nullopt, true, 16);
  const std::string new_name = source.name();
  target = std::move(source);
  EXPECT_FALSE(in_dev_shm(old_name));
  EXPECT_EQ(target.name(), new_name);
  EXPECT_EQ(target.size(), 16u);
  EXPECT_TRUE(in_dev_shm(new_name));
}

TEST_F(SharedMemoryTest, AForkChildWritesAndTheParentReads) {
  mp::SharedMemory created(std::nullopt, true, 64);
  Child child = Child::fork([&] {
    // The child's copy of the creator goes out of scope here: it must not
    // unlink, since this process did not create the segment.
    mp::SharedMemory inherited(std::move(created));
    const char text[] = "from the child";
    std::memcpy(inherited.buf().data(), text, sizeof text);
    mp::SharedMemory attached(inherited.name());
    attached.buf()[63] = std::byte{0x5a};
  });
  ASSERT_EQ(child.wait(), 0);
  EXPECT_TRUE(in_dev_shm(created.name()));
  EXPECT_STREQ(reinterpret_cast<const char*>(created.buf().data()), "from the child");
  EXPECT_EQ(created.buf()[63], std::byte{0x5a});
}

TEST_F(SharedMemoryTest, AChildAttachingByNameNeverUnlinks) {
  mp::SharedMemory created(std::nullopt, true, 8);
  const std::string name = created.name();
  Child child = Child::fork([&] {
    mp::SharedMemory attached(name);
    attached.buf()[0] = std::byte{1};
  });
  ASSERT_EQ(child.wait(), 0);
  EXPECT_TRUE(in_dev_shm(name));
  EXPECT_EQ(created.buf()[0], std::byte{1});
}

TEST_F(SharedMemoryTest, EncodesAsItsNameAndDecodingAttaches) {
  mp::SharedMemory created(std::nullopt, true, 32);
  created.buf()[1] = std::byte{11};
  const std::string encoded = weft::codec::encode(created);
  EXPECT_EQ(encoded, weft::codec::encode(created.name()));
  {
    mp::SharedMemory attached = weft::codec::decode<mp::SharedMemory>(encoded);
    EXPECT_EQ(attached.name(), created.name());
    EXPECT_EQ(attached.size(), 32u);
    EXPECT_EQ(attached.buf()[1], std::byte{11});
  }
  EXPECT_TRUE(in_dev_shm(created.name()));  // the decoded copy only attached
  EXPECT_THROW(weft::codec::decode<mp::SharedMemory>(weft::codec::encode(7)),
               weft::codec::DecodeError);
  EXPECT_THROW(weft::codec::decode<mp::SharedMemory>(weft::codec::encode(fresh_name())),
               net::FileNotFoundError);
}

TEST_F(SharedMemoryTest, PythonReadsWhatWeftWrote) {
  if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
  mp::SharedMemory created(std::nullopt, true, 16);
  std::memcpy(created.buf().data(), "weft", 4);
  // Python's resource tracker would unlink a segment it merely attached
  // to; the script opts out of that, so the weft creator still owns it.
  const std::string script =
      "import sys\n"
      "from multiprocessing import shared_memory, resource_tracker\n"
      "shm = shared_memory.SharedMemory(sys.argv[1])\n"
      "resource_tracker.unregister(shm._name, 'shared_memory')\n"
      "print(shm.size, bytes(shm.buf[:4]).decode())\n"
      "shm.buf[4] = 42\n"
      "shm.close()\n";
  Child python = Child::exec({"/usr/bin/python3", "-c", script, created.name()});
  EXPECT_EQ(python.read_line(), "16 weft");
  EXPECT_EQ(python.wait(), 0);
  EXPECT_EQ(created.buf()[4], std::byte{42});
  EXPECT_TRUE(in_dev_shm(created.name()));
}

// Run as a program of its own by the test below (this executable, exec'd with a filter): holds a
// descriptor that an exec would keep, creates the segment named by WEFT_TEST_SHM_KEPT and never
// destroys it, creates and unlinks the one named by WEFT_TEST_SHM_UNLINKED, says "ready" and
// waits to be killed.
TEST(SharedMemoryTrackerHelper, CreatesAndWaits) {
  const char* kept = std::getenv("WEFT_TEST_SHM_KEPT");
  const char* unlinked = std::getenv("WEFT_TEST_SHM_UNLINKED");
  if (kept == nullptr || unlinked == nullptr) GTEST_SKIP() << "run by SharedMemoryTracker's test only";
  ASSERT_GE(::dup(STDIN_FILENO), 0);  // without close-on-exec
  mp::SharedMemory(std::string_view(unlinked), true, 64).unlink();
  new mp::SharedMemory(std::string_view(kept), true, 64);  // its destructor never runs
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) ::pause();
}

// The descriptors a process has open.
std::set<std::string> descriptors_of(pid_t pid) {
  std::set<std::string> fds;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
    fds.insert(entry.path().filename());
  return fds;
}

// Runs SharedMemoryTrackerHelper.CreatesAndWaits as a program of its own and waits (bounded) for
// it to say it is ready.
Child start_creator(const std::string& kept, const std::string& unlinked) {
  ::setenv("WEFT_TEST_SHM_KEPT", kept.c_str(), 1);
  ::setenv("WEFT_TEST_SHM_UNLINKED", unlinked.c_str(), 1);
  Child creator = Child::exec({"/proc/self/exe", "--gtest_filter=SharedMemoryTrackerHelper.CreatesAndWaits"});
  ::unsetenv("WEFT_TEST_SHM_KEPT");
  ::unsetenv("WEFT_TEST_SHM_UNLINKED");
  for (std::optional<std::string> line; (line = creator.read_line()) != "ready";) {
    if (!line.has_value()) break;
  }
  return creator;
}

// A creator killed before it could unlink its segment: the resource tracker unlinks it once the
// creator has gone, and leaves alone a segment the creator had unlinked, though its name was
// created again meanwhile by someone else. The tracker holds no descriptor of the creator's but
// the standard three (and its socket).
TEST(SharedMemoryTracker, UnlinksWhatAKilledCreatorLeftAndNothingElse) {
  const std::string prefix = "weft_test_tracker_" + std::to_string(::getpid()) + "_";
  const std::string kept = prefix + "kept";
  const std::string unlinked = prefix + "unlinked";
  Child creator = start_creator(kept, unlinked);
  ASSERT_TRUE(in_dev_shm(kept)) << "the creator never said it was ready";
  ASSERT_FALSE(in_dev_shm(unlinked));
  std::ifstream children("/proc/" + std::to_string(creator.pid()) + "/task/" + std::to_string(creator.pid()) +
                         "/children");
  pid_t tracker = 0;
  ASSERT_TRUE(children >> tracker) << "the creator started no tracker";
  EXPECT_TRUE(weft::test::eventually([&] { return descriptors_of(tracker).size() == 4; }))
      << "the tracker holds " << descriptors_of(tracker).size() << " descriptors";
  const int fd = ::shm_open(("/" + unlinked).c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  ASSERT_GE(fd, 0);
  ::close(fd);
  EXPECT_EQ(creator.kill(), 128 + SIGKILL);
  EXPECT_TRUE(weft::test::eventually([&] { return !in_dev_shm(kept); }))
      << "the killed creator's segment was left in /dev/shm";
  EXPECT_TRUE(in_dev_shm(unlinked)) << "a segment the creator had unlinked was removed";
  ::shm_unlink(("/" + unlinked).c_str());
  ::shm_unlink(("/" + kept).c_str());
}

// The tracker takes a name byte for byte: one that starts with blanks is still unlinked once its
// creator is killed.
TEST(SharedMemoryTracker, UnlinksASegmentWhoseNameStartsWithBlanks) {
  const std::string prefix = "weft_test_tracker_" + std::to_string(::getpid()) + "_";
  const std::string kept = " \t " + prefix + "blank";
  Child creator = start_creator(kept, prefix + "unlinked");
  ASSERT_TRUE(in_dev_shm(kept)) << "the creator never said it was ready";
  EXPECT_EQ(creator.kill(), 128 + SIGKILL);
  EXPECT_TRUE(weft::test::eventually([&] { return !in_dev_shm(kept); }))
      << "the killed creator's segment was left in /dev/shm";
  ::shm_unlink(("/" + kept).c_str());
}

// The state letter of a process (R, S, Z, ...), or '?' when there is no such process.
char state_of(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() ? line[paren + 2] : '?';
}

// Run as a program of its own by the test below: creates the segment named by WEFT_TEST_SHM_FIRST,
// which starts the tracker, kills the tracker, then forks a child that creates the segment named
// by WEFT_TEST_SHM_CHILD and creates the one named by WEFT_TEST_SHM_KEPT itself (neither is ever
// destroyed); says "ready <the killed tracker> <the child>" and waits to be killed, the child
// with it.
TEST(SharedMemoryTrackerHelper, OutlivesItsTracker) {
  const char* first = std::getenv("WEFT_TEST_SHM_FIRST");
  const char* kept = std::getenv("WEFT_TEST_SHM_KEPT");
  const char* child_kept = std::getenv("WEFT_TEST_SHM_CHILD");
  if (first == nullptr || kept == nullptr || child_kept == nullptr)
    GTEST_SKIP() << "run by SharedMemoryTracker's test only";
  new mp::SharedMemory(std::string_view(first), true, 64);
  std::ifstream children("/proc/self/task/" + std::to_string(::getpid()) + "/children");
  pid_t tracker = 0;
  ASSERT_TRUE(children >> tracker) << "no tracker was started";
  ::kill(tracker, SIGKILL);
  ASSERT_TRUE(weft::test::eventually([&] { return state_of(tracker) == 'Z'; }));
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    new mp::SharedMemory(std::string_view(child_kept), true, 64);
    if (::write(ready[1], "c", 1) != 1) ::_exit(1);
    for (;;) ::pause();
  }
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  new mp::SharedMemory(std::string_view(kept), true, 64);
  std::printf("ready %d %d\n", tracker, child);
  std::fflush(stdout);
  for (;;) ::pause();
}

// A tracker that died (here SIGKILL) is started again by the next record sent to it, in the
// process that started it (which reaps the dead one) and in a fork child sharing it alike, so the
// segments created after it died are still unlinked once their creators are killed.
TEST(SharedMemoryTracker, IsStartedAgainWhenItDied) {
  const std::string prefix = "weft_test_tracker_" + std::to_string(::getpid()) + "_";
  const std::string first = prefix + "first";
  const std::string kept = prefix + "kept";
  const std::string child_kept = prefix + "child";
  ::setenv("WEFT_TEST_SHM_FIRST", first.c_str(), 1);
  ::setenv("WEFT_TEST_SHM_KEPT", kept.c_str(), 1);
  ::setenv("WEFT_TEST_SHM_CHILD", child_kept.c_str(), 1);
  Child creator = Child::exec({"/proc/self/exe", "--gtest_filter=SharedMemoryTrackerHelper.OutlivesItsTracker"});
  ::unsetenv("WEFT_TEST_SHM_FIRST");
  ::unsetenv("WEFT_TEST_SHM_KEPT");
  ::unsetenv("WEFT_TEST_SHM_CHILD");
  std::optional<std::string> line;
  while ((line = creator.read_line()) && !line->starts_with("ready ")) {
  }
  ASSERT_TRUE(line.has_value()) << "the creator never said it was ready";
  pid_t dead_tracker = 0;
  pid_t child = 0;
  ASSERT_EQ(std::sscanf(line->c_str(), "ready %d %d", &dead_tracker, &child), 2);
  EXPECT_TRUE(in_dev_shm(kept));
  EXPECT_TRUE(in_dev_shm(child_kept));
  EXPECT_EQ(state_of(dead_tracker), '?') << "the dead tracker was not reaped";
  ::kill(child, SIGKILL);
  EXPECT_EQ(creator.kill(), 128 + SIGKILL);
  EXPECT_TRUE(weft::test::eventually([&] { return !in_dev_shm(kept); }))
      << "the segment created after the tracker died was left in /dev/shm";
  EXPECT_TRUE(weft::test::eventually([&] { return !in_dev_shm(child_kept); }))
      << "the segment a fork child created after the tracker died was left in /dev/shm";
  for (const std::string& name : {first, kept, child_kept}) ::shm_unlink(("/" + name).c_str());
}

// Run as a program of its own by the test below: eight threads create their first segments at
// once, then it says "children <how many child processes it has>" and waits to be killed.
TEST(SharedMemoryTrackerHelper, StartsItFromManyThreads) {
  if (std::getenv("WEFT_TEST_SHM_THREADS") == nullptr) GTEST_SKIP() << "run by SharedMemoryTracker's test only";
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      mp::SharedMemory(std::nullopt, true, 64);
    });
  go = true;
  for (std::thread& thread : threads) thread.join();
  std::size_t children = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream listing(task.path() / "children");
    for (pid_t child = 0; listing >> child;) ++children;
  }
  std::printf("children %zu\n", children);
  std::fflush(stdout);
  for (;;) ::pause();
}

// Threads that create a process's first segments at once start one tracker between them: any
// other that one of them started is ended and reaped at once, so no process is left behind.
TEST(SharedMemoryTracker, ThreadsStartingItAtOnceLeaveOneTracker) {
  for (int run = 0; run < 3; ++run) {
    ::setenv("WEFT_TEST_SHM_THREADS", "1", 1);
    Child creator = Child::exec({"/proc/self/exe", "--gtest_filter=SharedMemoryTrackerHelper.StartsItFromManyThreads"});
    ::unsetenv("WEFT_TEST_SHM_THREADS");
    std::optional<std::string> line;
    while ((line = creator.read_line()) && !line->starts_with("children ")) {
    }
    EXPECT_EQ(line.value_or("no answer"), "children 1") << "run " << run;
  }
}

// The only child process of this process's main thread, or 0.
pid_t only_child() {
  std::ifstream children("/proc/self/task/" + std::to_string(::getpid()) + "/children");
  pid_t child = 0;
  children >> child;
  return child;
}

// Run as a program of its own by the test below: starts the tracker, kills it and reaps it
// itself, as a waitpid(-1) loop would, then has a child of its own take the dead tracker's pid
// and end with status 7 before the next segment, which starts the tracker again; then, with
// SIGCHLD ignored (the kernel reaps children), kills the new tracker and creates the segment
// named by WEFT_TEST_SHM_KEPT (never destroyed). Says "ready kept" if it could still reap its
// own child, "ready stolen" if not, "ready unsupported" if it cannot choose a child's pid, and
// waits to be killed.
TEST(SharedMemoryTrackerHelper, ReapsOnlyItsTracker) {
  const char* kept = std::getenv("WEFT_TEST_SHM_REAPED");
  if (kept == nullptr) GTEST_SKIP() << "run by SharedMemoryTracker's test only";
  mp::SharedMemory(std::nullopt, true, 64);
  pid_t tracker = only_child();
  ASSERT_NE(tracker, 0) << "no tracker was started";
  ::kill(tracker, SIGKILL);
  ASSERT_EQ(::waitpid(tracker, nullptr, 0), tracker);
  pid_t pid = tracker;
  clone_args args{};
  args.exit_signal = SIGCHLD;
  args.set_tid = reinterpret_cast<std::uintptr_t>(&pid);
  args.set_tid_size = 1;
  const long impostor = ::syscall(SYS_clone3, &args, sizeof args);
  if (impostor == 0) ::_exit(7);
  const bool chosen = impostor == tracker;
  bool ours = false;
  if (chosen) {
    ASSERT_TRUE(weft::test::eventually([&] { return state_of(tracker) == 'Z'; }));
    mp::SharedMemory(std::nullopt, true, 64);
    int status = 0;
    ours = ::waitpid(tracker, &status, 0) == tracker && WIFEXITED(status) && WEXITSTATUS(status) == 7;
    ::signal(SIGCHLD, SIG_IGN);
    tracker = only_child();
    ASSERT_NE(tracker, 0) << "the tracker was not started again";
    ::kill(tracker, SIGKILL);
    ASSERT_TRUE(weft::test::eventually([&] { return state_of(tracker) == '?'; }));
    new mp::SharedMemory(std::string_view(kept), true, 64);
  }
  std::printf("ready %s\n", !chosen ? "unsupported" : ours ? "kept" : "stolen");
  std::fflush(stdout);
  for (;;) ::pause();
}

// A tracker that died after the program reaped it itself, its pid since taken by another child
// of the program's, is started again without that child being reaped in its place; and with
// SIGCHLD ignored, the kernel reaping the dead tracker, it is started again all the same and
// still unlinks what its creator left.
TEST(SharedMemoryTracker, IsStartedAgainWithoutReapingAnotherChild) {
  const std::string kept = "weft_test_tracker_" + std::to_string(::getpid()) + "_reaped";
  ::setenv("WEFT_TEST_SHM_REAPED", kept.c_str(), 1);
  Child creator = Child::exec({"/proc/self/exe", "--gtest_filter=SharedMemoryTrackerHelper.ReapsOnlyItsTracker"});
  ::unsetenv("WEFT_TEST_SHM_REAPED");
  std::optional<std::string> line;
  while ((line = creator.read_line()) && !line->starts_with("ready ")) {
  }
  ASSERT_TRUE(line.has_value()) << "the creator never said it was ready";
  if (*line == "ready unsupported") GTEST_SKIP() << "no child can be given a chosen pid here (clone3 set_tid)";
  EXPECT_EQ(*line, "ready kept") << "the program's own child was reaped in the dead tracker's place";
  EXPECT_TRUE(in_dev_shm(kept));
  EXPECT_EQ(creator.kill(), 128 + SIGKILL);
  EXPECT_TRUE(weft::test::eventually([&] { return !in_dev_shm(kept); }))
      << "the segment created after the tracker died was left in /dev/shm";
  ::shm_unlink(("/" + kept).c_str());
}

// Run as a program of its own by the tests below: starts the tracker and forks a child that holds
// the tracker's end of its socket, as a child forked by another thread while the tracker started
// would; kills the tracker, creates and destroys WEFT_TEST_SHM_CHURN segments (none, or far more
// than its socket's buffer holds records of), then creates the segment named by
// WEFT_TEST_SHM_HELD (never destroyed). Says "ready <the child>" ("ready unsupported" if it cannot
// take the tracker's descriptor) and waits to be killed.
TEST(SharedMemoryTrackerHelper, OutlivesItsTrackerWithItsSocketHeld) {
  const char* kept = std::getenv("WEFT_TEST_SHM_HELD");
  if (kept == nullptr) GTEST_SKIP() << "run by SharedMemoryTracker's test only";
  mp::SharedMemory(std::nullopt, true, 64);
  const pid_t tracker = only_child();
  ASSERT_NE(tracker, 0) << "no tracker was started";
  int socket_number = -1;
  for (const std::string& fd : descriptors_of(tracker))
    if (std::stoi(fd) > 2) socket_number = std::stoi(fd);
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, tracker, 0));
  ASSERT_GE(pidfd, 0);
  const int end = static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, socket_number, 0));
  ::close(pidfd);
  pid_t child = 0;
  if (end >= 0) {
    child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      for (;;) ::pause();
    }
    ::close(end);
    ::kill(tracker, SIGKILL);
    ASSERT_TRUE(weft::test::eventually([&] { return state_of(tracker) == 'Z'; }));
    for (int i = std::atoi(std::getenv("WEFT_TEST_SHM_CHURN")); i > 0; --i) mp::SharedMemory(std::nullopt, true, 64);
    new mp::SharedMemory(std::string_view(kept), true, 64);
  }
  std::printf("ready %s\n", end < 0 ? "unsupported" : std::to_string(child).c_str());
  std::fflush(stdout);
  for (;;) ::pause();
}

// Runs the helper above with `churn` segments created and destroyed after the tracker died, kills
// it, and expects the segment it kept to be unlinked by a tracker started again.
void expect_started_again_with_socket_held(const char* churn) {
  const std::string kept = "weft_test_tracker_" + std::to_string(::getpid()) + "_held";
  ::setenv("WEFT_TEST_SHM_HELD", kept.c_str(), 1);
  ::setenv("WEFT_TEST_SHM_CHURN", churn, 1);
  Child creator =
      Child::exec({"/proc/self/exe", "--gtest_filter=SharedMemoryTrackerHelper.OutlivesItsTrackerWithItsSocketHeld"});
  ::unsetenv("WEFT_TEST_SHM_HELD");
  ::unsetenv("WEFT_TEST_SHM_CHURN");
  std::optional<std::string> line;
  while ((line = creator.read_line()) && !line->starts_with("ready ")) {
  }
  ASSERT_TRUE(line.has_value()) << "the creator blocked sending to its dead tracker";
  if (*line == "ready unsupported") GTEST_SKIP() << "the tracker's descriptor cannot be taken here (pidfd_getfd)";
  const pid_t child = std::stoi(line->substr(6));
  EXPECT_TRUE(in_dev_shm(kept));
  ::kill(child, SIGKILL);
  EXPECT_EQ(creator.kill(), 128 + SIGKILL);
  EXPECT_TRUE(weft::test::eventually([&] { return !in_dev_shm(kept); }))
      << "the segment created after the tracker died was left in /dev/shm";
  ::shm_unlink(("/" + kept).c_str());
}

// A tracker that died while a fork child holds its end of the socket gives no EPIPE: records sent
// to it fill the socket's buffer and a send would block for good. A send that cannot go finds the
// tracker dead instead, starts it again, and the new one unlinks what the creator left.
TEST(SharedMemoryTracker, IsStartedAgainWhenAChildHoldsItsSocket) { expect_started_again_with_socket_held("2000"); }

// Nor is a record the buffer still has room for sent to the dead tracker: each send first checks
// that the tracker lives, as Python's ensure_running does, so even the first segment created
// after it died is unlinked by the one started again.
TEST(SharedMemoryTracker, IsStartedAgainForItsFirstRecordWhenAChildHoldsItsSocket) {
  expect_started_again_with_socket_held("0");
}

// Where a descriptor of a process leads.
std::string target_of(pid_t pid, int fd) {
  std::error_code error;
  return std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd), error);
}

// The tracker keeps the program's standard error for its warnings, as Python's does, but not its
// standard input or output: a reader of the program's output is not kept waiting for its end by
// a tracker that outlives the program.
TEST(SharedMemoryTracker, KeepsNeitherStandardInputNorOutput) {
  const std::string prefix = "weft_test_tracker_" + std::to_string(::getpid()) + "_";
  const std::string kept = prefix + "stdio";
  Child creator = start_creator(kept, prefix + "unlinked");
  ASSERT_TRUE(in_dev_shm(kept)) << "the creator never said it was ready";
  std::ifstream children("/proc/" + std::to_string(creator.pid()) + "/task/" + std::to_string(creator.pid()) +
                         "/children");
  pid_t tracker = 0;
  ASSERT_TRUE(children >> tracker) << "the creator started no tracker";
  EXPECT_TRUE(weft::test::eventually([&] { return target_of(tracker, STDOUT_FILENO) == "/dev/null"; }))
      << "the tracker's standard output is " << target_of(tracker, STDOUT_FILENO);
  EXPECT_EQ(target_of(tracker, STDIN_FILENO), "/dev/null");
  EXPECT_EQ(target_of(tracker, STDERR_FILENO), target_of(creator.pid(), STDERR_FILENO));
  EXPECT_EQ(creator.kill(), 128 + SIGKILL);
  EXPECT_TRUE(weft::test::eventually([&] { return !in_dev_shm(kept); }))
      << "the killed creator's segment was left in /dev/shm";
  ::shm_unlink(("/" + kept).c_str());
}

}  // namespace
