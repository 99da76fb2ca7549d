"""Python peer of bench_mp_pool: multiprocessing.Pool and
concurrent.futures.ProcessPoolExecutor with 2 fork-started workers.

usage: mp_pool.py ITEMS apply_async|submit|map [CHUNKSIZE]

apply_async: Pool(2).apply_async(inc, (i,)) for i in range(ITEMS), then
             get() on every AsyncResult.
submit:      ProcessPoolExecutor(2).submit(inc, i) for i in range(ITEMS),
             then result() on every Future.
map:         Pool(2).map(inc, range(ITEMS), CHUNKSIZE), after one untimed
             map of the same size (a pool in its steady state).
The pool is built and its workers have run a task each before the clock
starts; the time runs from the first submission to the last result. The
sum of the results is checked.
"""

import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor

from bench_common import clock, fail, positive_int, report

WORKERS = 2


def inc(x):
    return x + 1


def expected_sum(items):
    return items * (items + 1) // 2


def apply_async(ctx, items):
    with ctx.Pool(WORKERS) as pool:
        pool.map(inc, range(WORKERS), 1)
        submit = pool.apply_async
        start = clock()
        results = [submit(inc, (i,)) for i in range(items)]
        total = sum(r.get() for r in results)
        seconds = clock() - start
    return seconds, total


def submit(ctx, items):
    with ProcessPoolExecutor(WORKERS, mp_context=ctx) as pool:
        list(pool.map(inc, range(WORKERS)))
        send = pool.submit
        start = clock()
        futures = [send(inc, i) for i in range(items)]
        total = sum(f.result() for f in futures)
        seconds = clock() - start
    return seconds, total


def pool_map(ctx, items, chunksize):
    with ctx.Pool(WORKERS) as pool:
        pool.map(inc, range(WORKERS), 1)
        pool.map(inc, range(items), chunksize)  # steady state: one untimed map first
        start = clock()
        total = sum(pool.map(inc, range(items), chunksize))
        seconds = clock() - start
    return seconds, total


def main():
    modes = ("apply_async", "submit", "map")
    if len(sys.argv) not in (3, 4) or sys.argv[2] not in modes:
        fail("usage: ITEMS apply_async|submit|map [CHUNKSIZE]")
    items = positive_int(sys.argv[1])
    mode = sys.argv[2]
    ctx = multiprocessing.get_context("fork")
    if mode == "map":
        if len(sys.argv) != 4:
            fail("map needs a CHUNKSIZE")
        seconds, total = pool_map(ctx, items, positive_int(sys.argv[3]))
    elif mode == "apply_async":
        seconds, total = apply_async(ctx, items)
    else:
        seconds, total = submit(ctx, items)
    if total != expected_sum(items):
        fail("wrong sum of results", status=1)
    report(items, seconds)


if __name__ == "__main__":
    main()
