// weft/futures/detail/pull_iterator.hpp — the input iterator of a range
// that produces its elements one blocking call at a time (map() results,
// as_completed()): `Source::next()` returns std::optional<Value>, empty at
// the end.
#pragma once

#include <cstddef>
#include <iterator>
#include <optional>

namespace weft::futures::detail {

template <class Source, class Value>
class PullIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = Value;
  using difference_type = std::ptrdiff_t;
  using pointer = const Value*;
  using reference = const Value&;

  PullIterator() = default;
  // Pulls the first element at once (which may block).
  explicit PullIterator(Source* source) : source_(source) { ++*this; }

  reference operator*() const { return *current_; }
  pointer operator->() const { return &*current_; }
  PullIterator& operator++() {
    current_ = source_->next();
    if (!current_) source_ = nullptr;
    return *this;
  }
  void operator++(int) { ++*this; }
  friend bool operator==(const PullIterator& a, const PullIterator& b) noexcept { return a.source_ == b.source_; }

 private:
  Source* source_ = nullptr;
  std::optional<Value> current_;
};

}  // namespace weft::futures::detail
