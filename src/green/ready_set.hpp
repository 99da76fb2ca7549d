// detail::ReadySet — the engine of green::wait, green::iwait and
// green::joinall: links to several objects at once and hands out their
// indices in the order they became ready.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "task_joiner.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/green/detail/wait_list.hpp"
#include "weft/green/wait_objects.hpp"

namespace weft::green::detail {

class ReadySet {
 public:
  // Links to every object; those already ready count as ready at once, in
  // the given order. `what` (a string literal) names the wait in LoopExit
  // and dump(). Throws green::error for an empty Greenlet handle;
  // std::bad_alloc. Never blocks.
  ReadySet(std::vector<Waitable> objects, const char* what);
  ReadySet(const ReadySet&) = delete;
  ReadySet& operator=(const ReadySet&) = delete;
  // Unlinks from every object not ready yet. A greenlet parked in next()
  // is woken, and its next() throws green::error without touching this
  // set again.
  ~ReadySet();

  // The index of the next object to have become ready, parking the calling
  // greenlet until one does; std::nullopt once every one was handed out,
  // or when `deadline` passes first, or once finished. Throws what is
  // thrown into the parked greenlet (and LoopExit), finishing the set.
  std::optional<std::size_t> next(const Deadline& deadline);

  // Unlinks from every object: next() returns std::nullopt from now on.
  void finish() noexcept;

  const Waitable& object(std::size_t index) const noexcept { return objects_[index]; }
  std::size_t size() const noexcept { return objects_.size(); }

 private:
  struct Slot {
    ReadySet* owner = nullptr;
    std::size_t index = 0;
    Link link;                 // for an Event or AsyncResult
    TaskBase::Joiner joiner;   // for a Greenlet
  };

  // The frame of the greenlet parked in next(), on its stack.
  struct Parked;

  static void notified(void* slot) noexcept;
  // An AsyncResult that another thread may still set is among those not
  // ready yet.
  bool expects_other_thread() const noexcept;

  std::vector<Waitable> objects_;
  std::unique_ptr<Slot[]> slots_;
  std::vector<std::size_t> ready_;  // capacity objects_.size(): never reallocates
  std::size_t handed_out_ = 0;
  const char* what_;
  Parked* parked_ = nullptr;
  bool finished_ = false;
};

}  // namespace weft::green::detail
