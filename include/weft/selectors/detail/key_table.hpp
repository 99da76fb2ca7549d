// weft/selectors/detail/key_table.hpp — KeyTable<Data>, the selector's own
// writable side of its SelectorMap: keys by descriptor, one heap cell each so
// that a key's address survives the table growing.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "weft/selectors/key.hpp"
#include "weft/selectors/selector_map.hpp"

namespace weft::selectors::detail {

template <class Data>
class KeyTable final : public SelectorMap<Data> {
 public:
  using Key = SelectorKey<Data>;

  KeyTable() = default;

  // The key of `fd`, or nullptr. Never throws.
  Key* find(int fd) noexcept { return const_cast<Key*>(this->find_fd(fd)); }

  // Makes room for `fd` (>= 0), so that insert cannot fail. Throws
  // std::bad_alloc.
  void reserve(int fd) {
    if (static_cast<std::size_t>(fd) >= this->slots_.size())
      this->slots_.resize(static_cast<std::size_t>(fd) + 1);
  }

  // Stores `key` in its descriptor's slot, reserved and empty. Never throws.
  Key& insert(std::unique_ptr<Key> key) noexcept {
    auto& slot = this->slots_[static_cast<std::size_t>(key->fd)];
    slot = std::move(key);
    ++this->size_;
    return *slot;
  }

  // Takes out the key of `fd`; nullptr if there is none. Never throws.
  std::unique_ptr<Key> erase(int fd) noexcept {
    if (find(fd) == nullptr) return nullptr;
    --this->size_;
    return std::move(this->slots_[static_cast<std::size_t>(fd)]);
  }

  // Empties the table, then destroys the keys (whose data may do anything).
  void clear() noexcept {
    auto keys = std::move(this->slots_);
    this->slots_.clear();
    this->size_ = 0;
  }
};

}  // namespace weft::selectors::detail
