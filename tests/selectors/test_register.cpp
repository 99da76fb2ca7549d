// Registrations on every selector: register_, unregister, modify, get_key, try_get_key, get_map,
// close — CPython's test_selectors.py cases and their errors.
#include <gtest/gtest.h>
#include <weft/errors.hpp>
#include <weft/selectors.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <any>
#include <cerrno>
#include <climits>
#include <concepts>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "selectors/selectors_support.hpp"

namespace {

using namespace weft::test;

template <class P>
class Register : public SelectorTest<P> {};
TYPED_TEST_SUITE(Register, AllSelectors, SelectorName);

TYPED_TEST(Register, ReturnsTheKey) {
  SelectorOf<TypeParam, int> s;
  auto [rd, wr] = socket_pair();
  const auto& key = s.register_(rd.get(), EVENT_READ, 42);
  EXPECT_EQ(key.fileobj, rd.get());
  EXPECT_EQ(key.fd, rd.get());
  EXPECT_EQ(key.events, EVENT_READ);
  EXPECT_EQ(key.data, 42);
  EXPECT_EQ(&s.get_key(rd.get()), &key);
}

TYPED_TEST(Register, DataDefaultsToEmpty) {
  SelectorOf<TypeParam> s;
  auto [rd, wr] = socket_pair();
  EXPECT_FALSE(s.register_(rd.get(), EVENT_READ | EVENT_WRITE).data.has_value());
  const auto& key = s.register_(wr.get(), EVENT_WRITE, std::string("payload"));
  EXPECT_EQ(std::any_cast<std::string>(key.data), "payload");
}

TYPED_TEST(Register, AcceptsAnObjectWithFileno) {
  SelectorOf<TypeParam, int> s;
  auto [rd, wr] = socket_pair();
  EXPECT_EQ(s.register_(rd, EVENT_READ, 1).fd, rd.get());
  EXPECT_EQ(s.get_key(rd).data, 1);
  EXPECT_TRUE(s.get_map().contains(rd));
  EXPECT_EQ(s.modify(rd, EVENT_WRITE, 2).events, EVENT_WRITE);
  EXPECT_EQ(s.unregister(rd).data, 2);
}

TYPED_TEST(Register, InvalidEventsThrowValueError) {
  SelectorOf<TypeParam> s;
  auto [rd, wr] = socket_pair();
  for (int events : {0, 4, 999999, -1, EVENT_READ | 8}) {
    try {
      s.register_(rd.get(), events);
      ADD_FAILURE() << "events " << events << " accepted";
    } catch (const weft::ValueError& e) {
      EXPECT_EQ(std::string(e.what()), "Invalid events: " + std::to_string(events));
    }
  }
  EXPECT_TRUE(s.get_map().empty());
}

TYPED_TEST(Register, NegativeDescriptorThrowsValueError) {
  SelectorOf<TypeParam> s;
  EXPECT_THROW(s.register_(-1, EVENT_READ), weft::ValueError);
  Fd closed;
  EXPECT_THROW(s.register_(closed, EVENT_READ), weft::ValueError);
  EXPECT_THROW(s.unregister(-1), weft::ValueError);
  EXPECT_THROW(s.modify(-1, EVENT_READ), weft::ValueError);
  EXPECT_THROW(s.get_key(-1), weft::ValueError);
  EXPECT_EQ(s.try_get_key(-1), nullptr);
  EXPECT_EQ(s.get_map().get(-1), nullptr);
  EXPECT_THROW(s.get_map()[-1], weft::ValueError);
}

// Whether registering descriptor INT_MAX, which no file can have, is refused
// with the selector's typed error: ValueError (select) or EBADF.
template <class Selector>
bool refuses_descriptor_int_max() {
  Selector s;
  try {
    s.register_(INT_MAX, EVENT_READ);
  } catch (const weft::ValueError&) {
    return s.get_map().empty();
  } catch (const std::system_error& e) {
    return e.code().value() == EBADF && s.get_map().empty();
  }
  return false;
}

// Growing the tables to that descriptor's number would take 16 GiB: in a
// child whose address space is capped, a selector that tried would fail
// with bad_alloc instead of the typed error. (The sanitizers' runtimes need
// more address space than any cap, so there it runs uncapped.)
TYPED_TEST(Register, ADescriptorNoFileCouldHaveIsRefusedBeforeTheTablesGrow) {
  const pid_t child = ::fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    const rlimit cap{std::size_t{2} << 30, std::size_t{2} << 30};
    if (::setrlimit(RLIMIT_AS, &cap) != 0) ::_exit(2);
#endif
    bool refused = false;
    try {
      refused = refuses_descriptor_int_max<SelectorOf<TypeParam>>();
    } catch (...) {
    }
    ::_exit(refused ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TYPED_TEST(Register, TwiceThrowsKeyError) {
  SelectorOf<TypeParam, int> s;
  auto [rd, wr] = socket_pair();
  s.register_(rd.get(), EVENT_READ, 1);
  try {
    s.register_(rd.get(), EVENT_WRITE, 2);
    ADD_FAILURE() << "registered twice";
  } catch (const weft::KeyError& e) {
    EXPECT_NE(std::string(e.what()).find("is already registered"), std::string::npos) << e.what();
  }
  EXPECT_THROW(s.register_(rd, EVENT_READ), std::out_of_range);
  EXPECT_EQ(s.get_key(rd.get()).events, EVENT_READ);
  EXPECT_EQ(s.get_key(rd.get()).data, 1);
  EXPECT_EQ(s.get_map().size(), 1u);
}

TYPED_TEST(Register, UnregisterReturnsTheKeyAndForgetsTheFile) {
  SelectorOf<TypeParam, std::string> s;
  auto [rd, wr] = socket_pair();
  s.register_(rd.get(), EVENT_READ, "reader");
  s.register_(wr.get(), EVENT_WRITE, "writer");
  const auto key = s.unregister(rd.get());
  EXPECT_EQ(key.fd, rd.get());
  EXPECT_EQ(key.events, EVENT_READ);
  EXPECT_EQ(key.data, "reader");
  EXPECT_THROW(s.unregister(rd.get()), weft::KeyError);
  EXPECT_THROW(s.get_key(rd.get()), weft::KeyError);
  EXPECT_EQ(s.get_map().size(), 1u);
  EXPECT_EQ(s.register_(rd.get(), EVENT_WRITE, "again").data, "again");
}

TYPED_TEST(Register, UnregisterUnknownThrowsKeyError) {
  SelectorOf<TypeParam> s;
  auto [rd, wr] = socket_pair();
  try {
    s.unregister(rd.get());
    ADD_FAILURE() << "unregistered an unknown file";
  } catch (const weft::KeyError& e) {
    EXPECT_EQ(std::string(e.what()), std::to_string(rd.get()) + " is not registered");
  }
}

TYPED_TEST(Register, UnregisterAfterTheFileWasClosed) {
  SelectorOf<TypeParam> s;
  auto [rd, wr] = socket_pair();
  const int r = rd.get();
  const int w = wr.get();
  s.register_(r, EVENT_READ);
  s.register_(w, EVENT_WRITE);
  rd.reset();
  wr.reset();
  EXPECT_EQ(s.unregister(r).fd, r);
  EXPECT_EQ(s.unregister(w).fd, w);
  EXPECT_TRUE(s.get_map().empty());
}

TYPED_TEST(Register, UnregisterAfterTheNumberWasReused) {
  SelectorOf<TypeParam> s;
  auto [rd, wr] = socket_pair();
  const int r = rd.get();
  const int w = wr.get();
  s.register_(r, EVENT_READ);
  s.register_(w, EVENT_WRITE);
  auto [rd2, wr2] = socket_pair();
  rd.reset();
  wr.reset();
  ASSERT_EQ(::dup2(rd2.get(), r), r);
  Fd reused_r(r);
  ASSERT_EQ(::dup2(wr2.get(), w), w);
  Fd reused_w(w);
  s.unregister(r);
  s.unregister(w);
  EXPECT_TRUE(s.get_map().empty());
}

TYPED_TEST(Register, ModifyChangesTheEvents) {
  SelectorOf<TypeParam, int> s;
  auto [a, b] = socket_pair();
  const auto& key = s.register_(a.get(), EVENT_READ, 7);
  EXPECT_TRUE(s.select(0s).empty());
  const auto& modified = s.modify(a.get(), EVENT_WRITE, 8);
  EXPECT_EQ(&modified, &key);
  EXPECT_EQ(modified.events, EVENT_WRITE);
  EXPECT_EQ(modified.data, 8);
  auto ready = s.select(0s);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].first, modified);
  EXPECT_EQ(ready[0].second, EVENT_WRITE);
  s.modify(a.get(), EVENT_READ, 9);
  EXPECT_TRUE(s.select(0s).empty());
}

TYPED_TEST(Register, ModifyThatChangesOnlyTheData) {
  SelectorOf<TypeParam, std::string> s;
  auto [a, b] = socket_pair();
  const auto& key = s.register_(a.get(), EVENT_WRITE, "before");
  const auto& modified = s.modify(a.get(), EVENT_WRITE, "after");
  EXPECT_EQ(&modified, &key);
  EXPECT_EQ(modified.events, EVENT_WRITE);
  EXPECT_EQ(s.get_key(a.get()).data, "after");
  auto ready = s.select(0s);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].first.data, "after");
}

