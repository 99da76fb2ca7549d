// Tests of LatencyHistogram: bucket layout, percentiles, merge.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>

#include "weft/load/latency_histogram.hpp"

using weft::tool::LatencyHistogram;

TEST(LatencyHistogram, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.value_at_percentile(50), 0u);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(LatencyHistogram, BucketsTileTheWholeRange) {
  for (std::size_t b = 0; b < LatencyHistogram::kBuckets; ++b) {
    const auto low = LatencyHistogram::lowest_in_bucket(b);
    const auto high = LatencyHistogram::highest_in_bucket(b);
    ASSERT_LE(low, high) << b;
    ASSERT_EQ(LatencyHistogram::bucket_of(low), b);
    ASSERT_EQ(LatencyHistogram::bucket_of(high), b);
    if (b + 1 < LatencyHistogram::kBuckets) {
      ASSERT_EQ(LatencyHistogram::lowest_in_bucket(b + 1), high + 1) << b;
    }
  }
  EXPECT_EQ(LatencyHistogram::bucket_of(std::numeric_limits<std::uint64_t>::max()),
            LatencyHistogram::kBuckets - 1);
}

TEST(LatencyHistogram, RelativeErrorBelowOnePercent) {
  std::mt19937_64 random(7);
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t v = random() >> (random() % 64);
    const auto b = LatencyHistogram::bucket_of(v);
    const auto width = LatencyHistogram::highest_in_bucket(b) - LatencyHistogram::lowest_in_bucket(b);
    ASSERT_LE(static_cast<double>(width), static_cast<double>(v) / 128.0) << v;
  }
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.value_at_percentile(50), 50u);
  EXPECT_EQ(h.value_at_percentile(99), 99u);
  EXPECT_EQ(h.value_at_percentile(100), 100u);
  EXPECT_EQ(h.value_at_percentile(0), 1u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 100u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(LatencyHistogram, PercentilesOfAUniformSpread) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 1'000'000; ++v) h.record(v * 10);  // 10 ns .. 10 ms
  auto near = [](std::uint64_t got, double want) {
    return std::abs(static_cast<double>(got) - want) <= want / 128.0 + 1.0;
  };
  EXPECT_TRUE(near(h.value_at_percentile(50), 5'000'000)) << h.value_at_percentile(50);
  EXPECT_TRUE(near(h.value_at_percentile(99), 9'900'000)) << h.value_at_percentile(99);
  EXPECT_TRUE(near(h.value_at_percentile(99.9), 9'990'000)) << h.value_at_percentile(99.9);
  EXPECT_EQ(h.value_at_percentile(100), 10'000'000u);
  EXPECT_EQ(h.max(), 10'000'000u);
}

TEST(LatencyHistogram, TailPercentilesSeeRareOutliers) {
  LatencyHistogram h;
  for (int i = 0; i < 9990; ++i) h.record(1'000);
  for (int i = 0; i < 10; ++i) h.record(5'000'000);
  EXPECT_LE(h.value_at_percentile(99), 1'010u);
  EXPECT_GE(h.value_at_percentile(99.91), 4'900'000u);
  EXPECT_EQ(h.max(), 5'000'000u);
}

// p99.9 of 1000 values is the 999th: 99.9 / 100 in floating point is a hair above 0.999, which
// must not round the rank up to the maximum.
TEST(LatencyHistogram, AnExactRankIsNotRoundedUp) {
  for (const std::uint64_t n : {1'000u, 10'000u, 2'000'000u}) {
    LatencyHistogram h;
    for (std::uint64_t i = 0; i + 1 < n; ++i) h.record(100);
    h.record(5'000'000);
    EXPECT_LE(h.value_at_percentile(99.9), 101u) << n << " values";
    EXPECT_LE(h.value_at_percentile(99.99), n >= 10'000 ? 101u : 5'000'000u) << n << " values";
  }
}

TEST(LatencyHistogram, MergeEqualsRecordingEverything) {
  LatencyHistogram all, low, high;
  std::mt19937_64 random(11);
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t v = 100 + random() % 1'000'000;
    all.record(v);
    (i % 2 == 0 ? low : high).record(v);
  }
  low.merge(high);
  EXPECT_EQ(low.count(), all.count());
  EXPECT_EQ(low.min(), all.min());
  EXPECT_EQ(low.max(), all.max());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
    EXPECT_EQ(low.value_at_percentile(p), all.value_at_percentile(p)) << p;
  }
  low.reset();
  EXPECT_EQ(low.count(), 0u);
}

TEST(LatencyHistogram, HugeValuesAreKept) {
  LatencyHistogram h;
  h.record(std::numeric_limits<std::uint64_t>::max());
  h.record(0);
  EXPECT_EQ(h.max(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(h.value_at_percentile(100), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(h.value_at_percentile(50), 0u);
}
