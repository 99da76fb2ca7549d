// Redirecting calls through the global offset tables: the way
// monkey::patch_all() takes the place of the C library's calls in the
// program and in every shared library loaded.
#pragma once

#include <span>

namespace weft::green::monkey::got {

// A call to take over: the symbol name and the function to call instead.
struct Redirect {
  const char* name;
  void* target;
};

// Points every GOT slot of the loaded objects that holds the address of one
// of the `redirects`' symbols, imported from another object, to its target
// (an object defining the symbol itself — the C library, a sanitizer's
// interceptors — keeps its own). Objects loaded later are not covered until
// the next call. Thread-safe; never blocks for long; never throws.
void redirect(std::span<const Redirect> redirects) noexcept;

}  // namespace weft::green::monkey::got
