// weft/codec/detail/decode.hpp — the machinery behind codec::decode(): the
// per-thread scratch zone and the translation of msgpack-cxx's exceptions
// into DecodeError.
#pragma once

#include <cstddef>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>

#include "weft/codec/detail/msgpack.hpp"

#include "weft/codec/detail/scalar.hpp"
#include "weft/codec/detail/scan.hpp"

namespace weft::codec::detail {

[[noreturn]] void throw_type_mismatch(const std::type_info& type);
[[noreturn]] void throw_unpack_error(const std::exception& error, std::size_t size);
[[noreturn]] void throw_out_of_memory(const std::type_info& type, std::size_t size);
[[noreturn]] void throw_scan_error(const ScanResult& result, std::size_t size);

// Each thread keeps one zone for the msgpack objects of the value being
// decoded; it is cleared (keeping its first chunk) after every decode. A
// decode nested inside another (a user adaptor decoding a payload) gets a
// zone of its own.
struct ZoneSlot {
  msgpack::zone zone;
  bool busy = false;
};

inline ZoneSlot& thread_zone() {
  thread_local ZoneSlot slot;
  return slot;
}

class ZoneLease {
 public:
  ZoneLease() {
    ZoneSlot& slot = thread_zone();
    if (slot.busy) {
      zone_ = &own_.emplace();
    } else {
      slot.busy = true;
      slot_ = &slot;
      zone_ = &slot.zone;
    }
  }
  ~ZoneLease() {
    if (slot_ != nullptr) {
      slot_->zone.clear();
      slot_->busy = false;
    }
  }
  ZoneLease(const ZoneLease&) = delete;
  ZoneLease& operator=(const ZoneLease&) = delete;

  msgpack::zone& zone() { return *zone_; }

 private:
  ZoneSlot* slot_ = nullptr;
  std::optional<msgpack::zone> own_;
  msgpack::zone* zone_ = nullptr;
};

// Strings, bins and exts refer into the input instead of being copied.
inline bool refer_to_input(msgpack::type::object_type, std::size_t, void*) { return true; }

// The msgpack object encoded by exactly `bytes`, valid while this lives
// and `bytes` is unchanged. Throws DecodeError. A scalar needs no zone.
class Parsed {
 public:
  explicit Parsed(std::string_view bytes) {
    const ScanResult scanned = scan(bytes);
    if (scanned.error != ScanError::none || scanned.end != bytes.size()) {
      throw_scan_error(scanned, bytes.size());
    }
    if (scalar_object(bytes, object_)) return;
    const std::size_t n = bytes.size();
    const msgpack::unpack_limit limit(n, n / 2, n, n, n, codec::max_depth);
    try {
      std::size_t offset = 0;
      object_ = msgpack::unpack(lease_.emplace().zone(), bytes.data(), n, offset,
                                &refer_to_input, nullptr, limit);
    } catch (const msgpack::unpack_error& e) {
      throw_unpack_error(e, n);
    } catch (const std::bad_alloc& e) {
      throw_unpack_error(e, n);
    }
  }

  const msgpack::object& object() const { return object_; }

 private:
  std::optional<ZoneLease> lease_;  // arrays and maps only
  msgpack::object object_;
};

}  // namespace weft::codec::detail
