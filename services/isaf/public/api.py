"""`GET /public/communes/{code}`: what citizens are entitled to know about their commune's
providers: the standards they are held to, the latest scorecard results, JAAP progress and
the budget the budget service published, released and saw spent.

Built from an allow-list of fields: no participant profile, no CAF, no name of a person, no
record id, no staff text but the JAAP's public action descriptions and forum-free fields.
Only completed scorecards appear.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.isaf.areas import CycleAreaCode, require_cycle_area
from services.isaf.budget import repository as budget
from services.isaf.codes import labels
from services.isaf.cycles import repository as cycles
from services.isaf.indicators.catalogue import standard
from services.isaf.jaaps import repository as jaaps
from services.isaf.reports.rules import COUNTING_RULES
from services.isaf.scorecards import repository as scorecards
from shared.db import SessionDep
from shared.gazetteer import get_gazetteer
from shared.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/public", tags=["public"])


class Standard(BaseModel):
    code: str
    name_km: str
    name_en: str
    pictogram: str
    audio: str


class Result(BaseModel):
    indicator_code: str | None
    name_km: str
    name_en: str
    votes: int
    median: float | None


class ScorecardResults(BaseModel):
    year: int
    held_on: str | None
    participants: int
    women: int
    results: list[Result]


class PublicFacility(BaseModel):
    facility_type: str
    facility_type_km: str
    facility_type_en: str
    name_km: str
    name_en: str
    standards: list[Standard]
    latest_scorecard: ScorecardResults | None = Field(
        description="The latest completed community scorecard."
    )
    latest_self_assessment: ScorecardResults | None


class PublicAction(BaseModel):
    description: str
    facility_en: str | None
    facility_km: str | None
    responsible_party: str
    responsible_tier: str
    deadline: str
    budget_need_riel: int
    status: str
    status_km: str
    status_en: str


class JaapProgress(BaseModel):
    year: int
    adopted_on: str
    actions_adopted: int
    actions_completed: int
    actions_in_progress: int
    actions_not_started: int
    actions_dropped: int
    completion_rate: float | None
    actions: list[PublicAction]


class BudgetYear(BaseModel):
    fiscal_year: int
    allocated_riel: int
    released_riel: int
    spent_riel: int


class PublicCommune(BaseModel):
    code: str
    name_km: str
    name_en: str
    facilities: list[PublicFacility]
    jaaps: list[JaapProgress]
    budget: list[BudgetYear] = Field(
        description="From the budget service's published allocations, releases and "
        "expenditures; empty until it publishes any."
    )
    counting_rules: dict[str, str]


def _name(facilities: dict, facility_id, language: str) -> str | None:
    facility = facilities.get(facility_id)
    if facility is None:
        return None
    return facility.name_km if language == "km" else facility.name_en


async def _results(session, scorecard) -> ScorecardResults | None:
    if scorecard is None:
        return None
    indicators = await scorecards.indicators_of(session, scorecard.id)
    return ScorecardResults(
        year=scorecard.year,
        held_on=scorecard.held_on.isoformat() if scorecard.held_on else None,
        participants=scorecard.participants_total,
        women=scorecard.participants_female,
        results=[
            Result(
                indicator_code=i.code, name_km=i.name_km, name_en=i.name_en, votes=i.votes,
                median=float(i.median) if i.median is not None else None,
            )
            for i in indicators
            if i.selected
        ],
    )  # fmt: skip


@router.get(
    "/communes/{code}",
    responses={k: PROBLEM_RESPONSES[k] for k in (422,)},
    summary="Public I4C view of a commune/sangkat or urban khan (no login, no personal data)",
)
async def public_commune(code: CycleAreaCode, session: SessionDep) -> PublicCommune:
    require_cycle_area(code, field="code")
    unit = get_gazetteer().get(code)
    assert unit is not None
    facilities = await cycles.facilities_at(session, code)
    names = {f.id: f for f in facilities}
    out_facilities = []
    for facility in facilities:
        type_labels = labels(facility.facility_type)
        out_facilities.append(
            PublicFacility(
                facility_type=facility.facility_type, facility_type_km=type_labels["km"],
                facility_type_en=type_labels["en"], name_km=facility.name_km,
                name_en=facility.name_en,
                standards=[
                    Standard(code=i.code, name_km=i.name_km, name_en=i.name_en,
                             pictogram=i.pictogram, audio=i.audio)
                    for i in standard(facility.facility_type)
                ],
                latest_scorecard=await _results(
                    session, await scorecards.latest_completed(session, facility.id, "community")
                ),
                latest_self_assessment=await _results(
                    session,
                    await scorecards.latest_completed(session, facility.id, "self_assessment"),
                ),
            )
        )  # fmt: skip
    actions = await jaaps.actions_at(session, code)
    progress = []
    for jaap in await jaaps.jaaps_at(session, code):
        mine = [a for a in actions if a.jaap_id == jaap.id]
        counts = {s: sum(1 for a in mine if a.status == s)
                  for s in ("completed", "in_progress", "not_started", "dropped")}  # fmt: skip
        progress.append(
            JaapProgress(
                year=jaap.year, adopted_on=jaap.adopted_on.isoformat(),
                actions_adopted=len(mine), actions_completed=counts["completed"],
                actions_in_progress=counts["in_progress"],
                actions_not_started=counts["not_started"], actions_dropped=counts["dropped"],
                completion_rate=round(counts["completed"] / len(mine), 4) if mine else None,
                actions=[
                    PublicAction(
                        description=a.description,
                        facility_en=_name(names, a.facility_id, "en"),
                        facility_km=_name(names, a.facility_id, "km"),
                        responsible_party=a.responsible_party,
                        responsible_tier=a.responsible_tier, deadline=a.deadline.isoformat(),
                        budget_need_riel=a.budget_need_riel, status=a.status,
                        status_km=labels(a.status)["km"], status_en=labels(a.status)["en"],
                    )
                    for a in mine
                ],
            )
        )  # fmt: skip
    money = [
        BudgetYear(fiscal_year=int(r["year"]), allocated_riel=int(r["allocated"] or 0),
                   released_riel=int(r["released"] or 0), spent_riel=int(r["spent"] or 0))
        for r in await budget.figures(session, code)
    ]  # fmt: skip
    return PublicCommune(
        code=code, name_km=unit.name_km, name_en=unit.name_en, facilities=out_facilities,
        jaaps=progress, budget=money, counting_rules=COUNTING_RULES,
    )  # fmt: skip
