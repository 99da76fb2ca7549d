// weft/selectors/base_selector.hpp — BaseSelector<Data>, Python's
// selectors.BaseSelector: the interface every selector implements.
//
// A selector watches registered files for readiness: register_ a file for
// EVENT_READ and/or EVENT_WRITE with some data, then select() blocks until
// some of them are ready and returns (key, events) pairs, where `events` is
// the part of the key's events that is ready. The usual loop, with a
// callback as each key's data:
//
//   for (auto& [key, events] : selector.select()) key.data(key.fd, events);
//
// select() returns copies of the keys: they stay valid after their file is
// unregistered, even by an earlier callback of the same loop. A loop whose
// callbacks may unregister other files should skip the keys that are no
// longer registered (try_get_key(key.fd) == nullptr).
//
// Python's semantics throughout: register_ of a file already registered and
// unregister/modify/get_key of one that is not throw KeyError; invalid
// events or a negative descriptor throw ValueError. Unlike Python, modify
// checks `events` before changing anything. select()'s timeout: none blocks
// until a file is ready; zero or negative polls; a positive one waits at
// least that long (rounded up to the kernel's granularity) unless a file is
// ready sooner. A signal that interrupts the wait restarts it with the time
// left (PEP 475).
//
// close() forgets every registration and releases the kernel resources;
// the destructor calls it. A closed selector keeps Python's behaviour where
// Python has a clear one: get_key throws RuntimeError, unregister and modify
// throw KeyError, get_map() is empty; and it throws RuntimeError from
// register_ and select, where Python's three selectors disagree.
//
// Thread-safety: none, as in Python. One thread at a time uses a selector.
// To wake a thread blocked in select() from another, register the read end
// of a pipe (or an eventfd) and write to it. Not copyable or movable:
// register_ and get_key hand out references into the selector.
//
// Implementations override the private do_ functions; a subclass's
// destructor must call close().
#pragma once

#include <any>
#include <chrono>
#include <optional>
#include <utility>
#include <vector>

#include "weft/detail/deadline.hpp"
#include "weft/selectors/detail/checks.hpp"
#include "weft/selectors/detail/timeout.hpp"
#include "weft/selectors/fileobj.hpp"
#include "weft/selectors/key.hpp"
#include "weft/selectors/selector_map.hpp"

namespace weft::selectors {

template <class Data = std::any>
class BaseSelector {
 public:
  using Key = SelectorKey<Data>;
  using Map = SelectorMap<Data>;
  // What select() returns: each ready file's key and its ready events.
  using ReadyList = std::vector<std::pair<Key, int>>;

  BaseSelector(const BaseSelector&) = delete;
  BaseSelector& operator=(const BaseSelector&) = delete;
  virtual ~BaseSelector() = default;

  // Watches `fileobj` for `events` (EVENT_READ, EVENT_WRITE or both) and
  // attaches `data`; returns the new key, valid until the file is
  // unregistered or the selector closed. Never blocks. Throws ValueError
  // for invalid events or a negative (or, for SelectSelector, too large)
  // descriptor, KeyError if the file is already registered, RuntimeError
  // if the selector is closed, std::system_error if the kernel refuses it
  // (epoll: a regular file or a descriptor not open; poll: a descriptor not
  // open at or above the hard RLIMIT_NOFILE, which no file could ever have).
  const Key& register_(FileRef fileobj, int events, Data data = Data{}) {
    if (closed_) detail::throw_closed();
    return do_register(fileobj.fd(), events, std::move(data));
  }

  // Stops watching `fileobj` and returns its key. Works on a descriptor
  // closed since it was registered. Never blocks. Throws KeyError if the
  // file is not registered, ValueError for a negative descriptor.
  Key unregister(FileRef fileobj) { return do_unregister(fileobj.fd()); }

