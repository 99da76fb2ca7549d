// Creating and checking the header of a block that holds weft::mp objects.
#include "weft/mp/detail/shared_state.hpp"

#include <string>

#include "weft/codec.hpp"

namespace weft::mp::detail {

std::shared_ptr<SharedBlock> create_state_block(StateKind kind, std::size_t element_size,
                                                std::size_t count, const char* name) {
  auto block = SharedBlock::create(kStateOffset + element_size * count, name);
  new (block->data()) StateHeader{kStateMagic, kind, element_size, count};
  return block;
}

std::shared_ptr<SharedBlock> state_block_from_parent(std::uint32_t token, StateKind kind,
                                                     std::size_t element_size,
                                                     std::size_t& count) {
  auto block = SharedBlock::from_parent(token);
  const auto* header = block->as<const StateHeader>();
  const bool fits = block->size() >= kStateOffset && header->element_size == element_size &&
                    (element_size == 0 ||
                     header->count <= (block->size() - kStateOffset) / element_size);
  if (header->magic != kStateMagic || header->kind != kind || !fits) {
    throw codec::DecodeError("token " + std::to_string(token) +
                             " does not name a shared object of the expected type");
  }
  count = static_cast<std::size_t>(header->count);
  return block;
}

}  // namespace weft::mp::detail
