"""The I-SAF service in-process, on the test database, with a clock the tests move; the
people of Khan Sen Sok's chain who record and read I-SAF; builders of a cycle's records."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from services.isaf.config import Settings
from services.isaf.main import create_app
from shared.clock import ManualClock
from shared.principal import Principal
from shared.tiers import Tier
from tests.harness import client_for, running

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
YEAR = START.year

FACILITATOR = "isaf.facilitator"
CS_PHNOM_PENH_THMEI = Principal(
    sub="cs-120801-isaf", tier=Tier.CS, admin_code="120801",
    roles=frozenset({"viewer", FACILITATOR}),
)  # fmt: skip
CS_TUEK_THLA = Principal(
    sub="cs-120802-isaf", tier=Tier.CS, admin_code="120802",
    roles=frozenset({"viewer", FACILITATOR}),
)  # fmt: skip
DMK_SEN_SOK = Principal(
    sub="dmk-1208-isaf", tier=Tier.DMK, admin_code="1208",
    roles=frozenset({"viewer", FACILITATOR}),
)  # fmt: skip
CP_PHNOM_PENH = Principal(
    sub="cp-12-isaf", tier=Tier.CP, admin_code="12", roles=frozenset({"viewer"})
)
CP_BANTEAY_MEANCHEY = Principal(
    sub="cp-01-isaf", tier=Tier.CP, admin_code="01", roles=frozenset({"viewer"})
)
NATIONAL = Principal(
    sub="national-isaf", tier=Tier.NATIONAL, admin_code="", roles=frozenset({"viewer"})
)
# A viewer of the commune: reads, never records.
CS_VIEWER = Principal(
    sub="cs-120801-viewer", tier=Tier.CS, admin_code="120801", roles=frozenset({"viewer"})
)


@dataclass
class IsafService:
    app: FastAPI
    clock: ManualClock

    def client(self, principal: Principal | None) -> httpx.AsyncClient:
        return client_for(self.app, principal or Principal.anonymous(), audience="isaf")


@pytest.fixture(scope="session")
async def isaf_service(infrastructure) -> AsyncIterator[IsafService]:
    settings = Settings(
        database_url=infrastructure.database_url("isaf"),
        kafka_bootstrap_servers=infrastructure.bootstrap_servers,
        log_json=False,
        consumers_enabled=False,
        relay_enabled=False,
    )
    clock = ManualClock(START)
    app = create_app(settings, clock=clock)
    async with running(app):
        yield IsafService(app, clock)


@pytest.fixture
async def service(isaf_service, clean_databases) -> IsafService:
    isaf_service.clock.set(START)
    return isaf_service


async def created(response: httpx.Response, status: int = 201) -> dict:
    assert response.status_code == status, response.text
    return response.json()


async def facility(client, location="120801", facility_type="health_centre", **extra) -> dict:
    body = {"location_code": location, "facility_type": facility_type,
            "name_km": f"មណ្ឌល {location}", "name_en": f"{facility_type} {location}",
            **extra}  # fmt: skip
    return await created(await client.post("/facilities", json=body))


async def cycle(client, location="120801", year=YEAR) -> dict:
    return await created(
        await client.post("/cycles", json={"location_code": location, "year": year})
    )


async def caf(client, location="120801", **extra) -> dict:
    body = {"location_code": location, "name": "Sok Channary", "sex": "female",
            "birth_year": 1990, "phone": "+855 12 345 678", "local_ngo": "Star Kampuchea",
            **extra}  # fmt: skip
    return await created(await client.post("/cafs", json=body))


def participation(total=40, female=22, male=18, **extra) -> dict:
    return {"total": total, "female": female, "male": male, **extra}


async def activity(client, cycle_id, activity_type="i4c_dissemination", held_on=None, **extra):
    body = {"cycle_id": cycle_id, "activity_type": activity_type,
            "held_on": held_on or f"{YEAR}-03-10", "venue": "Pagoda hall",
            "participants": participation(), **extra}  # fmt: skip
    return await created(await client.post("/activities", json=body))


def sitting(cycle_id, facility_id, *, kind="community", scores=None, codes=("HC01", "HC04"),
            held_on=None, sexes=None) -> dict:  # fmt: skip
    """A sitting: one participant per score; `scores[i]` is participant i's vote on every
    selected indicator (None: no vote)."""
    scores = scores if scores is not None else [4, 3, 5, 2]
    sexes = sexes or ["female" if i % 2 == 0 else "male" for i in range(len(scores))]
    participants = [
        {"id": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{facility_id}-p{i}")), "sex": sexes[i],
         "age_band": "25_44", "idpoor": i == 0}
        for i in range(len(scores))
    ]  # fmt: skip
    indicators = [
        {"id": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{facility_id}-{code}")), "source": "standard",
         "code": code, "selected": True, "strengths": "Staff are kind",
         "weaknesses": "Opens late", "suggested_actions": "Post the opening hours"}
        for code in codes
    ]  # fmt: skip
    votes = [
        {"participant_id": p["id"], "indicator_id": ind["id"], "score": score}
        for p, score in zip(participants, scores, strict=True)
        if score is not None
        for ind in indicators
    ]
    return {"cycle_id": cycle_id, "facility_id": facility_id, "kind": kind,
            "held_on": held_on or f"{YEAR}-04-05", "venue": "Health centre yard",
            "participants": participants, "indicators": indicators, "votes": votes}  # fmt: skip
