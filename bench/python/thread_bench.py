"""Python peer of bench_thread: threading.Thread start() + join().

usage: thread_bench.py ITEMS

Starts and joins ITEMS threads one after another, each running an empty
function, and reports the time of all of them.
"""

import sys
import threading

from bench_common import clock, fail, positive_int, report


def nothing():
    pass


def main():
    if len(sys.argv) != 2:
        fail("usage: ITEMS")
    items = positive_int(sys.argv[1])
    Thread = threading.Thread
    start = clock()
    for _ in range(items):
        t = Thread(target=nothing)
        t.start()
        t.join()
    report(items, clock() - start)


if __name__ == "__main__":
    main()
