"""A lean closed-loop HTTP/1.1 load client for the benchmarks.

The benchmarks run the client on the same two cores as the service and PostgreSQL, so every
microsecond the client spends is taken from what it measures. aiohttp spends about 0.3 ms of
CPU per request (building a request object, header multidicts, a response object, cookie
handling); this client writes prepared request bytes on a keep-alive connection and reads
the answer by its Content-Length, on uvloop, for a small fraction of that. It understands
only what our services answer: HTTP/1.1, keep-alive, a Content-Length on every response.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import uvloop


class ProtocolError(Exception):
    pass


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future | None = None
        self.lost: BaseException | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.lost = exc or ProtocolError("the server closed the connection")
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(self.lost)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is None or self.waiter.done():
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            self.waiter.set_exception(ProtocolError(f"no Content-Length in {head[:200]!r}"))
            return
        line_end = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : line_end if line_end >= 0 else len(head)])
        total = end + 4 + length
        if len(self.buffer) < total:
            return
        status = int(head[9:12])
        body = bytes(self.buffer[end + 4 : total])
        del self.buffer[:total]
        self.waiter.set_result((status, body))

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self.lost is not None:
            raise self.lost
        self.waiter = asyncio.get_running_loop().create_future()
        assert self.transport is not None
        self.transport.write(raw)
        return await self.waiter


def prepare(base_url: str, path: str, headers: dict[str, str]) -> bytes:
    """The bytes of a GET of `path` with `headers`, sent as they are on every repetition."""
    host = urlsplit(base_url).netloc
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _closed_loop(
    base_url: str,
    requests: Sequence[bytes],
    *,
    clients: int,
    seconds: float,
    on_answer: Callable[[int, float, int, bytes], None],
) -> float:
    parts = urlsplit(base_url)
    loop = asyncio.get_running_loop()
    connections = []
    for _ in range(clients):
        _, protocol = await loop.create_connection(_Connection, parts.hostname, parts.port)
        connections.append(protocol)
    counter = iter(range(10**12))
    deadline = time.perf_counter() + seconds

    async def client(connection: _Connection) -> None:
        while time.perf_counter() < deadline:
            index = next(counter) % len(requests)
            began = time.perf_counter()
            status, body = await connection.request(requests[index])
            on_answer(index, (time.perf_counter() - began) * 1000, status, body)

    started = time.perf_counter()
    try:
        await asyncio.gather(*(client(c) for c in connections))
    finally:
        for connection in connections:
            if connection.transport is not None:
                connection.transport.close()
    return time.perf_counter() - started


def run_closed_loop(
    base_url: str,
    requests: Sequence[bytes],
    *,
    clients: int,
    seconds: float,
    on_answer: Callable[[int, float, int, bytes], None],
) -> float:
    """`clients` connections, each sending the next of `requests` (round robin over all
    clients) as soon as its last answer is in, for `seconds`; `on_answer(index, latency_ms,
    status, body)` per answer. Returns the seconds it ran."""
    return uvloop.run(
        _closed_loop(base_url, requests, clients=clients, seconds=seconds, on_answer=on_answer)
    )
