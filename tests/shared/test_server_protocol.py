"""uvicorn with shared.http.server's protocol: one socket write for a small response, the same
bytes as uvicorn's own protocol in every case (streamed, empty, HEAD, closing, pipelined), and
a real server process answering through it."""

from __future__ import annotations

import asyncio
import socket

import pytest
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from shared.http.server import OneWriteHttpToolsProtocol


class RecordingTransport(asyncio.Transport):
    """What the protocol writes, call by call (the socket end of the test)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name, default=None):
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 5000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_write_buffer_limits(self, high=None, low=None) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/small":
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", b"5"), (b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": b"hello"})
    elif path == "/streamed":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"one", b"two", b"three"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    elif path == "/empty":
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    elif path == "/late-body":
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
        )
        await send({"type": "http.response.body", "body": b"", "more_body": True})
        await send({"type": "http.response.body", "body": b"ok", "more_body": False})


async def serve(protocol_class, request: bytes) -> RecordingTransport:
    config = Config(app=app, lifespan="off", server_header=False, date_header=False)
    config.load()
    protocol = protocol_class(config=config, server_state=ServerState(), app_state={})
    transport = RecordingTransport()
    protocol.connection_made(transport)
    protocol.data_received(request)
    for _ in range(50):
        await asyncio.sleep(0)
    protocol.connection_lost(None)
    return transport


REQUESTS = {
    "small": b"GET /small HTTP/1.1\r\nhost: x\r\n\r\n",
    "streamed": b"GET /streamed HTTP/1.1\r\nhost: x\r\n\r\n",
    "empty": b"DELETE /empty HTTP/1.1\r\nhost: x\r\n\r\n",
    "head": b"HEAD /small HTTP/1.1\r\nhost: x\r\n\r\n",
    "late-body": b"GET /late-body HTTP/1.1\r\nhost: x\r\n\r\n",
    "closing": b"GET /small HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    "pipelined": b"GET /small HTTP/1.1\r\nhost: x\r\n\r\nGET /streamed HTTP/1.1\r\nhost: x\r\n\r\n",
}


@pytest.mark.parametrize("case", sorted(REQUESTS))
async def test_the_client_receives_exactly_what_uvicorns_own_protocol_sends(case):
    ours = await serve(OneWriteHttpToolsProtocol, REQUESTS[case])
    theirs = await serve(HttpToolsProtocol, REQUESTS[case])
    assert b"".join(ours.writes) == b"".join(theirs.writes)
    assert ours.writes, "nothing was sent"
    assert ours.closed == theirs.closed


async def test_a_small_response_is_one_write_where_uvicorn_makes_two():
    ours = await serve(OneWriteHttpToolsProtocol, REQUESTS["small"])
    theirs = await serve(HttpToolsProtocol, REQUESTS["small"])
    assert len(theirs.writes) == 2
    assert len(ours.writes) == 1
    assert ours.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert ours.writes[0].endswith(b"\r\n\r\nhello")


async def test_a_streamed_response_carries_its_head_with_the_first_part():
    ours = await serve(OneWriteHttpToolsProtocol, REQUESTS["streamed"])
    assert ours.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert ours.writes[0].endswith(b"3\r\none\r\n")
    assert len(ours.writes) == 4  # head+one, two, three, the last chunk


async def test_a_closing_response_sends_its_head_before_the_close():
    ours = await serve(OneWriteHttpToolsProtocol, REQUESTS["closing"])
    assert ours.closed
    assert b"".join(ours.writes).endswith(b"hello")


async def test_a_real_server_answers_through_it():
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, http=OneWriteHttpToolsProtocol, log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(100):
            if server.started:
                break
            await asyncio.sleep(0.05)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(REQUESTS["small"] + REQUESTS["streamed"])
        await writer.drain()
        data = b""
        while not data.endswith(b"0\r\n\r\n"):
            data += await asyncio.wait_for(reader.read(65536), 5)
        writer.close()
        assert data.count(b"HTTP/1.1 200 OK") == 2
        assert b"\r\n\r\nhello" in data
        assert b"5\r\nthree\r\n" in data
    finally:
        server.should_exit = True
        await task
