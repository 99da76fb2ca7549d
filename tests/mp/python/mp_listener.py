"""A CPython multiprocessing Listener for weft's interop tests.

    mp_listener.py FAMILY KEY MODE

FAMILY is 'unix' (an address Python picks), 'abstract' or 'tcp'; KEY the authkey or '-' for
none; MODE 'ok' (accept, exchange, print 'ok') or 'wrong-key' (expect accept() to raise
AuthenticationError and print its name). The address goes out first, on a line of its own."""

import os
import sys
from multiprocessing.connection import Listener

from interop_common import format_address, parse_key, run


def main():
    family, key, mode = sys.argv[1:4]
    authkey = parse_key(key)
    if family == "unix":
        listener = Listener(family="AF_UNIX", authkey=authkey)
    elif family == "abstract":
        listener = Listener(f"\0weft-interop-{os.getpid()}", authkey=authkey)
    else:
        listener = Listener(("127.0.0.1", 0), authkey=authkey)
    with listener:
        print(format_address(listener.address), flush=True)
        return run(listener.accept, mode, "accepted a wrong key")


if __name__ == "__main__":
    sys.exit(main())
