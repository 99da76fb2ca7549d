// Tests of HttpRequestCounter (tools/weft/protocol.hpp): requests are
// counted at "\r\n\r\n", wherever the stream is split.
#include <gtest/gtest.h>

#include <string>

#include "weft/protocol.hpp"

using weft::tool::HttpRequestCounter;
using weft::tool::kHttpRequest;

TEST(HttpRequestCounter, CountsWholeRequests) {
  HttpRequestCounter counter;
  EXPECT_EQ(counter.feed(kHttpRequest), 1u);
  std::string three;
  for (int i = 0; i < 3; ++i) three += kHttpRequest;
  EXPECT_EQ(counter.feed(three), 3u);
  EXPECT_EQ(counter.feed(""), 0u);
}

TEST(HttpRequestCounter, PartialRequestIsNotCounted) {
  HttpRequestCounter counter;
  EXPECT_EQ(counter.feed(kHttpRequest.substr(0, kHttpRequest.size() - 1)), 0u);
  EXPECT_EQ(counter.feed("\n"), 1u);
}

TEST(HttpRequestCounter, TerminatorSplitAtEveryPointCountsOnce) {
  const std::string stream = std::string(kHttpRequest) + std::string(kHttpRequest);
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    HttpRequestCounter counter;
    const auto first = counter.feed(std::string_view(stream).substr(0, split));
    const auto second = counter.feed(std::string_view(stream).substr(split));
    EXPECT_EQ(first + second, 2u) << "split at " << split;
  }
}

TEST(HttpRequestCounter, ByteAtATime) {
  std::string stream;
  for (int i = 0; i < 5; ++i) stream += kHttpRequest;
  HttpRequestCounter counter;
  std::size_t total = 0;
  for (char c : stream) total += counter.feed(std::string_view(&c, 1));
  EXPECT_EQ(total, 5u);
}

TEST(HttpRequestCounter, NearMissesAreNotTerminators) {
  HttpRequestCounter counter;
  EXPECT_EQ(counter.feed("\r\r\n\n"), 0u);
  EXPECT_EQ(counter.feed("\n\r\n\r"), 0u);
  EXPECT_EQ(counter.feed("\n"), 1u);  // completes the "\r\n\r" the last piece ended in
  EXPECT_EQ(counter.feed("\r\n\r\n\r\n"), 1u);
  EXPECT_EQ(counter.feed("\r\n"), 1u);  // the earlier "\r\n" + this one
}
