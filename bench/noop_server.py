"""A server that does nothing: it answers every request with the same 200, without parsing it.

``bench_endpoint.py`` measures it beside the real servers as a calibration (the ``no-op`` peer): its
figures are what the benchmark client and loopback allow at all, so a ratio no real server can reach
shows up as such. Uses uvloop when it is installed, like our server.

    python bench/noop_server.py PORT
"""

from __future__ import annotations

import asyncio
import sys
from typing import cast

BODY = b'{"head":{"vars":["p","o"]},"results":{"bindings":[]}}\n'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/sparql-results+json\r\n"
    + b"content-length: %d\r\n\r\n" % len(BODY)
    + BODY
)


class NoOp(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.pending = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        # the benchmark sends GETs without a body: one answer per end of headers
        self.pending += data
        ends = self.pending.count(b"\r\n\r\n")
        if ends and self.transport is not None:
            self.pending = self.pending[self.pending.rindex(b"\r\n\r\n") + 4 :]
            self.transport.write(RESPONSE * ends)


async def serve(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(NoOp, "127.0.0.1", port)
    await server.serve_forever()


def main() -> None:
    port = int(sys.argv[1])
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(port))
    else:
        uvloop.run(serve(port))


if __name__ == "__main__":
    main()
