#!/usr/bin/python3
"""The shootout's asyncio peer: asyncio streams as the documentation shows
them -- ``asyncio.start_server`` and, per connection, a coroutine looping
``reader.read`` / ``writer.write`` / ``await writer.drain()``. See
peer_common.py for the command line.
"""

import asyncio
import signal
import socket
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import peer_common  # noqa: E402


async def main():
    args = peer_common.parse_args("asyncio streams echo/http server")
    reply = peer_common.make_replier(args.protocol)
    peer_common.raise_fd_limit()

    async def handle(reader, writer):
        counter = peer_common.RequestCounter()
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                data = await reader.read(peer_common.BUFFER_SIZE)
                if not data:
                    break
                out = reply(data, counter)
                if out:
                    writer.write(out)
                    await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)

    server = await asyncio.start_server(handle, peer_common.HOST, args.port,
                                        backlog=peer_common.BACKLOG)
    peer_common.announce(server.sockets[0])
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
