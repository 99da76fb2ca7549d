// weft/selectors/fileobj.hpp — weft::selectors::FileRef, what a selector
// call accepts where Python's selectors take a "file object".
//
// Python accepts an integer file descriptor or any object with a fileno()
// method. So does FileRef: it converts implicitly from an int, or from any
// object with an `int fileno() const` member (a socket class, say), whose
// fileno() it calls once, at the call. A selector keeps only the descriptor,
// never the object: C++ cannot hold an arbitrary object generically.
//
// The descriptor is checked by the selector, not here: a negative one (an
// object whose fileno() is negative, typically because it was closed) makes
// register_, unregister, modify and get_key throw ValueError. Python finds a
// closed object's registration by the object's identity; a C++ selector
// cannot, so unregister a file before closing it, or by its number.
#pragma once

#include <concepts>

namespace weft::selectors {

// An object that owns a file descriptor and tells it through fileno().
template <class T>
concept HasFileno = requires(const T& obj) {
  { obj.fileno() } -> std::convertible_to<int>;
};

class FileRef {
 public:
  // Never throws.
  FileRef(int fd) noexcept : fd_(fd) {}  // NOLINT(google-explicit-constructor)

  // Calls obj.fileno(); throws what it throws.
  template <HasFileno T>
  FileRef(const T& obj) : fd_(static_cast<int>(obj.fileno())) {}  // NOLINT(google-explicit-constructor)

  int fd() const noexcept { return fd_; }

 private:
  int fd_;
};

}  // namespace weft::selectors
