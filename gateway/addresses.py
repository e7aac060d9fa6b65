"""Who the client is, as far as the network can tell: the address behind the trusted proxies.

Public rate limits and the tracking-code lockout key on the client's address. A client can
write any `X-Forwarded-For` it likes, so the header is believed only as far as the proxies
we run put it there: `GATEWAY_TRUSTED_PROXIES` lists them (addresses or CIDR ranges, for
example the ingress controller's pod range). Reading the header from the right, each hop
added by a trusted proxy is skipped; the first address that is not a trusted proxy is the
client. A request whose peer is not a trusted proxy is its own client, and its header is
ignored. With no trusted proxies configured (the default), the peer is always the client.

The gateway then sends services exactly one address in `X-Forwarded-For`, the one it
resolved, so no service ever sees a chain the client wrote. Run the gateway's uvicorn with
`--no-proxy-headers`: uvicorn's own handling would replace the peer with the header's
leftmost address before the gateway could judge it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import Scope

from shared.http.server import SERVER_OPTIONS as PLATFORM_SERVER_OPTIONS

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# uvicorn options every way of running the gateway uses (devstack, the image's CMD, tests):
# uvicorn must leave the peer address alone, since the gateway judges the forwarding headers;
# and, as every process of the platform, it writes each answer's head with its first body part
# (shared/http/server.py: one socket write for a small answer instead of two).
SERVER_OPTIONS = ("--no-proxy-headers", *PLATFORM_SERVER_OPTIONS)


class TrustedProxies:
    def __init__(self, proxies: Iterable[str]) -> None:
        self.networks: list[Network] = [
            ipaddress.ip_network(p.strip(), strict=False) for p in proxies
        ]

    def trusts(self, address: str) -> bool:
        if not self.networks:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def client_address(self, scope: Scope) -> str:
        client = scope.get("client")
        peer = client[0] if client else "unknown"
        if not self.trusts(peer):
            return peer
        hops: list[str] = []
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                hops.extend(h.strip() for h in value.decode("latin-1").split(","))
        nearest_trusted = peer
        for hop in reversed(hops):
            if not hop:
                continue
            try:
                ipaddress.ip_address(hop)
            except ValueError:
                # A trusted proxy never writes garbage: what lies beyond it is the client's
                # own text, so the last trusted hop is as far as we can see.
                return nearest_trusted
            if not self.trusts(hop):
                return hop
            nearest_trusted = hop
        return nearest_trusted
