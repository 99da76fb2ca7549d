"""Python peer of bench_mp_process: multiprocessing.Process start + join.

usage: mp_process.py ITEMS METHOD

Starts and joins ITEMS processes one after the other, each running an empty
function, with the start method METHOD (fork, spawn or forkserver). One
process is started and joined before the clock starts, so that the
forkserver's own start-up is not timed. Every exit code is checked.
"""

import multiprocessing
import sys

from bench_common import clock, fail, positive_int, report


def noop():
    pass


def start_and_join(context):
    process = context.Process(target=noop)
    process.start()
    process.join()
    if process.exitcode != 0:
        fail(f"child exited with {process.exitcode}", status=1)


def main():
    if len(sys.argv) != 3:
        fail("usage: ITEMS METHOD")
    items = positive_int(sys.argv[1])
    context = multiprocessing.get_context(sys.argv[2])
    start_and_join(context)
    start = clock()
    for _ in range(items):
        start_and_join(context)
    report(items, clock() - start)


if __name__ == "__main__":
    main()