TYPED_TEST(Register, ModifyWithoutDataResetsIt) {
  SelectorOf<TypeParam, int> s;
  auto [a, b] = socket_pair();
  s.register_(a.get(), EVENT_READ, 5);
  EXPECT_EQ(s.modify(a.get(), EVENT_READ).data, 0);
}

TYPED_TEST(Register, ModifyUnknownThrowsKeyError) {
  SelectorOf<TypeParam> s;
  auto [a, b] = socket_pair();
  EXPECT_THROW(s.modify(a.get(), EVENT_READ), weft::KeyError);
  EXPECT_TRUE(s.get_map().empty());
}

TYPED_TEST(Register, ModifyWithInvalidEventsKeepsTheRegistration) {
  SelectorOf<TypeParam, int> s;
  auto [a, b] = socket_pair();
  s.register_(a.get(), EVENT_WRITE, 3);
  EXPECT_THROW(s.modify(a.get(), 0, 4), weft::ValueError);
  EXPECT_THROW(s.modify(a.get(), 4, 4), weft::ValueError);
  EXPECT_EQ(s.get_key(a.get()).events, EVENT_WRITE);
  EXPECT_EQ(s.get_key(a.get()).data, 3);
  EXPECT_EQ(s.select(0s).size(), 1u);
}

