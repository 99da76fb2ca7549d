// weft/selectors/selector_map.hpp — SelectorMap<Data>, the read-only view of
// a selector's registrations that Python's get_map() returns.
//
// It maps each registered file to its SelectorKey. Lookups take a file
// (descriptor or object with fileno()); iterating visits every registered
// key once, in ascending descriptor order (Python's mapping iterates the
// files; here each key carries its fd). The view is live: it reflects
// later register_/unregister/modify calls, and is empty once the selector
// is closed.
//
// References and iterators into the map stay valid until the selector is
// changed; a reference to one key stays valid until that file is
// unregistered or the selector closed (modify updates the key in place).
//
// Thread-safety: none. Reading the map while another thread changes the
// selector is a data race.
#pragma once

#include <cstddef>
#include <iterator>
#include <memory>
#include <vector>

#include "weft/selectors/detail/checks.hpp"
#include "weft/selectors/fileobj.hpp"
#include "weft/selectors/key.hpp"

namespace weft::selectors {

template <class Data>
class SelectorMap {
 public:
  using Key = SelectorKey<Data>;

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Key;
    using difference_type = std::ptrdiff_t;
    using pointer = const Key*;
    using reference = const Key&;

    const_iterator() = default;
    reference operator*() const noexcept { return **at_; }
    pointer operator->() const noexcept { return at_->get(); }
    const_iterator& operator++() noexcept {
      ++at_;
      skip_empty();
      return *this;
    }
    const_iterator operator++(int) noexcept {
      auto before = *this;
      ++*this;
      return before;
    }
    friend bool operator==(const const_iterator&, const const_iterator&) = default;

   private:
    friend class SelectorMap;
    using Slot = typename std::vector<std::unique_ptr<Key>>::const_iterator;
    const_iterator(Slot at, Slot end) noexcept : at_(at), end_(end) { skip_empty(); }
    void skip_empty() noexcept {
      while (at_ != end_ && !*at_) ++at_;
    }
    Slot at_{};
    Slot end_{};
  };

  SelectorMap(const SelectorMap&) = delete;
  SelectorMap& operator=(const SelectorMap&) = delete;

  // How many files are registered. Never throws.
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  // Python's map.get(fileobj): the file's key, or nullptr if it is not
  // registered (a negative descriptor included). Never throws.
  const Key* get(FileRef fileobj) const noexcept { return find_fd(fileobj.fd()); }
  bool contains(FileRef fileobj) const noexcept { return get(fileobj) != nullptr; }

  // Python's map[fileobj]: the file's key. Throws ValueError for a negative
  // descriptor, KeyError if the file is not registered.
  const Key& operator[](FileRef fileobj) const {
    if (const Key* key = get(fileobj)) return *key;
    detail::throw_not_registered(fileobj.fd());
  }
  const Key& at(FileRef fileobj) const { return (*this)[fileobj]; }

  const_iterator begin() const noexcept { return {slots_.begin(), slots_.end()}; }
  const_iterator end() const noexcept { return {slots_.end(), slots_.end()}; }

 protected:
  SelectorMap() = default;
  ~SelectorMap() = default;

  const Key* find_fd(int fd) const noexcept {
    return fd >= 0 && static_cast<std::size_t>(fd) < slots_.size() ? slots_[fd].get() : nullptr;
  }

  // Indexed by descriptor: descriptors are small, densely allocated ints.
  std::vector<std::unique_ptr<Key>> slots_;
  std::size_t size_ = 0;
};

}  // namespace weft::selectors
