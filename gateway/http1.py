"""The gateway's own HTTP/1.1 client for forwarding: keep-alive connections to one service,
one request at a time each, the response parsed by llhttp (httptools, the parser uvicorn
serves with) and its body streamed with flow control.

Why not aiohttp's client, which the gateway used before: per request it builds a
ClientRequest, a URL, case-insensitive header maps, timers and a ClientResponse, about half
of the gateway's CPU per proxied request (bench/gateway_proxy.py, py-spy). A reverse proxy
needs none of that: it has the request target and the header lines already, as bytes, and
hands the response's header lines and body on as they came. This module does only that.

What it does and does not do:
- One request per connection at a time (no pipelining); a connection goes back to the pool
  only when its response was read to the end and both sides keep it alive.
- An idle connection older than KEEPALIVE_EXPIRY seconds is closed, not reused: the services'
  servers (uvicorn) close idle connections after 5 s, and a request written into a closing
  connection is lost. A reused connection that closes before any byte of the answer is
  reported as `Stale`, which the caller may retry for an idempotent method.
- Bodies: bytes (Content-Length), or an async iterator of chunks (Content-Length when the
  caller knows it, else chunked), written with the transport's flow control.
- Responses to HEAD, 1xx, 204 and 304 have no body; 1xx responses before the final one are
  skipped (the gateway never sends `Expect`).
- Timeouts: connecting, and waiting for the service (for the head of its answer, and between
  two parts of its body), each at most `timeout` seconds.
"""

from __future__ import annotations

import asyncio
import collections
import ssl as ssl_module
import time
from collections.abc import AsyncIterable, AsyncIterator

import httptools

KEEPALIVE_EXPIRY = 4.0
# Body bytes the connection holds for the reader before it stops reading from the socket.
HIGH_WATER = 256 * 1024
LOW_WATER = 64 * 1024


class UpstreamError(Exception):
    """The service's answer failed; what the gateway tells the client depends on the kind."""


class ConnectFailed(UpstreamError):
    """No connection could be made: the request was not sent."""


class Stale(UpstreamError):
    """A reused keep-alive connection closed before any byte of the answer: the service
    closed it as it went idle, so the request was most likely never read."""


class UpstreamTimeout(UpstreamError):
    """Connecting, or waiting for the service's answer, took longer than allowed."""


