"""Demo grievances for the local stack: `await seed(database_url)` (idempotent).

A few grievances in Khan Sen Sok at different stages: a fresh anonymous one at Sangkat
Phnom Penh Thmei, an acknowledged one at Tuek Thla, a sensitive one at the district, and a
resolved one the citizen can rate or reopen. Returns a line naming their tracking codes
(nothing when the demo data is already there).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from services.grievance import roles
from services.grievance.codes import Decision
from services.grievance.grievances import service
from services.grievance.grievances.models import Grievance
from services.grievance.grievances.schemas import GrievanceIntake
from services.grievance.grievances.tracking_code import display
from shared import clock
from shared.db.engine import Database
from shared.principal import Principal
from shared.tiers import Tier

_HANDLERS = {
    "120801": Principal(sub="demo:cs.phnom-penh-thmei", tier=Tier.CS, admin_code="120801",
                        roles=frozenset({roles.HANDLER})),
    "120802": Principal(sub="demo:cs.tuek-thla", tier=Tier.CS, admin_code="120802",
                        roles=frozenset({roles.HANDLER})),
}  # fmt: skip


def _intake(**fields) -> GrievanceIntake:
    return GrievanceIntake.model_validate(fields)


async def seed(database_url: str) -> list[str]:
    database = Database(database_url, pool_size=2, application_name="grievance-demo")
    codes: list[str] = []
    try:
        async with database.transaction() as session:
            if await session.scalar(select(func.count()).select_from(Grievance)):
                return codes
            now = clock.now()
            fresh = await service.submit(
                session,
                intake=_intake(channel="web", category="payment_problem", anonymous=True,
                               description="The October payment did not arrive.",
                               location_code="12080102"),
                channel="web", location_code="12080102", household_id=None, member_id=None,
                submitted_by=None, now=now - timedelta(hours=6),
            )  # fmt: skip
            waiting = await service.submit(
                session,
                intake=_intake(channel="commune_office", category="card_request_disability",
                               description="Asks for a disability card for her son.",
                               location_code="12080204",
                               complainant={"name": "Chan Sreyneang", "sex": "female",
                                            "age_group": "36_59"}),
                channel="commune_office", location_code="12080204", household_id=None,
                member_id=None, submitted_by="demo:cs.tuek-thla", now=now - timedelta(days=2),
            )  # fmt: skip
            await service.acknowledge(
                session, principal=_HANDLERS["120802"], grievance=waiting,
                public_message="Your request is with the commune social worker.", now=now,
            )  # fmt: skip
            sensitive = await service.submit(
                session,
                intake=_intake(channel="hotline", category="fraud_corruption", anonymous=True,
                               description="A village chief asks for money to add names.",
                               location_code="12080105"),
                channel="hotline", location_code="12080105", household_id=None, member_id=None,
                submitted_by="demo:dmk.sen-sok", now=now - timedelta(days=1),
            )  # fmt: skip
            resolved = await service.submit(
                session,
                intake=_intake(channel="web", category="information_request", anonymous=True,
                               description="When is the next IDPoor round?",
                               location_code="120801"),
                channel="web", location_code="120801", household_id=None, member_id=None,
                submitted_by=None, now=now - timedelta(days=3),
            )  # fmt: skip
            await service.acknowledge(
                session, principal=_HANDLERS["120801"], grievance=resolved, public_message=None,
                now=now - timedelta(days=2),
            )  # fmt: skip
            await service.resolve(
                session, principal=_HANDLERS["120801"], grievance=resolved,
                decision=Decision.UPHELD,
                resolution_summary="The on-demand IDPoor office at the sangkat is open on "
                "Mondays; the next round starts in March.",
                reopen_days=30, now=now - timedelta(days=1),
            )  # fmt: skip
            codes = [display(g.tracking_code) for g in (fresh, waiting, sensitive, resolved)]
    finally:
        await database.dispose()
    if not codes:
        return []
    return [
        f"grievance: tracking codes {', '.join(codes)} (a citizen tracks one with "
        "GET /grievance/public/grievances/<code>)"
    ]
