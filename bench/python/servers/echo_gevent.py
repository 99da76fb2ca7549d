#!/usr/bin/python3
"""The shootout's gevent peer: gevent's StreamServer, a greenlet per
connection looping ``recv`` / ``sendall`` on gevent's cooperative socket.
Run it with Debian's /usr/bin/python3 (python3-gevent). See peer_common.py
for the command line.
"""

import signal
import sys

import gevent
from gevent.server import StreamServer

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import peer_common  # noqa: E402


def main():
    args = peer_common.parse_args("gevent StreamServer echo/http server")
    reply = peer_common.make_replier(args.protocol)
    peer_common.raise_fd_limit()

    def handle(conn, address):
        peer_common.serve_blocking(conn, reply)

    server = StreamServer((peer_common.HOST, args.port), handle, backlog=peer_common.BACKLOG)
    server.start()
    peer_common.announce(server.socket)
    gevent.signal_handler(signal.SIGTERM, server.stop)
    gevent.signal_handler(signal.SIGINT, server.stop)
    server.serve_forever()


if __name__ == "__main__":
    main()
