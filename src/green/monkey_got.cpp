// Rewriting GOT slots: dl_iterate_phdr over the loaded objects, and in each
// the PLT relocations (JUMP_SLOT) and data relocations (GLOB_DAT) of the
// calls to take over. A slot in a RELRO segment is made writable for the
// write and read-only again after it.
#include "monkey_got.hpp"

#include <elf.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <mutex>

namespace weft::green::monkey::got {
namespace {

#if defined(__x86_64__)
constexpr unsigned kJumpSlot = R_X86_64_JUMP_SLOT;
constexpr unsigned kGlobDat = R_X86_64_GLOB_DAT;
#elif defined(__aarch64__)
constexpr unsigned kJumpSlot = R_AARCH64_JUMP_SLOT;
constexpr unsigned kGlobDat = R_AARCH64_GLOB_DAT;
#else
// Elsewhere nothing matches: patch_all() changes no call.
constexpr unsigned kJumpSlot = ~0u;
constexpr unsigned kGlobDat = ~0u;
#endif

#if __ELF_NATIVE_CLASS == 64
unsigned relocation_type(ElfW(Xword) info) noexcept { return static_cast<unsigned>(ELF64_R_TYPE(info)); }
std::size_t relocation_symbol(ElfW(Xword) info) noexcept { return ELF64_R_SYM(info); }
#else
unsigned relocation_type(ElfW(Word) info) noexcept { return ELF32_R_TYPE(info); }
std::size_t relocation_symbol(ElfW(Word) info) noexcept { return ELF32_R_SYM(info); }
#endif

// The dynamic section's view of one loaded object.
struct Object {
  ElfW(Addr) base = 0;
  const ElfW(Sym)* symbols = nullptr;
  const char* names = nullptr;
  const ElfW(Rela)* plt = nullptr;
  std::size_t plt_size = 0;
  const ElfW(Rela)* data = nullptr;
  std::size_t data_size = 0;
  std::uintptr_t relro_begin = 0;
  std::uintptr_t relro_end = 0;
};

// glibc stores most dynamic-section addresses already relocated; the
// vDSO's stay relative to the object's base.
std::uintptr_t address_of(ElfW(Addr) base, ElfW(Addr) pointer) noexcept {
  return pointer < base ? base + pointer : pointer;
}

bool read_object(const dl_phdr_info& info, Object& object) {
  object.base = info.dlpi_addr;
  const ElfW(Dyn)* dynamic = nullptr;
  for (int i = 0; i < info.dlpi_phnum; ++i) {
    const ElfW(Phdr)& header = info.dlpi_phdr[i];
    if (header.p_type == PT_DYNAMIC) dynamic = reinterpret_cast<const ElfW(Dyn)*>(info.dlpi_addr + header.p_vaddr);
    if (header.p_type == PT_GNU_RELRO) {
      object.relro_begin = info.dlpi_addr + header.p_vaddr;
      object.relro_end = object.relro_begin + header.p_memsz;
    }
  }
  if (dynamic == nullptr) return false;
  for (const ElfW(Dyn)* entry = dynamic; entry->d_tag != DT_NULL; ++entry) {
    const std::uintptr_t pointer = address_of(object.base, entry->d_un.d_ptr);
    switch (entry->d_tag) {
      case DT_SYMTAB:
        object.symbols = reinterpret_cast<const ElfW(Sym)*>(pointer);
        break;
      case DT_STRTAB:
        object.names = reinterpret_cast<const char*>(pointer);
        break;
      case DT_JMPREL:
        object.plt = reinterpret_cast<const ElfW(Rela)*>(pointer);
        break;
      case DT_PLTRELSZ:
        object.plt_size = entry->d_un.d_val / sizeof(ElfW(Rela));
        break;
      case DT_RELA:
        object.data = reinterpret_cast<const ElfW(Rela)*>(pointer);
        break;
      case DT_RELASZ:
        object.data_size = entry->d_un.d_val / sizeof(ElfW(Rela));
        break;
      case DT_PLTREL:
        if (entry->d_un.d_val != DT_RELA) return false;  // not this architecture's kind
        break;
      default:
        break;
    }
  }
  return object.symbols != nullptr && object.names != nullptr;
}

void write_slot(const Object& object, std::uintptr_t slot, void* target) noexcept {
  const bool protected_slot = slot >= object.relro_begin && slot < object.relro_end;
  const auto page_size = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  void* page = reinterpret_cast<void*>(slot & ~(page_size - 1));
  if (protected_slot && ::mprotect(page, page_size, PROT_READ | PROT_WRITE) != 0) return;
  __atomic_store_n(reinterpret_cast<void**>(slot), target, __ATOMIC_RELAXED);
  if (protected_slot) ::mprotect(page, page_size, PROT_READ);
}

void redirect_in(const Object& object, const ElfW(Rela)* relocations, std::size_t count,
                 std::span<const Redirect> redirects) noexcept {
  for (std::size_t i = 0; i < count; ++i) {
    const ElfW(Rela)& relocation = relocations[i];
    const unsigned type = relocation_type(relocation.r_info);
    if (type != kJumpSlot && type != kGlobDat) continue;
    const ElfW(Sym)& symbol = object.symbols[relocation_symbol(relocation.r_info)];
    if (symbol.st_shndx != SHN_UNDEF) continue;  // the object's own definition
    const char* name = object.names + symbol.st_name;
    for (const Redirect& redirect : redirects) {
      if (std::strcmp(name, redirect.name) == 0) {
        write_slot(object, object.base + relocation.r_offset, redirect.target);
        break;
      }
    }
  }
}

int visit(dl_phdr_info* info, std::size_t, void* context) noexcept {
  const auto& redirects = *static_cast<const std::span<const Redirect>*>(context);
  Object object;
  if (!read_object(*info, object)) return 0;
  redirect_in(object, object.plt, object.plt_size, redirects);
  redirect_in(object, object.data, object.data_size, redirects);
  return 0;
}

}  // namespace

void redirect(std::span<const Redirect> redirects) noexcept {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  ::dl_iterate_phdr(&visit, &redirects);
}

}  // namespace weft::green::monkey::got
