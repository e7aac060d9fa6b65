"""The service behind the gateway in bench/gateway_proxy.py: `uvicorn bench._upstream_app:app`.

Built with the platform's own service factory, like tests/gateway/upstream.py, so it checks
the internal token on every request exactly as a real service does, but with one trivial route
and nothing that needs a database or a broker: the lifespan only creates the engine (SQLAlchemy
connects lazily, on first use) and the Kafka probe (which connects on the first /ready), so
the database URL may point nowhere as long as /ready is not called. The service is named
"registry", the audience the gateway signs its internal token for.
"""

from __future__ import annotations

from typing import ClassVar

from fastapi import APIRouter
from pydantic_settings import SettingsConfigDict

from shared.principal import PrincipalDep
from shared.service_app import create_service_app
from shared.settings import ServiceSettings

# Port 9 (discard): nothing listens there; nothing connects to it either unless /ready is hit.
NOWHERE = "postgresql+asyncpg://bench@127.0.0.1:9/nowhere"


class BenchUpstreamSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BENCH_UPSTREAM_", extra="ignore")
    service_name: ClassVar[str] = "registry"


router = APIRouter()


@router.get("/things/{thing_id}")
async def get_thing(thing_id: str, principal: PrincipalDep) -> dict:
    return {"id": thing_id, "sub": principal.sub, "tier": principal.tier}


app = create_service_app(
    BenchUpstreamSettings(
        database_url=NOWHERE,
        kafka_bootstrap_servers="127.0.0.1:9",
        relay_enabled=False,
        consumers_enabled=False,
    ),
    title="Benchmark stand-in",
    description="The service behind the gateway in bench/gateway_proxy.py",
    routers=[router],
)