TYPED_TEST(Register, GetKeyAndTryGetKey) {
  SelectorOf<TypeParam, int> s;
  auto [rd, wr] = socket_pair();
  const auto& key = s.register_(rd.get(), EVENT_READ, 11);
  EXPECT_EQ(&s.get_key(rd.get()), &key);
  EXPECT_EQ(s.try_get_key(rd.get()), &key);
  EXPECT_EQ(s.try_get_key(wr.get()), nullptr);
  EXPECT_THROW(s.get_key(wr.get()), weft::KeyError);
}

TYPED_TEST(Register, GetMapIsALiveReadOnlyView) {
  SelectorOf<TypeParam, int> s;
  const auto& map = s.get_map();
  auto [rd, wr] = socket_pair();
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.begin(), map.end());
  s.register_(wr.get(), EVENT_WRITE, 2);
  s.register_(rd.get(), EVENT_READ, 1);
  EXPECT_EQ(map.size(), 2u);
  EXPECT_TRUE(map.contains(rd.get()));
  EXPECT_TRUE(map.contains(wr));
  EXPECT_EQ(map[rd.get()].data, 1);
  EXPECT_EQ(map.at(wr).data, 2);
  EXPECT_EQ(map.get(rd.get()), &s.get_key(rd.get()));

  std::vector<int> fds;
  for (const auto& key : map) fds.push_back(key.fd);
  const std::vector<int> ascending =
      rd.get() < wr.get() ? std::vector{rd.get(), wr.get()} : std::vector{wr.get(), rd.get()};
  EXPECT_EQ(fds, ascending);

  s.unregister(rd.get());
  EXPECT_EQ(map.size(), 1u);
  EXPECT_FALSE(map.contains(rd.get()));
  EXPECT_EQ(map.get(rd.get()), nullptr);
  EXPECT_THROW(map[rd.get()], weft::KeyError);
  EXPECT_EQ(std::distance(map.begin(), map.end()), 1);
}

