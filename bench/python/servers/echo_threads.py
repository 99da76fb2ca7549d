#!/usr/bin/python3
"""The shootout's threads peer: socketserver.ThreadingTCPServer, one OS
thread per connection looping blocking ``recv`` / ``sendall``. See
peer_common.py for the command line.
"""

import signal
import socketserver
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import peer_common  # noqa: E402


class Stop(Exception):
    pass


def stop(signum, frame):
    raise Stop


def main():
    args = peer_common.parse_args("ThreadingTCPServer echo/http server")
    reply = peer_common.make_replier(args.protocol)
    peer_common.raise_fd_limit()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            peer_common.serve_blocking(self.request, reply)

    class Server(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True
        request_queue_size = peer_common.BACKLOG

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with Server((peer_common.HOST, args.port), Handler) as server:
        peer_common.announce(server.socket)
        try:
            server.serve_forever()
        except Stop:
            pass


if __name__ == "__main__":
    main()
