"""Python peer of bench_mp_manager: round trips to a
multiprocessing.Manager() server from a child process.

usage: mp_manager.py ITEMS dict|list|lock|value

An item is one round trip to the server (one proxy operation), so ITEMS
must be even for the modes that pair two:
dict:  d[i % 64] = i, then d[i % 64]  (ITEMS / 2 pairs)
list:  l.append(i)                    (ITEMS appends)
lock:  lock.acquire(), lock.release() (ITEMS / 2 pairs)
value: v.value = i, then v.value      (ITEMS / 2 pairs)
The manager (fork start method) and the proxy are made, and the child has
made one call through it, before the clock starts; the child times its own
loop and sends the seconds back. What the server holds is checked.
"""

import multiprocessing
import sys

from bench_common import clock, fail, positive_int, report

KEYS = 64


def run_dict(d, items):
    for i in range(items // 2):
        d[i % KEYS] = i
        if d[i % KEYS] != i:
            raise RuntimeError("dict lost a write")


def run_list(l, items):
    append = l.append
    for i in range(items):
        append(i)


def run_lock(lock, items):
    acquire, release = lock.acquire, lock.release
    for _ in range(items // 2):
        acquire()
        release()


def run_value(v, items):
    for i in range(items // 2):
        v.value = i
        if v.value != i:
            raise RuntimeError("value lost a write")


def child(mode, proxy, items, conn):
    loop = {"dict": run_dict, "list": run_list, "lock": run_lock, "value": run_value}[mode]
    loop(proxy, 2)  # connects this process to the server
    start = clock()
    loop(proxy, items)
    conn.send(clock() - start)


def make(manager, mode):
    if mode == "dict":
        return manager.dict()
    if mode == "list":
        return manager.list()
    if mode == "lock":
        return manager.Lock()
    return manager.Value("q", 0)


def main():
    modes = ("dict", "list", "lock", "value")
    if len(sys.argv) != 3 or sys.argv[2] not in modes:
        fail("usage: ITEMS dict|list|lock|value")
    items = positive_int(sys.argv[1])
    mode = sys.argv[2]
    if mode != "list" and items % 2:
        fail("ITEMS must be even for " + mode)
    ctx = multiprocessing.get_context("fork")
    with ctx.Manager() as manager:
        proxy = make(manager, mode)
        receiver, sender = ctx.Pipe(duplex=False)
        p = ctx.Process(target=child, args=(mode, proxy, items, sender))
        p.start()
        seconds = receiver.recv()
        p.join()
        if p.exitcode != 0:
            fail("the child failed", status=1)
        if mode == "list" and len(proxy) != items + 2:
            fail("list lost appends", status=1)
    report(items, seconds)


if __name__ == "__main__":
    main()
