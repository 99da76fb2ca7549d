// The resource tracker, Python's multiprocessing.resource_tracker for
// SharedMemory: a process of the program's own executable that unlinks the
// segments the program created and did not unlink, once every process of
// the program has gone — the creator killed by SIGKILL or the OOM killer,
// ended by std::terminate or _exit.
//
// The first segment a process creates starts the tracker, joined to it by
// a socket whose other end every process forked from it inherits. Each
// creation and each unlink by the creator is a message on that socket. When
// the last process holding it has ended, the tracker unlinks what is left
// (only if the name still refers to the segment created under it), warns on
// stderr as Python does, and exits. A tracker that dies before that (killed,
// say) is started again by the next record a process sends it, with Python's
// warning on stderr ("process died unexpectedly, relaunching. Some resources
// might leak."): what the dead one knew is lost. The process that started it
// reaps the dead one through a pidfd held from its start, so never another
// child that took its pid after the program reaped it itself (or the kernel
// did, SIGCHLD being ignored). A child that never exec'd may hold the
// tracker's end of the socket open, and then no send to a dead tracker
// fails with EPIPE: so each send first checks that the tracker lives (as
// Python's ensure_running() does on every register), and one that finds
// the socket full waits for room or for the tracker's end: no record is
// sent to a tracker known dead, and no send blocks for good. It ignores
// SIGINT and SIGTERM, as
// Python's does, so that a Ctrl-C of the program still leaves it to clean up,
// keeps no descriptor of the program's but its standard error (standard
// input and output lead to /dev/null, so a reader of the program's output
// is not kept waiting for its end), and runs none of the program's static
// initialisers.
#pragma once

#include <sys/types.h>

#include <string>

namespace weft::mp::detail {

// Records that this process created the segment `name` (identified by its
// device and inode) and will unlink it. Starts the tracker on first use, and
// again if it has died. Thread-safe.
// Never throws: without a tracker (one could not be started), the segment
// is simply not tracked.
void track_segment(const std::string& name, dev_t device, ino_t inode) noexcept;

// Records that the creator unlinked `name`, the segment with that device
// and inode: the tracker forgets it (and not a newer segment of that name).
void untrack_segment(const std::string& name, dev_t device, ino_t inode) noexcept;

}  // namespace weft::mp::detail
