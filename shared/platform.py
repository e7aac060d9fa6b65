"""The platform's services: one list, read by the gateway, the migration job, the local
stack and the tests.

Each service is a FastAPI app in `services/<name>` with its own database
(`<NAME>_DATABASE_URL`). Locally the gateway listens on `GATEWAY_PORT` and the services on the
ports after it, in this order (registry 8001, grievance 8002, ...).
"""

from __future__ import annotations

SERVICES: tuple[str, ...] = ("registry", "grievance", "isaf", "budget")
GATEWAY_PORT = 8000
LOCAL_HOST = "127.0.0.1"


def default_port(service: str, gateway_port: int = GATEWAY_PORT) -> int:
    """The service's local port: the gateway's plus its place in `SERVICES` (from 1)."""
    return gateway_port + 1 + SERVICES.index(service)


def default_url(service: str) -> str:
    return f"http://{LOCAL_HOST}:{default_port(service)}"
