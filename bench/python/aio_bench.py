"""Python peer of bench_aio: asyncio's tasks.

usage: aio_bench.py ITEMS create_await|gather_sleep0|sleepers

create_await:  ITEMS times, `await asyncio.create_task(trivial(i))`, where
               trivial is a coroutine returning i, one after another inside
               one asyncio.run(); the results are summed and checked.
gather_sleep0: `await asyncio.gather(*coros)` of ITEMS coroutines that each
               do `await asyncio.sleep(0)` (gather wraps each in a task);
               the clock starts before the coroutines are made.
sleepers:      memory, not time: creates ITEMS tasks that each sleep for an
               hour, keeping no reference to them (the loop's timers keep
               them alive), lets every one of them reach its sleep, and
               prints how much the resident set grew:
                   memory items=<ITEMS> resident_growth=<bytes>
               before the usual result line, whose seconds are the time
               until every task was asleep. asyncio.run() then cancels them.
"""

import asyncio
import os
import sys

from bench_common import clock, fail, positive_int, report


async def trivial(i):
    return i


async def create_await(items):
    create_task = asyncio.create_task
    total = 0
    start = clock()
    for i in range(items):
        total += await create_task(trivial(i))
    seconds = clock() - start
    if total != items * (items - 1) // 2:
        fail("a task's result was lost", status=1)
    return seconds


async def gather_sleep0(items):
    done = 0

    async def sleeper():
        nonlocal done
        await asyncio.sleep(0)
        done += 1

    start = clock()
    await asyncio.gather(*[sleeper() for _ in range(items)])
    seconds = clock() - start
    if done != items:
        fail("tasks lost or run twice", status=1)
    return seconds


def resident_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGESIZE")


async def sleepers(items):
    asleep = 0

    async def sleeper():
        nonlocal asleep
        asleep += 1
        await asyncio.sleep(3600)

    await asyncio.sleep(0)
    before = resident_bytes()
    create_task = asyncio.create_task
    start = clock()
    for _ in range(items):
        create_task(sleeper())
    await asyncio.sleep(0)  # every task created runs to its sleep first
    seconds = clock() - start
    growth = resident_bytes() - before
    if asleep != items:
        fail(f"{asleep} of {items} tasks were asleep when measured", status=1)
    print(f"memory items={items} resident_growth={growth}", flush=True)
    return seconds


def main():
    modes = {"create_await": create_await, "gather_sleep0": gather_sleep0, "sleepers": sleepers}
    if len(sys.argv) != 3 or sys.argv[2] not in modes:
        fail("usage: ITEMS create_await|gather_sleep0|sleepers")
    items = positive_int(sys.argv[1])
    report(items, asyncio.run(modes[sys.argv[2]](items)))


if __name__ == "__main__":
    main()
