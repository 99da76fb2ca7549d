// The order of encoded values (sorting a managed list).
#include "manager_order.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <optional>

#include "weft/codec/detail/msgpack.hpp"

#include "weft/codec.hpp"

namespace weft::mp::manager::detail {
namespace {

int kind(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL: return 0;
    case msgpack::type::BOOLEAN: return 1;
    case msgpack::type::POSITIVE_INTEGER:
    case msgpack::type::NEGATIVE_INTEGER:
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: return 2;
    case msgpack::type::STR:
    case msgpack::type::BIN: return 3;
    case msgpack::type::ARRAY: return 4;
    case msgpack::type::MAP: return 5;
    default: return 6;
  }
}

template <class T>
int three_way(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int compare_bytes(const char* a, std::size_t na, const char* b, std::size_t nb) {
  const int c = std::memcmp(a, b, std::min(na, nb));
  return c != 0 ? (c < 0 ? -1 : 1) : three_way(na, nb);
}

int compare_numbers(const msgpack::object& a, const msgpack::object& b) {
  using msgpack::type::POSITIVE_INTEGER;
  using msgpack::type::NEGATIVE_INTEGER;
  const bool a_int = a.type == POSITIVE_INTEGER || a.type == NEGATIVE_INTEGER;
  const bool b_int = b.type == POSITIVE_INTEGER || b.type == NEGATIVE_INTEGER;
  if (a_int && b_int) {
    if (a.type != b.type) return a.type == NEGATIVE_INTEGER ? -1 : 1;
    return a.type == POSITIVE_INTEGER ? three_way(a.via.u64, b.via.u64) : three_way(a.via.i64, b.via.i64);
  }
  auto value = [](const msgpack::object& o) -> long double {
    if (o.type == POSITIVE_INTEGER) return static_cast<long double>(o.via.u64);
    if (o.type == NEGATIVE_INTEGER) return static_cast<long double>(o.via.i64);
    return o.via.f64;
  };
  return three_way(value(a), value(b));
}

// Compares a and b when they are not two arrays or two maps; nullopt when
// they are, for compare() to walk their elements.
std::optional<int> compare_shallow(const msgpack::object& a, const msgpack::object& b) {
  const int ka = kind(a), kb = kind(b);
  if (ka != kb) return three_way(ka, kb);
  switch (ka) {
    case 0: return 0;
    case 1: return three_way(a.via.boolean, b.via.boolean);
    case 2: return compare_numbers(a, b);
    case 3: {
      const auto& sa = a.type == msgpack::type::STR ? a.via.str.ptr : a.via.bin.ptr;
      const auto& sb = b.type == msgpack::type::STR ? b.via.str.ptr : b.via.bin.ptr;
      const auto na = a.type == msgpack::type::STR ? a.via.str.size : a.via.bin.size;
      const auto nb = b.type == msgpack::type::STR ? b.via.str.size : b.via.bin.size;
      return compare_bytes(sa, na, sb, nb);
    }
    case 4:
    case 5: return std::nullopt;
    default:
      if (int c = three_way(a.via.ext.type(), b.via.ext.type()); c != 0) return c;
      return compare_bytes(a.via.ext.data(), a.via.ext.size, b.via.ext.data(), b.via.ext.size);
  }
}

// Two arrays or two maps being compared element by element (a map's
// elements are its keys and values in turn).
struct Level {
  const msgpack::object* a;
  const msgpack::object* b;
  std::uint64_t next;
  std::uint64_t count;

  bool is_map() const noexcept { return a->type == msgpack::type::MAP; }
  std::uint32_t size(const msgpack::object& o) const noexcept {
    return is_map() ? o.via.map.size : o.via.array.size;
  }
  static const msgpack::object& element(const msgpack::object& o, std::uint64_t k) noexcept {
    if (o.type == msgpack::type::ARRAY) return o.via.array.ptr[k];
    const auto& pair = o.via.map.ptr[k / 2];
    return k % 2 == 0 ? pair.key : pair.val;
  }
};

// Lexicographic over nested arrays and maps, iteratively: a value nested
// arbitrarily deep must not exhaust the server thread's stack.
int compare(const msgpack::object& a, const msgpack::object& b) {
  std::vector<Level> levels;
  const msgpack::object* x = &a;
  const msgpack::object* y = &b;
  for (;;) {
    if (auto c = compare_shallow(*x, *y)) {
      if (*c != 0) return *c;
    } else {
      Level level{x, y, 0, 0};
      level.count = std::uint64_t{std::min(level.size(*x), level.size(*y))} * (level.is_map() ? 2 : 1);
      levels.push_back(level);
    }
    for (;;) {
      if (levels.empty()) return 0;
      auto& top = levels.back();
      if (top.next < top.count) {
        x = &Level::element(*top.a, top.next);
        y = &Level::element(*top.b, top.next);
        ++top.next;
        break;
      }
      const int c = three_way(top.size(*top.a), top.size(*top.b));
      levels.pop_back();
      if (c != 0) return c;
    }
  }
}

msgpack::object_handle parse(std::string_view bytes) {
  try {
    return msgpack::unpack(bytes.data(), bytes.size());
  } catch (const msgpack::unpack_error& e) {
    throw codec::DecodeError(std::string("not a MessagePack value: ") + e.what());
  }
}

}  // namespace

int compare_encoded(std::string_view a, std::string_view b) {
  const auto pa = parse(a);
  const auto pb = parse(b);
  return compare(pa.get(), pb.get());
}

}  // namespace weft::mp::manager::detail

namespace weft::mp::manager::detail {

void sort_encoded(std::vector<std::string>& values, bool reverse) {
  std::vector<msgpack::object_handle> parsed;
  parsed.reserve(values.size());
  for (const auto& value : values) parsed.push_back(parse(value));
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) {
    const int c = compare(parsed[i].get(), parsed[j].get());
    return reverse ? c > 0 : c < 0;
  });
  std::vector<std::string> sorted;
  sorted.reserve(values.size());
  for (std::size_t i : order) sorted.push_back(std::move(values[i]));
  values = std::move(sorted);
}

}  // namespace weft::mp::manager::detail
