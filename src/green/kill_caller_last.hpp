// kill_caller_last: what killall() and Group::kill() share. Killing the
// calling greenlet raises in it at once, so it is killed after every other
// one has been told.
#pragma once

#include <exception>
#include <span>

#include "weft/green/greenlet_task.hpp"

namespace weft::green::detail {

// Kills, without waiting, each non-empty greenlet of `greenlets` that
// `claim(g)` accepts, the calling greenlet (if accepted) last.
template <class Claim>
void kill_caller_last(std::span<const AnyGreenlet> greenlets, const std::exception_ptr& exception,
                      Claim&& claim) {
  const AnyGreenlet self = getcurrent_task();
  bool self_claimed = false;
  for (const AnyGreenlet& g : greenlets) {
    if (g.empty() || !claim(g)) continue;
    if (g == self) {
      self_claimed = true;
    } else {
      AnyGreenlet(g).kill(exception, false);
    }
  }
  if (self_claimed) AnyGreenlet(self).kill(exception, false);
}

}  // namespace weft::green::detail