class BrokenResponse(UpstreamError):
    """The service's answer is not valid HTTP, or the connection ended in the middle of it."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection; also the parser's callback object."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reused = False
        self.idle_since = 0.0
        self._parser: httptools.HttpResponseParser | None = None
        self._head: asyncio.Future[None] | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._status = 0
        self._body: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._reading_paused = False
        self._body_waiter: asyncio.Future[None] | None = None
        self._complete = False
        self._error: UpstreamError | None = None
        self._received_any = False
        self._no_body = False
        self._keep = False
        self._drain: asyncio.Future[None] | None = None
        self._writing_paused = False

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._received_any = True
        parser = self._parser
        if parser is None:  # bytes nobody asked for: the connection is unusable
            self._fail(BrokenResponse("the service sent data without a request"))
            return
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(BrokenResponse("the service switched protocols"))
        except httptools.HttpParserError as exc:
            self._fail(BrokenResponse(f"the service's answer is not valid HTTP: {exc}"))

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._parser is not None and not self._complete:
            if not self._received_any and self.reused:
                self._fail(Stale("the kept-alive connection closed before the answer"))
            else:
                self._fail(BrokenResponse("the service closed the connection mid-answer"))
        drain = self._drain
        if drain is not None and not drain.done():
            drain.set_exception(BrokenResponse("the service closed the connection"))

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        drain = self._drain
        if drain is not None and not drain.done():
            drain.set_result(None)

    # -- httptools callbacks ---------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        assert self._parser is not None
        status = self._parser.get_status_code()
        if 100 <= status < 200:
            self._headers = []  # an interim answer: the final one follows
            return
        self._status = status
        head = self._head
        if head is not None and not head.done():
            head.set_result(None)
        if self._no_body:
            # The answer to HEAD has no body whatever its Content-Length says; llhttp would
            # wait for one. It is complete now, and the connection is not reused.
            self._complete = True
            self._keep = False

    def on_body(self, body: bytes) -> None:
        if self._complete:
            return
        self._body.append(body)
        self._buffered += len(body)
        if self._buffered > HIGH_WATER and not self._reading_paused and self.transport:
            self._reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._status == 0:  # the end of an interim (1xx) answer
            return
        if not self._complete:
            assert self._parser is not None
            self._keep = self._parser.should_keep_alive()
        self._complete = True
        self._wake()

    # -- helpers ---------------------------------------------------------------------------

    def _wake(self) -> None:
        waiter = self._body_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, error: UpstreamError) -> None:
        if self._error is None:
            self._error = error
        head = self._head
        if head is not None and not head.done():
            head.set_exception(error)
        waiter = self._body_waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        if self.transport is not None:
            self.transport.abort()
        self.closed = True

    def _start(self, no_body: bool) -> asyncio.Future[None]:
        self._parser = httptools.HttpResponseParser(self)
        self._head = self.loop.create_future()
        self._headers = []
        self._status = 0
        self._body.clear()
        self._buffered = 0
        self._complete = False
        self._keep = False
        self._error = None
        self._received_any = False
        self._no_body = no_body
        return self._head

    async def _drained(self) -> None:
        if self._writing_paused and not self.closed:
            self._drain = self.loop.create_future()
            await self._drain

    async def _wait(self, future: asyncio.Future, seconds: float, what: str) -> None:
        """Wait for `future`, at most `seconds` (one timer, no task)."""
        if future.done():
            future.result()
            return
        handle = self.loop.call_later(seconds, _expire, future, what)
        try:
            await future
        finally:
            handle.cancel()

    async def next_chunk(self, seconds: float) -> bytes | None:
        """The next part of the body, or None at its end."""
        while True:
            if self._body:
                chunk = self._body.popleft()
                self._buffered -= len(chunk)
                if self._reading_paused and self._buffered < LOW_WATER and self.transport:
                    self._reading_paused = False
                    self.transport.resume_reading()
                return chunk
            if self._complete:
                return None
            if self._error is not None:
                raise self._error
            self._body_waiter = self.loop.create_future()
            try:
                await self._wait(self._body_waiter, seconds, "the rest of the answer")
            finally:
                self._body_waiter = None

    @property
    def reusable(self) -> bool:
        return (
            self._complete
            and self._keep
            and not self._body
            and not self.closed
            and self._error is None
        )

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def _expire(future: asyncio.Future, what: str) -> None:
    if not future.done():
        future.set_exception(UpstreamTimeout(f"no answer in time: {what}"))


class Response:
    """The service's answer: status and header lines as they came, the body to stream."""

    __slots__ = ("_connection", "_pool", "_released", "_timeout", "headers", "status")

    def __init__(
        self, status: int, headers: list[tuple[bytes, bytes]], connection, pool, timeout
    ) -> None:
        self.status = status
        self.headers = headers
        self._connection: _Connection = connection
        self._pool: Pool = pool
        self._timeout: float = timeout
        self._released = False

    def header(self, name: bytes) -> bytes | None:
        """The first value of a header (`name` in lower case)."""
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    async def chunks(self) -> AsyncIterator[bytes]:
        connection = self._connection
        while True:
            chunk = await connection.next_chunk(self._timeout)
            if chunk is None:
                return
            yield chunk

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])

    def received_whole(self) -> bytes | None:
        """The whole body when the answer has already arrived to its end (most answers: one
        read brings head and body), else None and the body is to be streamed."""
        connection = self._connection
        if not connection._complete or connection._error is not None:
            return None
        body = b"".join(connection._body)
        connection._body.clear()
        connection._buffered = 0
        return body

    def release(self) -> None:
        """Back to the pool when the answer was read to its end, else closed. Idempotent."""
        if not self._released:
            self._released = True
            self._pool._release(self._connection)


