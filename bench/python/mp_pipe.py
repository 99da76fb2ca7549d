"""Python peer of bench_mp_connection: multiprocessing.Pipe between a parent
and a forked Process, with send_bytes/recv_bytes.

usage: mp_pipe.py ITEMS SHAPE SIZE

SHAPE 'roundtrip': the parent sends ITEMS messages of SIZE bytes, each sent
back by the child before the next. SHAPE 'oneway': the parent sends ITEMS
messages and the child acknowledges the last. Timed after a first exchange
proved the child running.
"""

import multiprocessing
import sys

from bench_common import clock, fail, positive_int, report


def child(conn, parent_end, items, roundtrip):
    parent_end.close()
    conn.send_bytes(conn.recv_bytes())
    recv, send = conn.recv_bytes, conn.send_bytes
    for _ in range(items):
        message = recv()
        if roundtrip:
            send(message)
    if not roundtrip:
        send(b"ack")


def main():
    if len(sys.argv) != 4 or sys.argv[2] not in ("roundtrip", "oneway"):
        fail("usage: ITEMS roundtrip|oneway SIZE")
    items, size = positive_int(sys.argv[1]), positive_int(sys.argv[3])
    roundtrip = sys.argv[2] == "roundtrip"
    ctx = multiprocessing.get_context("fork")
    parent, child_end = ctx.Pipe()
    process = ctx.Process(target=child, args=(child_end, parent, items, roundtrip))
    process.start()
    child_end.close()
    parent.send_bytes(b"ready?")
    parent.recv_bytes()
    message = b"m" * size
    recv, send = parent.recv_bytes, parent.send_bytes
    start = clock()
    for _ in range(items):
        send(message)
        if roundtrip and len(recv()) != size:
            fail("wrong reply")
    if not roundtrip:
        recv()
    seconds = clock() - start
    process.join()
    if process.exitcode != 0:
        fail(f"the child exited with {process.exitcode}")
    report(items, seconds)


if __name__ == "__main__":
    main()
