#!/usr/bin/python3
"""The shootout's selectors peer: the shape of the selectors server in the
seeds -- one DefaultSelector, accept/read callbacks registered as each
key's data, a loop that calls ``key.data(key.fileobj, mask)`` -- replying
with the data instead of upper-casing it.

Unlike the seed it never blocks: a reply that does not fit in the socket
buffer is kept and written when the socket turns writable (the connection
is not read meanwhile). See peer_common.py for the command line.
"""

import selectors
import signal
import socket
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import peer_common  # noqa: E402

sel = selectors.DefaultSelector()
pending = {}  # conn -> bytes still to write
counters = {}  # conn -> RequestCounter (http)
reply = None


def accept(server_fileobj, mask):
    for _ in range(64):
        try:
            conn, _addr = server_fileobj.accept()
        except BlockingIOError:
            return
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        counters[conn] = peer_common.RequestCounter()
        sel.register(conn, selectors.EVENT_READ, read)


def close(conn):
    sel.unregister(conn)
    pending.pop(conn, None)
    counters.pop(conn, None)
    conn.close()


def send(conn, data):
    try:
        sent = conn.send(data)
    except BlockingIOError:
        sent = 0
    if sent < len(data):
        pending[conn] = data[sent:]
        sel.modify(conn, selectors.EVENT_WRITE, write)


def read(conn, mask):
    try:
        data = conn.recv(peer_common.BUFFER_SIZE)
        if not data:
            close(conn)
            return
        out = reply(data, counters[conn])
        if out:
            send(conn, out)
    except BlockingIOError:
        pass
    except OSError:
        close(conn)


def write(conn, mask):
    data = pending.pop(conn)
    try:
        sent = conn.send(data)
    except BlockingIOError:
        sent = 0
    except OSError:
        close(conn)
        return
    if sent < len(data):
        pending[conn] = data[sent:]
    else:
        sel.modify(conn, selectors.EVENT_READ, read)


class Stop(Exception):
    pass


def stop(signum, frame):
    raise Stop


def main():
    global reply
    args = peer_common.parse_args("selectors echo/http server")
    reply = peer_common.make_replier(args.protocol)
    peer_common.raise_fd_limit()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    server_fileobj = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server_fileobj.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server_fileobj.bind((peer_common.HOST, args.port))
    server_fileobj.listen(peer_common.BACKLOG)
    server_fileobj.setblocking(False)
    sel.register(server_fileobj, selectors.EVENT_READ, accept)
    peer_common.announce(server_fileobj)

    try:
        while True:
            events = sel.select()
            for key, mask in events:
                callback = key.data
                callback(key.fileobj, mask)
    except Stop:
        pass
    finally:
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        sel.close()


if __name__ == "__main__":
    main()
