"""The gateway's HTTP/1.1 client (gateway/http1.py) against a real TCP peer that answers
byte for byte what each test scripts: keep-alive reuse, a connection the service closed while
idle, answers without a body, chunked and streamed bodies, broken answers and timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from gateway import http1

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Peer:
    """A TCP server on 127.0.0.1 running `handler` per connection; counts connections."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> Peer:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            try:
                await self.handler(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        self.server = await asyncio.start_server(serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]

    def pool(self, **kw) -> http1.Pool:
        return http1.Pool("127.0.0.1", self.port, host_header=f"127.0.0.1:{self.port}", **kw)

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = await reader.readexactly(length) if length else b""
        self.requests.append(head + body)
        return head + body


def ok(body: bytes = b"hello", extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n%b\r\n%b" % (len(body), extra, body)


async def test_a_kept_alive_connection_serves_the_next_request():
    async def handler(reader, writer):
        while True:
            await peer.read_request(reader)
            writer.write(ok(b"hello", b"x-one: 1\r\nx-one: 2\r\n"))

    async with Peer(handler) as peer:
        pool = peer.pool()
        for _ in range(3):
            response = await pool.request(
                "GET", b"/things/1?q=a", [(b"accept", b"*/*")], None, seconds=5
            )
            assert response.status == 200
            assert response.headers[-2:] == [(b"x-one", b"1"), (b"x-one", b"2")]
            assert await response.read() == b"hello"
            response.release()
        assert peer.connections == 1
        request = peer.requests[0]
        assert request.startswith(b"GET /things/1?q=a HTTP/1.1\r\nhost: 127.0.0.1:")
        assert b"\r\naccept: */*\r\n" in request
        assert b"content-length" not in request  # no body, no framing
        await pool.aclose()


async def test_an_answer_not_read_to_its_end_never_serves_another_request():
    async def handler(reader, writer):
        while True:
            await peer.read_request(reader)
            writer.write(ok(b"x" * 100_000))

    async with Peer(handler) as peer:
        pool = peer.pool()
        first = await pool.request("GET", b"/", [], None, seconds=5)
        first.release()  # body left unread: the connection is closed, not reused
        second = await pool.request("GET", b"/", [], None, seconds=5)
        assert len(await second.read()) == 100_000
        second.release()
        assert peer.connections == 2
        await pool.aclose()


async def test_a_connection_the_service_closed_while_idle_is_not_reused():
    async def handler(reader, writer):
        await peer.read_request(reader)
        writer.write(ok())
        await writer.drain()
        # then close, as uvicorn does with an idle keep-alive connection

    async with Peer(handler) as peer:
        pool = peer.pool()
        response = await pool.request("GET", b"/", [], None, seconds=5)
        await response.read()
        response.release()
        await asyncio.sleep(0.1)  # the close arrives while the connection is idle
        again = await pool.request("GET", b"/", [], None, seconds=5)
        assert await again.read() == b"hello"
        again.release()
        assert peer.connections == 2
        await pool.aclose()


async def test_a_reused_connection_closed_before_any_answer_is_stale():
    """The race with the service's idle timeout: the request went into a closing connection.
    The proxy retries such a request (idempotent methods) on a new connection."""
    served = 0

    async def handler(reader, writer):
        nonlocal served
        await peer.read_request(reader)
        served += 1
        if served == 1:
            writer.write(ok())
            await writer.drain()
            await peer.read_request(reader)  # the second request: read, never answered
            writer.transport.abort()

    async with Peer(handler) as peer:
        pool = peer.pool()
        response = await pool.request("GET", b"/", [], None, seconds=5)
        await response.read()
        response.release()
        with pytest.raises(http1.Stale):
            await pool.request("GET", b"/", [], None, seconds=5)
        await pool.aclose()


async def test_a_first_connection_closed_before_the_answer_is_broken_not_stale():
    async def handler(reader, writer):
        await peer.read_request(reader)
        writer.transport.abort()

    async with Peer(handler) as peer:
        pool = peer.pool()
        with pytest.raises(http1.BrokenResponse):
            await pool.request("POST", b"/", [], b"{}", seconds=5)
        await pool.aclose()


async def test_head_204_and_304_answers_have_no_body():
    async def handler(reader, writer):
        while True:
            request = await peer.read_request(reader)
            if request.startswith(b"HEAD"):
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n")
            elif b"/empty" in request:
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            else:
                writer.write(b'HTTP/1.1 304 Not Modified\r\netag: "1"\r\n\r\n')

    async with Peer(handler) as peer:
        pool = peer.pool()
        for method, target, status in (
            ("HEAD", b"/", 200),
            ("DELETE", b"/empty", 204),
            ("GET", b"/cached", 304),
        ):
            response = await asyncio.wait_for(pool.request(method, target, [], None, seconds=5), 5)
            assert response.status == status
            assert await asyncio.wait_for(response.read(), 5) == b""
            response.release()
        await pool.aclose()


async def test_an_interim_answer_is_skipped_for_the_final_one():
    async def handler(reader, writer):
        await peer.read_request(reader)
        writer.write(b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n" + ok(b"final"))

    async with Peer(handler) as peer:
        pool = peer.pool()
        response = await pool.request("GET", b"/", [], None, seconds=5)
        assert response.status == 200
        assert response.header(b"link") is None
        assert await response.read() == b"final"
        response.release()
        await pool.aclose()


async def test_a_chunked_answer_streams_and_the_connection_is_reused():
    async def handler(reader, writer):
        while True:
            await peer.read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            for part in (b"abc", b"defg", b"h"):
                writer.write(b"%x\r\n%b\r\n" % (len(part), part))
                await writer.drain()
                await asyncio.sleep(0.01)
            writer.write(b"0\r\n\r\n")

    async with Peer(handler) as peer:
        pool = peer.pool()
        for _ in range(2):
            response = await pool.request("GET", b"/", [], None, seconds=5)
            assert await response.read() == b"abcdefgh"
            response.release()
        assert peer.connections == 1
        await pool.aclose()


async def test_a_large_answer_is_read_with_flow_control_in_bounded_memory():
    size = 20 * 1024 * 1024

    async def handler(reader, writer):
        await peer.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % size)
        block = b"z" * 65536
        for _ in range(size // len(block)):
            writer.write(block)
            await writer.drain()

    async with Peer(handler) as peer:
        pool = peer.pool()
        response = await pool.request("GET", b"/", [], None, seconds=5)
        received = 0
        most_buffered = 0
        async for chunk in response.chunks():
            received += len(chunk)
            most_buffered = max(most_buffered, response._connection._buffered)
            await asyncio.sleep(0)  # a slow reader
        response.release()
        assert received == size
        # Reading stops at the high-water mark (plus what one read brings in).
        assert most_buffered < http1.HIGH_WATER + 1024 * 1024
        await pool.aclose()


async def test_a_streamed_upload_is_sent_chunked_or_with_its_declared_length():
    async def handler(reader, writer):
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if b"transfer-encoding: chunked" in head:
                body = b""
                while True:
                    size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                    data = await reader.readexactly(size + 2)
                    if size == 0:
                        break
                    body += data[:-2]
            else:
                length = int(head.split(b"content-length: ")[1].split(b"\r\n")[0])
                body = await reader.readexactly(length)
            peer.requests.append(head + body)
            writer.write(ok(str(len(body)).encode()))

    async def parts() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"p" * 10_000

    async with Peer(handler) as peer:
        pool = peer.pool()
        chunked = await pool.request("POST", b"/up", [], parts(), seconds=5)
        assert await chunked.read() == b"100000"
        chunked.release()
        declared = await pool.request(
            "POST", b"/up", [], parts(), seconds=5, content_length=100_000
        )
        assert await declared.read() == b"100000"
        declared.release()
        assert b"transfer-encoding: chunked" in peer.requests[0]
        assert b"content-length: 100000" in peer.requests[1]
        await pool.aclose()


@pytest.mark.parametrize(
    "answer",
    [b"NOT HTTP AT ALL\r\n\r\n", b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort"],
    ids=["not-http", "cut-short"],
)
async def test_a_broken_answer_is_an_error_never_a_truncated_success(answer):
    async def handler(reader, writer):
        await peer.read_request(reader)
        writer.write(answer)
        await writer.drain()
        writer.close()

    async with Peer(handler) as peer:
        pool = peer.pool()
        with pytest.raises(http1.BrokenResponse):
            response = await pool.request("GET", b"/", [], None, seconds=5)
            await response.read()
        await pool.aclose()


async def test_a_service_that_does_not_answer_times_out_for_the_head_and_the_body():
    async def silent(reader, writer):
        await peer.read_request(reader)
        await asyncio.sleep(10)

    async with Peer(silent) as peer:
        pool = peer.pool()
        with pytest.raises(http1.UpstreamTimeout):
            await pool.request("GET", b"/", [], None, seconds=0.2)
        await pool.aclose()

    async def stalls(reader, writer):
        await peer.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc")
        await writer.drain()
        await asyncio.sleep(10)

    async with Peer(stalls) as peer:
        pool = peer.pool()
        response = await pool.request("GET", b"/", [], None, seconds=0.2)
        with pytest.raises(http1.UpstreamTimeout):
            await response.read()
        response.release()
        await pool.aclose()


async def test_nothing_listening_is_connect_failed():
    async with Peer(lambda r, w: asyncio.sleep(0)) as peer:
        port = peer.port
    pool = http1.Pool("127.0.0.1", port, host_header="x")
    with pytest.raises(http1.ConnectFailed):
        await pool.request("GET", b"/", [], None, seconds=2)
    await pool.aclose()


async def test_the_pool_never_opens_more_than_its_limit():
    open_now = 0
    most = 0

    async def handler(reader, writer):
        nonlocal open_now, most
        open_now += 1
        most = max(most, open_now)
        try:
            while True:
                await peer.read_request(reader)
                await asyncio.sleep(0.01)
                writer.write(ok())
        finally:
            open_now -= 1

    async with Peer(handler) as peer:
        pool = peer.pool(limit=3)

        async def one() -> bytes:
            response = await pool.request("GET", b"/", [], None, seconds=5)
            try:
                return await response.read()
            finally:
                response.release()

        assert await asyncio.gather(*(one() for _ in range(20))) == [b"hello"] * 20
        assert most <= 3
        await pool.aclose()


async def test_an_answer_already_received_is_handed_over_whole():
    async def handler(reader, writer):
        while True:
            await peer.read_request(reader)
            writer.write(ok(b"all of it"))

    async with Peer(handler) as peer:
        pool = peer.pool()
        response = await pool.request("GET", b"/", [], None, seconds=5)
        for _ in range(20):  # the body follows the head in the same read, or just after
            if response._connection._complete:
                break
            await asyncio.sleep(0.01)
        assert response.received_whole() == b"all of it"
        response.release()
        again = await pool.request("GET", b"/", [], None, seconds=5)
        assert await again.read() == b"all of it"
        again.release()
        assert peer.connections == 1  # handed over whole, the connection was reusable
        await pool.aclose()