class Pool:
    """Keep-alive connections to one service (`host`:`port`, over TLS when `ssl` is given),
    at most `limit` at once; `host_header` is the Host its requests name."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        host_header: str,
        ssl: ssl_module.SSLContext | None = None,
        limit: int = 200,
    ) -> None:
        self.host = host
        self.port = port
        self.ssl = ssl
        self.limit = limit
        self._host_header = host_header.encode("ascii")
        self._idle: list[_Connection] = []
        self._open = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._closed = False

    async def request(
        self,
        method: str,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes | AsyncIterable[bytes] | None,
        *,
        seconds: float,
        content_length: int | None = None,
    ) -> Response:
        """Send one request and wait for the head of its answer. `target` is the request
        target (path and query) and `headers` the header lines (neither checked here: the
        caller builds them from what its own server parsed); Host, Content-Length and
        Transfer-Encoding come from here; `seconds` bounds connecting and each wait for the
        service. Read the body from the Response, then release it."""
        loop = asyncio.get_running_loop()
        connection = await self._acquire(loop, seconds)
        try:
            head = connection._start(no_body=method == "HEAD")
            lines = [
                method.encode("ascii"),
                b" ",
                target,
                b" HTTP/1.1\r\nhost: ",
                self._host_header,
            ]
            stream = None
            if isinstance(body, bytes | bytearray):
                lines += [b"\r\ncontent-length: ", str(len(body)).encode()]
            elif body is not None:
                stream = body
                if content_length is not None:
                    lines += [b"\r\ncontent-length: ", str(content_length).encode()]
                else:
                    lines.append(b"\r\ntransfer-encoding: chunked")
            for name, value in headers:
                lines += [b"\r\n", name, b": ", value]
            lines.append(b"\r\n\r\n")
            transport = connection.transport
            assert transport is not None
            if isinstance(body, bytes | bytearray) and body:
                lines.append(bytes(body))
            transport.write(b"".join(lines))
            if stream is not None:
                await self._write_stream(connection, stream, chunked=content_length is None)
            await connection._wait(head, seconds, "the head of the answer")
        except BaseException:
            self._discard(connection)
            raise
        return Response(connection._status, connection._headers, connection, self, seconds)

    async def _write_stream(
        self, connection: _Connection, stream: AsyncIterable[bytes], *, chunked: bool
    ) -> None:
        transport = connection.transport
        assert transport is not None
        async for chunk in stream:
            if connection.closed:
                if connection._error is not None:
                    raise connection._error
                raise BrokenResponse("the service closed the connection during the upload")
            if not chunk:
                continue
            if chunked:
                transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
            else:
                transport.write(chunk)
            await connection._drained()
        if chunked:
            transport.write(b"0\r\n\r\n")

    def _take_idle(self) -> _Connection | None:
        """A kept-alive connection still fit for a request (closed or expired ones go)."""
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed and now - connection.idle_since < KEEPALIVE_EXPIRY:
                connection.reused = True
                return connection
            self._discard(connection)
        return None

    async def _acquire(self, loop: asyncio.AbstractEventLoop, seconds: float) -> _Connection:
        connection = self._take_idle()
        if connection is not None:
            return connection
        while self._open >= self.limit:
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, seconds)
            except TimeoutError as exc:
                raise UpstreamTimeout("no connection to the service was free in time") from exc
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
            connection = self._take_idle()
            if connection is not None:
                return connection
        self._open += 1
        try:
            _, connection = await asyncio.wait_for(
                loop.create_connection(
                    lambda: _Connection(loop), self.host, self.port, ssl=self.ssl
                ),
                seconds,
            )
        except TimeoutError as exc:
            self._open -= 1
            self._wake_one()
            raise UpstreamTimeout("connecting to the service took too long") from exc
        except OSError as exc:
            self._open -= 1
            self._wake_one()
            raise ConnectFailed(f"cannot connect to the service: {exc}") from exc
        except BaseException:
            self._open -= 1
            self._wake_one()
            raise
        return connection

    def _release(self, connection: _Connection) -> None:
        if connection.reusable and not self._closed:
            connection._parser = None
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
            self._wake_one()
        else:
            self._discard(connection)

    def _discard(self, connection: _Connection) -> None:
        if connection in self._idle:
            self._idle.remove(connection)
        connection.close()
        self._open -= 1
        self._wake_one()

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
            self._open -= 1