TYPED_TEST(Register, KeyReferenceSurvivesTheTableGrowing) {
  if (!allow_open_fds(FD_SETSIZE)) GTEST_SKIP() << "RLIMIT_NOFILE too low";
  SelectorOf<TypeParam, std::string> s;
  auto [rd, wr] = socket_pair();
  const auto& key = s.register_(rd.get(), EVENT_READ, "first");
  std::vector<Fd> higher;
  for (int lowest : {100, 300, 600, 900}) higher.push_back(dup_at_least(wr, lowest));
  for (const auto& fd : higher) s.register_(fd.get(), EVENT_WRITE, "later");
  EXPECT_EQ(&s.get_key(rd.get()), &key);
  EXPECT_EQ(key.data, "first");
  EXPECT_EQ(s.select(0s).size(), higher.size());
  for (const auto& fd : higher) s.unregister(fd.get());
}

TYPED_TEST(Register, CloseForgetsEverything) {
  SelectorOf<TypeParam, int> s;
  const auto& map = s.get_map();
  auto [rd, wr] = socket_pair();
  s.register_(rd.get(), EVENT_READ, 1);
  s.register_(wr.get(), EVENT_WRITE, 2);
  s.close();
  EXPECT_THROW(s.get_key(rd.get()), weft::RuntimeError);
  EXPECT_THROW(s.get_key(wr.get()), weft::RuntimeError);
  EXPECT_THROW(s.try_get_key(rd.get()), weft::RuntimeError);
  EXPECT_TRUE(map.empty());
  EXPECT_THROW(map[rd.get()], weft::KeyError);
  EXPECT_EQ(map.get(wr.get()), nullptr);
  EXPECT_THROW(s.unregister(rd.get()), weft::KeyError);
  EXPECT_THROW(s.modify(rd.get(), EVENT_READ), weft::KeyError);
  EXPECT_THROW(s.register_(rd.get(), EVENT_READ), weft::RuntimeError);
  EXPECT_THROW(s.select(0s), weft::RuntimeError);
  EXPECT_THROW(s.select(), weft::RuntimeError);
  s.close();
}

TYPED_TEST(Register, DestructorReleasesTheSelector) {
  const auto before = open_fd_count();
  auto [rd, wr] = socket_pair();
  {
    SelectorOf<TypeParam> s;
    s.register_(rd.get(), EVENT_READ);
    s.register_(wr.get(), EVENT_WRITE);
  }
  EXPECT_EQ(open_fd_count(), before + 2);
}

TYPED_TEST(Register, UsableThroughBaseSelector) {
  std::unique_ptr<weft::selectors::BaseSelector<int>> s = std::make_unique<SelectorOf<TypeParam, int>>();
  auto [rd, wr] = socket_pair();
  s->register_(rd.get(), EVENT_READ, 1);
  s->register_(wr.get(), EVENT_WRITE, 2);
  auto ready = s->select(0s);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].first.data, 2);
  s->close();
}

TEST(SelectorKey, ComparesWhenItsDataDoes) {
  static_assert(std::equality_comparable<weft::selectors::SelectorKey<int>>);
  static_assert(!std::equality_comparable<weft::selectors::SelectorKey<std::any>>);
  const weft::selectors::SelectorKey<int> key{3, 3, EVENT_READ, 1};
  EXPECT_EQ(key, (weft::selectors::SelectorKey<int>{3, 3, EVENT_READ, 1}));
  EXPECT_NE(key, (weft::selectors::SelectorKey<int>{3, 3, EVENT_READ, 2}));
}

TEST(Selectors, EventConstantsArePythons) {
  EXPECT_EQ(EVENT_READ, 1);
  EXPECT_EQ(EVENT_WRITE, 2);
}

TEST(Selectors, KeyErrorIsALookupError) {
  static_assert(std::derived_from<weft::KeyError, std::out_of_range>);
}

}  // namespace
