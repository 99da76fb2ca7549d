// Functions by reference: module identities from the ELF program headers of
// the loaded modules (dl_iterate_phdr), offsets checked against their
// executable segments.
#include <elf.h>
#include <link.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "weft/codec/function.hpp"

namespace weft::codec::detail {
namespace {

std::string hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 0xF];
  }
  return out;
}

constexpr std::size_t align_up(std::size_t value, std::size_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

// The NT_GNU_BUILD_ID note of a loaded module, in hex.
std::optional<std::string> build_id(const dl_phdr_info& module) {
  for (int i = 0; i < module.dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = module.dlpi_phdr[i];
    if (segment.p_type != PT_NOTE) continue;
    const std::size_t alignment = segment.p_align == 8 ? 8 : 4;
    const auto* notes = reinterpret_cast<const unsigned char*>(module.dlpi_addr + segment.p_vaddr);
    std::size_t at = 0;
    while (at + sizeof(ElfW(Nhdr)) <= segment.p_filesz) {
      ElfW(Nhdr) header;
      std::memcpy(&header, notes + at, sizeof header);
      const std::size_t name_at = at + sizeof header;
      const std::size_t desc_at = name_at + align_up(header.n_namesz, alignment);
      const std::size_t next = desc_at + align_up(header.n_descsz, alignment);
      if (desc_at + header.n_descsz > segment.p_filesz) break;
      if (header.n_type == NT_GNU_BUILD_ID && header.n_namesz == 4 &&
          std::memcmp(notes + name_at, "GNU", 4) == 0 && header.n_descsz > 0)
        return "build-id:" + hex(notes + desc_at, header.n_descsz);
      at = next;
    }
  }
  return std::nullopt;
}

// "build-id:<hex>", else "file:<path>:<size>:<mtime ns>".
std::string module_identity(const dl_phdr_info& module) {
  if (auto id = build_id(module)) return *std::move(id);
  std::string path = module.dlpi_name != nullptr ? module.dlpi_name : "";
  if (path.empty()) {
    char buffer[4096];
    const ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer);
    path.assign(buffer, n > 0 ? static_cast<std::size_t>(n) : 0);
  }
  struct stat info {};
  if (path.empty() || ::stat(path.c_str(), &info) != 0) return "file:" + path + ":?";
  const auto mtime = static_cast<long long>(info.st_mtim.tv_sec) * 1'000'000'000LL +
                     info.st_mtim.tv_nsec;
  return "file:" + path + ":" + std::to_string(info.st_size) + ":" + std::to_string(mtime);
}

// True if `offset` (from the module's base) is inside an executable
// PT_LOAD segment of the module.
bool in_executable_segment(const dl_phdr_info& module, std::uint64_t offset) {
  for (int i = 0; i < module.dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = module.dlpi_phdr[i];
    if (segment.p_type == PT_LOAD && (segment.p_flags & PF_X) != 0 &&
        offset >= segment.p_vaddr && offset - segment.p_vaddr < segment.p_memsz)
      return true;
  }
  return false;
}

struct Locate {
  std::uintptr_t address;
  std::optional<FunctionRef> found;
  std::uint64_t signature;
};

int locate_in(dl_phdr_info* module, std::size_t, void* data) {
  auto& query = *static_cast<Locate*>(data);
  if (query.address < module->dlpi_addr) return 0;
  const std::uint64_t offset = query.address - module->dlpi_addr;
  if (!in_executable_segment(*module, offset)) return 0;
  query.found = FunctionRef{module_identity(*module), offset, query.signature};
  return 1;
}

struct Resolve {
  const FunctionRef* ref;
  const void* address = nullptr;
  bool module_found = false;
};

int resolve_in(dl_phdr_info* module, std::size_t, void* data) {
  auto& query = *static_cast<Resolve*>(data);
  if (module_identity(*module) != query.ref->module) return 0;
  query.module_found = true;
  if (in_executable_segment(*module, query.ref->offset))
    query.address = reinterpret_cast<const void*>(module->dlpi_addr + query.ref->offset);
  return 1;
}

}  // namespace

std::uint64_t signature_hash(const std::type_info& type) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char* c = type.name(); *c != '\0'; ++c) {
    hash ^= static_cast<unsigned char>(*c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

FunctionRef locate_function(const void* address, std::uint64_t signature) {
  Locate query{reinterpret_cast<std::uintptr_t>(address), std::nullopt, signature};
  ::dl_iterate_phdr(locate_in, &query);
  if (!query.found)
    throw EncodeError("cannot encode a function pointer outside the program's loaded modules");
  return *std::move(query.found);
}

const void* resolve_function(const FunctionRef& ref, std::uint64_t expected) {
  Resolve query{&ref};
  ::dl_iterate_phdr(resolve_in, &query);
  if (!query.module_found)
    throw DecodeError("function reference into a module this process has not loaded (" +
                      ref.module + "): a different binary?");
  if (query.address == nullptr)
    throw DecodeError("function reference offset " + std::to_string(ref.offset) +
                      " is outside the executable segments of " + ref.module);
  if (ref.signature != expected)
    throw DecodeError("function reference names a function of another type");
  return query.address;
}

}  // namespace weft::codec::detail
