"""A CPython multiprocessing Client for weft's interop tests.

    mp_client.py ADDRESS KEY MODE

ADDRESS is 'unix:/path', 'unix:@abstract' or 'host:port'; KEY the authkey or '-' for none; MODE
'ok' (connect, exchange, print 'ok') or 'wrong-key' (expect Client() to raise
AuthenticationError and print its name)."""

import sys
from multiprocessing.connection import Client

from interop_common import parse_address, parse_key, run


def main():
    address, key, mode = sys.argv[1:4]
    return run(lambda: Client(parse_address(address), authkey=parse_key(key)), mode,
               "connected with a wrong key")


if __name__ == "__main__":
    sys.exit(main())