  // Changes the events `fileobj` is watched for and replaces its data (an
  // omitted `data` is Data{}, Python's None); returns the updated key (the
  // same object as before). Never blocks. Throws KeyError if the file is not
  // registered, ValueError for invalid events or a negative descriptor. If
  // the kernel refuses the change (std::system_error) the file is
  // unregistered, as in Python.
  const Key& modify(FileRef fileobj, int events, Data data = Data{}) {
    return do_modify(fileobj.fd(), events, std::move(data));
  }

  // Waits until some registered files are ready; returns each one's key
  // (a copy) and ready events. Blocks until a file is ready. Throws
  // RuntimeError if the selector is closed, std::system_error if the
  // kernel's wait fails.
  ReadyList select() {
    ReadyList ready;
    select_into(ready);
    return ready;
  }
  ReadyList select(std::nullopt_t) { return select(); }
  // Blocks at most `timeout` (<= 0: not at all); an empty list means the
  // timeout passed. Also throws ValueError for a NaN timeout.
  template <class Rep, class Period>
  ReadyList select(std::chrono::duration<Rep, Period> timeout) {
    ReadyList ready;
    select_into(ready, timeout);
    return ready;
  }
  // Python's select(timeout) with timeout=None spelled std::nullopt.
  template <class Rep, class Period>
  ReadyList select(const std::optional<std::chrono::duration<Rep, Period>>& timeout) {
    return timeout ? select(*timeout) : select();
  }

  // select() into a list the caller keeps, so that a loop reuses its
  // storage: `ready` is cleared, then filled. Same blocking and errors.
  void select_into(ReadyList& ready) { wait_into(ready, std::nullopt); }
  void select_into(ReadyList& ready, std::nullopt_t) { select_into(ready); }
  template <class Rep, class Period>
  void select_into(ReadyList& ready, std::chrono::duration<Rep, Period> timeout) {
    wait_into(ready, detail::select_deadline(timeout));
  }
  template <class Rep, class Period>
  void select_into(ReadyList& ready, const std::optional<std::chrono::duration<Rep, Period>>& timeout) {
    if (timeout)
      select_into(ready, *timeout);
    else
      select_into(ready);
  }

  // Unregisters every file and releases the selector's kernel resources.
  // Never blocks or throws; idempotent.
  void close() noexcept {
    if (closed_) return;
    closed_ = true;
    do_close();
  }

  // The key of `fileobj`. Never blocks. Throws RuntimeError if the selector
  // is closed, ValueError for a negative descriptor, KeyError if the file is
  // not registered.
  const Key& get_key(FileRef fileobj) const {
    if (const Key* key = try_get_key(fileobj)) return *key;
    detail::throw_not_registered(fileobj.fd());
  }

  // The key of `fileobj`, or nullptr if it is not registered (a negative
  // descriptor included). Never blocks. Throws RuntimeError if the selector
  // is closed.
  const Key* try_get_key(FileRef fileobj) const {
    if (closed_) detail::throw_closed();
    return get_map().get(fileobj);
  }

  // The live, read-only mapping of files to keys (weft/selectors/
  // selector_map.hpp). Empty once the selector is closed. Never throws.
  const Map& get_map() const noexcept { return do_get_map(); }

 protected:
  BaseSelector() = default;

 private:
  // register_ and select check that the selector is open before calling
  // these; unregister and modify find nothing registered once it is closed.
  virtual const Key& do_register(int fd, int events, Data data) = 0;
  virtual Key do_unregister(int fd) = 0;
  virtual const Key& do_modify(int fd, int events, Data data) = 0;
  virtual void do_select(ReadyList& ready, const weft::detail::Deadline& deadline) = 0;
  virtual void do_close() noexcept = 0;
  virtual const Map& do_get_map() const noexcept = 0;

  void wait_into(ReadyList& ready, const weft::detail::Deadline& deadline) {
    if (closed_) detail::throw_closed();
    do_select(ready, deadline);
  }

  bool closed_ = false;
};

}  // namespace weft::selectors
