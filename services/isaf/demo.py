"""Demo I-SAF data for the local stack: `await seed(database_url)` (idempotent).

This year's cycle of Sangkats Phnom Penh Thmei and Tuek Thla (Khan Sen Sok), recorded through
the service's own rules as Khan Sen Sok's facilitator would: the three providers of each,
two CAFs each and their training, an I4C dissemination, a completed community scorecard of
the health centre (votes and medians), and a JAAP with one action completed and one with a
budget need. Returns a line saying where to look (nothing when the data is already there).
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace

from pydantic import TypeAdapter
from sqlalchemy import func, select

from services.isaf import roles
from services.isaf.activities import service as activities
from services.isaf.activities.schemas import ActivityCreate
from services.isaf.cafs import service as cafs
from services.isaf.cafs.schemas import CafCreate, TrainingCreate
from services.isaf.codes import ActionStatus, ScorecardStatus
from services.isaf.cycles import service as cycles
from services.isaf.cycles.models import Cycle
from services.isaf.cycles.schemas import CycleCreate, FacilityCreate
from services.isaf.jaaps import service as jaaps
from services.isaf.jaaps.schemas import JaapCreate
from services.isaf.scorecards import service as scorecards
from services.isaf.scorecards.schemas import Sitting
from shared import clock
from shared.db.engine import Database
from shared.principal import Principal
from shared.tiers import Tier

FACILITATOR = Principal(
    sub="demo:dmk.sen-sok", tier=Tier.DMK, admin_code="1208",
    roles=frozenset({roles.FACILITATOR}),
)  # fmt: skip
SANGKATS = {"120801": "Phnom Penh Thmei", "120802": "Tuek Thla"}
PROVIDERS = [
    ("commune_administration", "រដ្ឋបាលសង្កាត់ {km}", "Sangkat {en} administration"),
    ("health_centre", "មណ្ឌលសុខភាព {km}", "{en} health centre"),
    ("primary_school", "សាលាបឋមសិក្សា {km}", "{en} primary school"),
]
SCORES = [4, 3, 5, 2, 4, 4, 3, 5, 2, 3]  # ten participants


async def seed(database_url: str) -> list[str]:
    database = Database(database_url, pool_size=2, application_name="isaf-demo")
    try:
        async with database.transaction() as session:
            if await session.scalar(select(func.count()).select_from(Cycle)):
                return []
            now = clock.now()
            year = clock.today().year
            for code, name in SANGKATS.items():
                await _sangkat(session, code, name, year, now)
    finally:
        await database.dispose()
    return [
        "isaf: this year's cycles of Phnom Penh Thmei and Tuek Thla (a citizen reads "
        "GET /isaf/public/communes/120801)"
    ]


async def _sangkat(session, code: str, name: str, year: int, now) -> None:
    p = FACILITATOR
    cycle = await cycles.open_cycle(
        session, principal=p, body=CycleCreate(location_code=code, year=year), now=now
    )
    facilities = {}
    for facility_type, km, en in PROVIDERS:
        facilities[facility_type] = await cycles.create_facility(
            session, principal=p, now=now,
            body=TypeAdapter(FacilityCreate).validate_python(
                {"location_code": code, "facility_type": facility_type,
                 "name_km": km.format(km=code), "name_en": en.format(en=name)}
            ),
        )  # fmt: skip
    helpers = [
        await cafs.register_caf(
            session,
            principal=p,
            now=now,
            body=CafCreate(
                location_code=code,
                name=f"CAF {name} {n}",
                sex=sex,
                birth_year=1988 + n,
                phone=f"+855 12 80{code[-1]} 00{n}",
                local_ngo="Star Kampuchea",
            ),
        )
        for n, sex in enumerate(("female", "male"), start=1)
    ]
    await cafs.record_training(
        session, principal=p, now=now,
        body=TrainingCreate(location_code=code, audience="caf", topics=["I-SAF cycle", "I4C"],
                            starts_on=f"{year}-01-20", ends_on=f"{year}-01-21",
                            venue="Khan Sen Sok hall", attendees_total=2, attendees_female=1,
                            attendees_male=1, caf_ids=[h.id for h in helpers]),
    )  # fmt: skip
    await activities.record(
        session, principal=p, now=now,
        body=ActivityCreate(
            cycle_id=cycle.id, activity_type="i4c_dissemination", held_on=f"{year}-02-10",
            venue=f"Pagoda of {name}", facilitator_caf_ids=[h.id for h in helpers],
            participants={"total": 57, "female": 31, "male": 26, "youth": 9, "idpoor": 12},
        ),
    )  # fmt: skip
    health = facilities["health_centre"]
    participants = [
        {"id": uuid.uuid4(), "sex": "female" if i % 2 else "male", "age_band": "25_44"}
        for i in range(len(SCORES))
    ]
    indicators = [
        {"id": uuid.uuid4(), "source": "standard", "code": c, "selected": True,
         "strengths": "Staff are kind", "weaknesses": "Fees not displayed",
         "suggested_actions": "Post the fees at the gate"}
        for c in ("HC01", "HC02", "HC04")
    ]  # fmt: skip
    sitting = Sitting(
        cycle_id=cycle.id, facility_id=health.id, kind="community", held_on=f"{year}-03-05",
        venue=f"{name} health centre yard", facilitator_caf_ids=[h.id for h in helpers],
        participants=participants, indicators=indicators,
        votes=[{"participant_id": pp["id"], "indicator_id": ind["id"], "score": score}
               for pp, score in zip(participants, SCORES, strict=True) for ind in indicators],
    )  # fmt: skip
    scorecard, _ = await scorecards.upload_sitting(
        session, principal=p, scorecard_id=uuid.uuid4(), sitting=sitting,
        request=SimpleNamespace(headers={}), now=now,
    )  # fmt: skip
    for status in (ScorecardStatus.IN_REVIEW, ScorecardStatus.COMPLETED):
        await scorecards.change_status(
            session, principal=p, scorecard=scorecard, status=status, now=now
        )
    _, actions = await jaaps.adopt(
        session, principal=p, now=now,
        body=JaapCreate(cycle_id=cycle.id, adopted_on=f"{year}-04-02", actions=[
            {"description": "Post the health centre's fees at the gate",
             "scorecard_id": scorecard.id, "indicator_id": indicators[1]["id"],
             "responsible_party": "Chief of the health centre", "responsible_tier": "provider",
             "deadline": f"{year}-06-30"},
            {"description": "Build a ramp at the sangkat office",
             "facility_id": facilities["commune_administration"].id,
             "responsible_party": "Sangkat council", "responsible_tier": "cs",
             "deadline": f"{year}-12-15", "budget_need_riel": 3_200_000},
        ]),
    )  # fmt: skip
    await jaaps.change_status(
        session, principal=p, action=actions[0], status=ActionStatus.COMPLETED,
        note="The fees board is up.", reason=None, now=now,
    )  # fmt: skip
