"""Python peer of bench_green: greenlet switches and gevent spawn+join.

usage: green.py ITEMS switch|spawn_join

switch:     ITEMS switches between two greenlets -- the main one and a
            child that switches straight back (greenlet.switch both ways),
            ITEMS / 2 round trips, after one untimed round trip that starts
            the child. ITEMS must be even.
spawn_join: ITEMS times, gevent.spawn(task).join(), where task does
            gevent.sleep(0); after one untimed spawn+join that starts the
            hub. A counter checks that every task ran.
"""

import sys

import gevent
from greenlet import getcurrent, greenlet

from bench_common import clock, fail, positive_int, report


def switch(items):
    if items % 2 != 0:
        fail("switch needs an even ITEMS (two switches per round trip)")
    main = getcurrent()
    running = True

    def pong():
        back = main.switch
        while running:
            back()

    child = greenlet(pong)
    go = child.switch
    go()
    start = clock()
    for _ in range(items // 2):
        go()
    seconds = clock() - start
    running = False
    go()
    if not child.dead:
        fail("the child greenlet did not finish", status=1)
    return seconds


def spawn_join(items):
    done = 0

    def task():
        nonlocal done
        gevent.sleep(0)
        done += 1

    spawn = gevent.spawn
    spawn(task).join()
    start = clock()
    for _ in range(items):
        spawn(task).join()
    seconds = clock() - start
    if done != items + 1:
        fail("tasks lost or run twice", status=1)
    return seconds


def main():
    modes = {"switch": switch, "spawn_join": spawn_join}
    if len(sys.argv) != 3 or sys.argv[2] not in modes:
        fail("usage: ITEMS switch|spawn_join")
    items = positive_int(sys.argv[1])
    report(items, modes[sys.argv[2]](items))


if __name__ == "__main__":
    main()
