"""Helpers shared by the programme, eligibility, enrolment, benefit and verification tests:
the in-process registry app, principals the harness lacks, and households that the Family
Package's rules accept."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import date, datetime, time

import pytest
from sqlalchemy import func, select

from services.registry.households.models import Household
from services.registry.main import create_app
from shared.clock import CAMBODIA, ManualClock, using
from shared.db.platform_tables import outbox
from shared.principal import Principal
from shared.tiers import Tier
from tests.harness import running
from tests.registry.conftest import registry_settings
from tests.registry.factories import (
    VILLAGE_PHNOM_PENH_THMEI,
    RegistryRows,
    make_household,
    member,
)

# Registry verifiers at the tiers the harness has only viewers for.
NATIONAL_VERIFIER = Principal(
    sub="national-verifier",
    tier=Tier.NATIONAL,
    admin_code="",
    roles=frozenset({"registry.verifier"}),
)
CP_BANTEAY_MEANCHEY_VERIFIER = Principal(
    sub="cp-01-verifier", tier=Tier.CP, admin_code="01", roles=frozenset({"registry.verifier"})
)
MOH_CLIENT = Principal(
    sub="service-account-moh-health-equity",
    client=True,
    scopes=frozenset({"registry.verification.read", "registry.dci.search"}),
)
CLIENT_WITHOUT_SCOPE = Principal(sub="service-account-partner", client=True)

ON = date(2026, 11, 21)
# The day these households, enrolments and benefits are about: the registry runs on a clock
# standing on it (ten in the morning in Phnom Penh), so the ages and validity dates below hold
# on whatever day the tests run.
CLOCK_START = datetime.combine(ON, time(10), tzinfo=CAMBODIA)
# For the modules whose `app` fixture (tests/registry/conftest.py) must stand on that day.
ON_THE_DAY = pytest.mark.registry_clock(CLOCK_START)


@contextlib.asynccontextmanager
async def relaying_registry_app(infrastructure) -> AsyncIterator:
    """The registry with its outbox relay polling often, for tests that read the broker."""
    app = create_app(
        registry_settings(infrastructure, relay_enabled=True, outbox_poll_interval_seconds=0.2),
        clock=ManualClock(CLOCK_START),
    )
    async with running(app):
        yield app


@contextlib.asynccontextmanager
async def on_app_clock(app) -> AsyncIterator:
    """A session for calling services directly, on the app's clock as its requests are."""
    with using(app.state.clock):
        async with app.state.database.transaction() as session:
            yield session


def assert_problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body


async def outbox_count(app, event_type: str | None = None) -> int:
    async with app.state.database.transaction() as session:
        statement = select(func.count()).select_from(outbox)
        if event_type is not None:
            statement = statement.where(outbox.c.type == event_type)
        return (await session.execute(statement)).scalar_one()


async def family_household(
    infrastructure,
    *,
    village_code: str = VILLAGE_PHNOM_PENH_THMEI,
    status: str = "active",
    poverty_level: str = "POOR_1",
    on: date = ON,
    **fields,
) -> Household:
    """A poor household with a mother and a child of fifteen months on the day `on` (the day
    the `app` fixture's clock stands on; a test through the `platform` fixture, whose processes
    run on the real clock, passes the real date): the Family Package accepts it."""
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        return await make_household(
            session,
            village_code=village_code,
            status=status,
            poverty_level=poverty_level,
            poverty_method="ROUND",
            poverty_valid_until=on + (date(2028, 6, 30) - ON),
            members=[
                member(birth_date=date(1994, 5, 2), national_id="010203040"),
                member(
                    relationship="child",
                    sex="male",
                    given_name_km="ដារា",
                    given_name_latin="Dara",
                    birth_date=on - (ON - date(2025, 9, 1)),
                ),
            ],
            **fields,
        )
