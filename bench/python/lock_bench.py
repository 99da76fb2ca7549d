"""Python peer of bench_lock: threading.Lock and threading.RLock, and
multiprocessing.Lock and multiprocessing.RLock.

usage: lock_bench.py ITEMS lock|rlock|mp_lock|mp_rlock uncontended|contended

uncontended: one thread does ITEMS acquire() + release() pairs.
contended:   two threads each do ITEMS / 2 rounds of acquire(), increment a
             shared counter, release(); the counter is checked.
Either way the time reported is for ITEMS lock/unlock pairs. The loop's own
interpreter overhead is part of what a Python program pays, so it is
included.
"""

import multiprocessing
import sys
import threading

from bench_common import clock, fail, positive_int, report, time_released

KINDS = {
    "lock": threading.Lock,
    "rlock": threading.RLock,
    "mp_lock": multiprocessing.Lock,
    "mp_rlock": multiprocessing.RLock,
}


def uncontended(lock, items):
    acquire, release = lock.acquire, lock.release
    start = clock()
    for _ in range(items):
        acquire()
        release()
    return clock() - start


def contended(lock, items):
    if items % 2:
        fail("contended ITEMS must be even")
    counter = [0]
    go = threading.Event()

    def work(rounds):
        acquire, release = lock.acquire, lock.release
        go.wait()
        for _ in range(rounds):
            acquire()
            counter[0] += 1
            release()

    threads = [threading.Thread(target=work, args=(items // 2,)) for _ in range(2)]
    seconds = time_released(threads, go)
    if counter[0] != items:
        fail("lost increments", status=1)
    return seconds


def main():
    if len(sys.argv) != 4 or sys.argv[2] not in KINDS or \
            sys.argv[3] not in ("uncontended", "contended"):
        fail("usage: ITEMS lock|rlock|mp_lock|mp_rlock uncontended|contended")
    items = positive_int(sys.argv[1])
    lock = KINDS[sys.argv[2]]()
    run = uncontended if sys.argv[3] == "uncontended" else contended
    report(items, run(lock, items))


if __name__ == "__main__":
    main()
