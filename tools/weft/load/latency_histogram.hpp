// tools/weft/load/latency_histogram.hpp — a log-linear latency histogram in
// the style of HdrHistogram: nanosecond values, a relative error below
// 1/128 (0.8%) at every magnitude, constant-time recording, and percentiles
// read off the cumulative counts.
//
// Values below 128 ns get one bucket each; above that, every power-of-two
// range [2^k, 2^(k+1)) is split into 128 equal buckets. The whole uint64_t
// range fits in 7,424 buckets (58 KiB), so nothing is ever clamped.
//
// Not thread-safe: each load thread records into its own histogram and the
// histograms are merged once the run is over.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace weft::tool {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 7;
  static constexpr std::uint64_t kSubBuckets = std::uint64_t{1} << kSubBucketBits;
  static constexpr std::size_t kBuckets = (64 - kSubBucketBits + 1) * kSubBuckets;

  // Counts one value (in nanoseconds). Never blocks, never throws.
  void record(std::uint64_t value_ns) noexcept {
    ++counts_[bucket_of(value_ns)];
    ++count_;
    sum_ += static_cast<double>(value_ns);
    min_ = std::min(min_, value_ns);
    max_ = std::max(max_, value_ns);
  }

  // Adds every value recorded in `other` to this histogram.
  void merge(const LatencyHistogram& other) noexcept {
    for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    sum_ += other.sum_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }

  void reset() noexcept { *this = LatencyHistogram{}; }

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t min() const noexcept { return count_ == 0 ? 0 : min_; }
  std::uint64_t max() const noexcept { return max_; }
  double mean() const noexcept { return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_); }

  // The value at `percentile` (0..100): the smallest recorded value such
  // that at least that share of all values is at or below it, reported as
  // the top of its bucket and clamped to [min, max]. 0 when empty.
  std::uint64_t value_at_percentile(double percentile) const noexcept {
    if (count_ == 0) return 0;
    // The rank, multiplied before it is divided and rounded up less a hair
    // of floating-point error, so that 99.9 of 1000 is 999, not 1000.
    const double rank = std::clamp(percentile, 0.0, 100.0) * static_cast<double>(count_) / 100.0;
    const auto wanted = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(rank * (1 - 1e-12))));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= wanted) return std::clamp(highest_in_bucket(i), min(), max_);
    }
    return max_;
  }

  // The bucket a value falls in, and the range of values a bucket holds.
  static constexpr std::size_t bucket_of(std::uint64_t value) noexcept {
    if (value < kSubBuckets) return static_cast<std::size_t>(value);
    const int top_bit = std::bit_width(value) - 1;
    const int shift = top_bit - kSubBucketBits;
    const std::uint64_t mantissa = (value >> shift) - kSubBuckets;
    return static_cast<std::size_t>((static_cast<std::uint64_t>(shift) + 1) * kSubBuckets +
                                    mantissa);
  }
  static constexpr std::uint64_t lowest_in_bucket(std::size_t bucket) noexcept {
    if (bucket < kSubBuckets) return bucket;
    const std::uint64_t shift = bucket / kSubBuckets - 1;
    return (kSubBuckets + bucket % kSubBuckets) << shift;
  }
  static constexpr std::uint64_t highest_in_bucket(std::size_t bucket) noexcept {
    if (bucket < kSubBuckets) return bucket;
    const std::uint64_t shift = bucket / kSubBuckets - 1;
    return lowest_in_bucket(bucket) + ((std::uint64_t{1} << shift) - 1);
  }

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  double sum_ = 0.0;
  std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t max_ = 0;
};

}  // namespace weft::tool
