"""A CPython multiprocessing Client for weft's interop tests.

    mp_client.py ADDRESS KEY MODE

ADDRESS is 'unix:/path', 'unix:@abstract' or 'host:port'; KEY the authkey or '-' for none; MODE
'ok' (connect, exchange, print 'ok') or 'wrong-key' (expect Client() to raise
AuthenticationError and print its name)."""

import sys
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client

from interop_common import exchange, parse_address, parse_key


def main():
    address, key, mode = sys.argv[1:4]
    try:
        conn = Client(parse_address(address), authkey=parse_key(key))
    except AuthenticationError:
        print("AuthenticationError", flush=True)
        return 0 if mode == "wrong-key" else 1
    if mode == "wrong-key":
        print("connected with a wrong key", flush=True)
        return 1
    with conn:
        exchange(conn)
    print("ok", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
