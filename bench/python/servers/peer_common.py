"""Shared parts of the shootout's Python peer servers (echo_*.py here).

Every peer takes ``--port P`` (0 = any free port) and ``--protocol
echo|http``, binds 127.0.0.1, prints exactly one line ``listening on
127.0.0.1:PORT`` (flushed) once it accepts connections, serves until SIGTERM
or SIGINT, and then exits 0.

    echo  every byte read is written back, in order.
    http  each request ends at an empty line ("\\r\\n\\r\\n"); the server
          answers each with HTTP_RESPONSE on the same connection.

HTTP_RESPONSE must stay byte-for-byte equal to kHttpResponse in
tools/weft/protocol.hpp: `weft load` compares every response byte.
"""

import argparse
import resource
import socket
import sys

HOST = "127.0.0.1"
BUFFER_SIZE = 64 * 1024
BACKLOG = 4096

HTTP_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n"
    b"Connection: keep-alive\r\n\r\nok"
)
_TERMINATOR = b"\r\n\r\n"


def parse_args(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, required=True, help="port to bind (0 = any free one)")
    parser.add_argument("--protocol", choices=("echo", "http"), default="echo")
    args = parser.parse_args()
    if not 0 <= args.port <= 65535:
        parser.error(f"port out of range: {args.port}")
    return args


def raise_fd_limit():
    """Lets the server hold as many connections as the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def announce(sock):
    print(f"listening on {HOST}:{sock.getsockname()[1]}", flush=True)


class RequestCounter:
    """Counts HTTP requests in a byte stream fed in pieces.

    Matches "\\r\\n\\r\\n" left to right without overlap and keeps the
    unmatched tail of a piece (at most three bytes), so a terminator split
    across reads is counted exactly once -- the same counts as
    HttpRequestCounter in tools/weft/protocol.hpp.
    """

    __slots__ = ("_tail",)

    def __init__(self):
        self._tail = b""

    def feed(self, data):
        buf = self._tail + data if self._tail else data
        count = 0
        pos = buf.find(_TERMINATOR)
        end = 0
        while pos >= 0:
            count += 1
            end = pos + 4
            pos = buf.find(_TERMINATOR, end)
        self._tail = buf[max(end, len(buf) - 3):]
        return count


def make_replier(protocol):
    """Returns reply(data, counter) -> the bytes to write back for `data`."""
    if protocol == "echo":
        return lambda data, counter: data

    def reply_http(data, counter):
        return HTTP_RESPONSE * counter.feed(data)

    return reply_http


def serve_blocking(conn, reply):
    """Reads and replies on one blocking connection until the peer closes or fails."""
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    counter = RequestCounter()
    try:
        while True:
            data = conn.recv(BUFFER_SIZE)
            if not data:
                break
            out = reply(data, counter)
            if out:
                conn.sendall(out)
    except OSError:
        pass


def fail(message):
    print(f"{sys.argv[0]}: {message}", file=sys.stderr)
    sys.exit(1)
