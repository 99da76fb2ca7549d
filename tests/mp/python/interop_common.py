"""What the interop scripts share with tests/mp/test_connection_python.cpp: how an address is
written on a command line, the exchange of messages both ways over an established
connection, and how a script reports the outcome of its handshake."""

from multiprocessing import AuthenticationError

MESSAGES = [b"", b"hello", bytes(range(256)), b"x" * 300000]


def parse_address(text):
    """'unix:/path', 'unix:@abstract' or 'host:port', as weft's Address prints them."""
    if text.startswith("unix:@"):
        return "\0" + text[len("unix:@"):]
    if text.startswith("unix:"):
        return text[len("unix:"):]
    host, port = text.rsplit(":", 1)
    return (host, int(port))


def format_address(address):
    if isinstance(address, tuple):
        return f"{address[0]}:{address[1]}"
    if isinstance(address, bytes):  # an abstract name, as Python reports it
        address = address.decode()
    if address.startswith("\0"):
        return "unix:@" + address[1:]
    return "unix:" + address


def parse_key(text):
    return None if text == "-" else text.encode()


def exchange(conn):
    """weft sends each message and expects b'py:' + it back; then Python sends each and expects
    b'weft:' + it back."""
    for expected in MESSAGES:
        message = conn.recv_bytes()
        if message != expected:
            raise SystemExit(f"received {message[:40]!r}, expected {expected[:40]!r}")
        conn.send_bytes(b"py:" + message)
    for message in MESSAGES:
        conn.send_bytes(message)
        reply = conn.recv_bytes()
        if reply != b"weft:" + message:
            raise SystemExit(f"reply {reply[:40]!r} to {message[:40]!r}")


def run(connect, mode, wrong_key_accepted):
    """Makes the connection with connect() and reports, as the C++ test expects: in MODE 'ok',
    exchanges the messages and prints 'ok'; in MODE 'wrong-key', prints 'AuthenticationError'
    when the handshake refused the key, else wrong_key_accepted. Returns the exit status."""
    try:
        conn = connect()
    except AuthenticationError:
        print("AuthenticationError", flush=True)
        return 0 if mode == "wrong-key" else 1
    if mode == "wrong-key":
        print(wrong_key_accepted, flush=True)
        return 1
    with conn:
        exchange(conn)
    print("ok", flush=True)
    return 0
