"""Python peer of bench_mp_queue: multiprocessing.Queue or SimpleQueue
between producer and consumer processes.

usage: mp_queue.py ITEMS PRODUCERS CONSUMERS queue|simple

Every producer process puts ITEMS / PRODUCERS integers, every consumer
process gets ITEMS / CONSUMERS of them (ITEMS must divide evenly). The
processes are started (with the fork method, as weft's side forks) before
the clock starts and wait for an Event; the time runs from setting it until
the last process is joined, which for Queue includes its feeder threads
flushing. The sum of the items is checked.
"""

import multiprocessing
import sys

from bench_common import clock, fail, positive_int, report


def produce(q, go, first, count):
    put = q.put
    go.wait()
    for value in range(first, first + count):
        put(value)


def consume(q, go, sums, index, count):
    get = q.get
    total = 0
    go.wait()
    for _ in range(count):
        total += get()
    sums[index] = total


def main():
    if len(sys.argv) != 5 or sys.argv[4] not in ("queue", "simple"):
        fail("usage: ITEMS PRODUCERS CONSUMERS queue|simple")
    items, producers, consumers = map(positive_int, sys.argv[1:4])
    if items % producers or items % consumers:
        fail("ITEMS must be a multiple of PRODUCERS and CONSUMERS")

    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue() if sys.argv[4] == "queue" else ctx.SimpleQueue()
    go = ctx.Event()
    sums = ctx.Array("q", consumers, lock=False)
    per_producer = items // producers
    per_consumer = items // consumers
    processes = [ctx.Process(target=produce, args=(q, go, p * per_producer, per_producer))
                 for p in range(producers)]
    processes += [ctx.Process(target=consume, args=(q, go, sums, c, per_consumer))
                  for c in range(consumers)]
    for p in processes:
        p.start()
    start = clock()
    go.set()
    for p in processes:
        p.join()
    seconds = clock() - start

    if any(p.exitcode != 0 for p in processes):
        fail("a worker process failed", status=1)
    if sum(sums) != items * (items - 1) // 2:
        fail("wrong sum of items", status=1)
    report(items, seconds)


if __name__ == "__main__":
    main()
