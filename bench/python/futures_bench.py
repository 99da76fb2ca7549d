"""Python peer of bench_futures: concurrent.futures.ThreadPoolExecutor.

usage: futures_bench.py ITEMS tiny|roundtrip WORKERS

tiny:      with both workers already started, submit ITEMS calls of a tiny
           function (it increments a shared counter) without keeping the
           futures, then shutdown(wait=True); the counter is checked.
roundtrip: ITEMS times, submit a function returning 1 and block on
           result() before the next submission; the sum is checked.
Either way the time reported is for ITEMS tasks, from the first submit() to
the last task done; building the pool is not counted.
"""

import itertools
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from bench_common import clock, fail, positive_int, report


def start_workers(pool, workers):
    """Runs one task on each worker at once, so that all are started."""
    barrier = threading.Barrier(workers)
    for future in [pool.submit(barrier.wait, 1.0) for _ in range(workers)]:
        try:
            future.result()
        except threading.BrokenBarrierError:
            pass


def tiny(items, workers):
    pool = ThreadPoolExecutor(workers)
    start_workers(pool, workers)
    counter = itertools.count()
    tick = counter.__next__  # atomic under the GIL

    def task():
        tick()

    submit = pool.submit
    start = clock()
    for _ in range(items):
        submit(task)
    pool.shutdown(wait=True)
    seconds = clock() - start
    if next(counter) != items:
        fail("tasks lost or run twice", status=1)
    return seconds


def one():
    return 1


def roundtrip(items, workers):
    pool = ThreadPoolExecutor(workers)
    submit = pool.submit
    total = 0
    start = clock()
    for _ in range(items):
        total += submit(one).result()
    seconds = clock() - start
    pool.shutdown(wait=True)
    if total != items:
        fail("wrong results", status=1)
    return seconds


def main():
    if len(sys.argv) != 4 or sys.argv[2] not in ("tiny", "roundtrip"):
        fail("usage: ITEMS tiny|roundtrip WORKERS")
    items = positive_int(sys.argv[1])
    workers = positive_int(sys.argv[3])
    run = tiny if sys.argv[2] == "tiny" else roundtrip
    report(items, run(items, workers))


if __name__ == "__main__":
    main()
