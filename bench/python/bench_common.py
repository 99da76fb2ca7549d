"""Shared helpers of weft's Python peer benchmarks (bench/python/*.py).

Each peer script times only its own workload -- never the interpreter's
start-up -- and ends by printing one line that the C++ side
(bench/bench_support.hpp) parses:

    result items=<how many items were timed> seconds=<wall time of them>
"""

import sys
import time

clock = time.perf_counter


def positive_int(text):
    value = int(text)
    if value <= 0:
        raise ValueError(f"expected a positive count, got {text!r}")
    return value


def fail(message, status=2):
    """Ends the script with `message` on standard error."""
    print(f"{sys.argv[0]}: {message}", file=sys.stderr)
    sys.exit(status)


def report(items, seconds):
    print(f"result items={items} seconds={seconds:.9f}", flush=True)


def time_released(threads, go):
    """Starts `threads`, which wait for the event `go`, then sets it and
    returns the wall time until the last of them ends."""
    for t in threads:
        t.start()
    start = clock()
    go.set()
    for t in threads:
        t.join()
    return clock() - start
