"""uvicorn's httptools protocol, writing a response's head together with its first body part.

    uvicorn gateway.main:app --http shared.http.server:OneWriteHttpToolsProtocol

uvicorn writes the status line and headers to the socket as soon as the app sends
`http.response.start`, then the body with each `http.response.body`: two `send` system calls
for the smallest answer. On loopback each costs the TCP path of both ends, and in the gateway
the two writes were about a third of its CPU per proxied request (py-spy,
bench/gateway_proxy.py; nginx writes head and body with one writev). Here the head waits for
the first body part (or the end of the response) and both go in one write. Nothing else
changes: what is sent, its order, flow control and keep-alive are uvicorn's.

How: the request's RequestResponseCycle is made an instance of the subclass below right
after uvicorn creates it (before its ASGI task first runs); during `send` the cycle's
transport is a thin wrapper that holds the head, then prefixes it to the next write, or
writes it before the transport is closed. tests/shared/test_server_protocol.py runs a real
uvicorn with it and counts the writes.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

# The uvicorn options every process of the platform runs with (the services and the gateway:
# devstack, the image, compose, the Kubernetes manifests; tests/deploy checks them all).
SERVER_OPTIONS = ("--http", "shared.http.server:OneWriteHttpToolsProtocol")


class _HoldHead:
    """The transport while uvicorn writes a response's head: the bytes are kept."""

    __slots__ = ("_transport", "head")

    def __init__(self, transport: Any) -> None:
        self._transport = transport
        self.head: bytes | None = None

    def write(self, data: bytes) -> None:
        self.head = data if self.head is None else self.head + data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _PrefixHead:
    """The transport while the head waits: the next write carries it; a close sends it first."""

    __slots__ = ("_transport", "head")

    def __init__(self, transport: Any, head: bytes) -> None:
        self._transport = transport
        self.head: bytes | None = head

    def write(self, data: bytes) -> None:
        head = self.head
        if head is not None:
            self.head = None
            data = head + data
        self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def flush(self) -> None:
        if self.head is not None:
            head, self.head = self.head, None
            self._transport.write(head)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _OneWriteCycle(RequestResponseCycle):
    _held: bytes | None = None

    async def send(self, message: Any) -> None:
        transport = self.transport
        if message["type"] == "http.response.start" and not self.response_started:
            holder = _HoldHead(transport)
            self.transport = holder
            try:
                await super().send(message)
            finally:
                self.transport = transport
            self._held = holder.head
            return
        held = self._held
        if held is None:
            await super().send(message)
            return
        self._held = None
        prefix = _PrefixHead(transport, held)
        self.transport = prefix
        try:
            await super().send(message)
        finally:
            self.transport = transport
            # A part that wrote nothing (an empty body part): the head goes now, on its own.
            prefix.flush()


class OneWriteHttpToolsProtocol(HttpToolsProtocol):
    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and type(cycle) is RequestResponseCycle:
            cycle.__class__ = _OneWriteCycle
