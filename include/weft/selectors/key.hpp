// weft/selectors/key.hpp — EVENT_READ, EVENT_WRITE and SelectorKey<Data>,
// Python's selectors.EVENT_READ/EVENT_WRITE and selectors.SelectorKey.
//
// A SelectorKey is what a selector remembers about one registered file: the
// file, its descriptor, the events it is watched for and the caller's data
// (a callback, a connection's state...). In Python `fileobj` is the object
// that was registered; a C++ key holds its descriptor there too, so
// `fileobj == fd` always (see weft/selectors/fileobj.hpp).
//
// `Data` is the type of the attached data; std::any (the default) plays the
// part of Python's "any object", empty for None. A key is a plain value:
// copying it copies the data.
#pragma once

namespace weft::selectors {

// The file is ready to be read from (or has hung up, or has an error).
inline constexpr int EVENT_READ = 1 << 0;
// The file is ready to be written to (or has hung up, or has an error).
inline constexpr int EVENT_WRITE = 1 << 1;

template <class Data>
struct SelectorKey {
  int fileobj;
  int fd;
  // The events the file is registered for: EVENT_READ, EVENT_WRITE or both.
  int events;
  Data data;

  // Defined when Data has ==.
  friend bool operator==(const SelectorKey&, const SelectorKey&) = default;
};

}  // namespace weft::selectors
