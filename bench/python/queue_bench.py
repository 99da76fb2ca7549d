"""Python peer of bench_queue: queue.Queue(maxsize) with producer and
consumer threads.

usage: queue_bench.py ITEMS PRODUCERS CONSUMERS MAXSIZE

Every producer puts ITEMS / PRODUCERS integers, every consumer gets
ITEMS / CONSUMERS of them (ITEMS must divide evenly). Timed from the moment
all threads are released until the last one is joined; the sum of the
items is checked.
"""

import queue
import sys
import threading

from bench_common import fail, positive_int, report, time_released


def main():
    if len(sys.argv) != 5:
        fail("usage: ITEMS PRODUCERS CONSUMERS MAXSIZE")
    items, producers, consumers, maxsize = map(positive_int, sys.argv[1:])
    if items % producers or items % consumers:
        fail("ITEMS must be a multiple of PRODUCERS and CONSUMERS")

    q = queue.Queue(maxsize)
    go = threading.Event()
    sums = [0] * consumers

    def produce(first, count):
        put = q.put
        go.wait()
        for value in range(first, first + count):
            put(value)

    def consume(index, count):
        get = q.get
        total = 0
        go.wait()
        for _ in range(count):
            total += get()
        sums[index] = total

    per_producer = items // producers
    per_consumer = items // consumers
    threads = [threading.Thread(target=produce, args=(p * per_producer, per_producer))
               for p in range(producers)]
    threads += [threading.Thread(target=consume, args=(c, per_consumer))
                for c in range(consumers)]
    seconds = time_released(threads, go)

    if sum(sums) != items * (items - 1) // 2:
        fail("wrong sum of items", status=1)
    report(items, seconds)


if __name__ == "__main__":
    main()
