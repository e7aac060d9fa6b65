"""The rules of scorecards: planning, the offline sitting upload, medians, and progress
planned -> in progress -> in review -> completed (locked).

The median rule: the median of an indicator's votes; with an even number of votes, the mean of
the two middle votes, given with one decimal (3 and 4 -> 3.5). An indicator with no votes has
no median.

Uploading a sitting (`upload_sitting`):
- the same document again (same digest) changes nothing and answers what the server holds,
  even after completion;
- a different document replaces the stored sitting as a whole, before completion only (409
  after), and only under If-Match once a sitting is stored (428 without, 412 stale);
- the whole document is checked before anything is written, and written in the request's
  transaction: a failure leaves the previous state as it was.
"""

from __future__ import annotations

import hashlib
import statistics
import uuid
from datetime import datetime
from decimal import Decimal

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.isaf.activities.service import require_facilitators
from services.isaf.codes import SCORECARD_TRANSITIONS, IndicatorSource, ScorecardStatus
from services.isaf.cycles import service as cycles
from services.isaf.indicators import catalogue
from services.isaf.scorecards import repository
from services.isaf.scorecards.models import Scorecard
from services.isaf.scorecards.schemas import ScorecardPlan, Sitting
from shared.events.catalog.isaf import IndicatorResult, ScorecardCompleted
from shared.http.concurrency import require_if_match
from shared.jurisdiction import require_in_jurisdiction
from shared.outbox import emit
from shared.principal import Principal
from shared.problems import Problem, field_error


def median(scores: list[int]) -> Decimal | None:
    """The stated rule: the middle vote, or the mean of the two middle votes, one decimal."""
    if not scores:
        return None
    return Decimal(str(statistics.median(scores))).quantize(Decimal("0.1"))


def digest(sitting: Sitting) -> str:
    return hashlib.sha256(sitting.model_dump_json().encode()).hexdigest()


async def plan(
    session: AsyncSession, *, principal: Principal, body: ScorecardPlan, now: datetime
) -> Scorecard:
    if body.id is not None and await repository.get(session, body.id) is not None:
        raise Problem(409, "A scorecard with this id exists.",
                      errors=[field_error(["id"], "already used")])  # fmt: skip
    cycle = await cycles.cycle_for_recording(session, principal=principal, cycle_id=body.cycle_id)
    facility = await cycles.facility_of_cycle(session, cycle=cycle, facility_id=body.facility_id)
    scorecard = Scorecard(
        id=body.id or uuid.uuid4(), cycle_id=cycle.id, facility_id=facility.id,
        facility_type=facility.facility_type, location_code=cycle.location_code,
        year=cycle.year, kind=body.kind, status=ScorecardStatus.PLANNED,
        catalogue_version=catalogue.CURRENT_VERSION, created_by=principal.sub,
        created_at=now, updated_at=now,
    )  # fmt: skip
    repository.add(session, scorecard)
    await session.flush()
    return scorecard


def _check_document(sitting: Sitting, facility_type: str, version: int) -> tuple[list, list, list]:
    """Every rule of the document, before anything is written: rows to insert, or a 422
    naming the first field that breaks a rule."""
    participants, votes = [], []
    seen_participants: set[uuid.UUID] = set()
    for i, p in enumerate(sitting.participants):
        if p.id in seen_participants:
            raise Problem.invalid(f"participants.{i}.id", "repeats another participant's id")
        seen_participants.add(p.id)
        participants.append(p)
    seen_indicators: dict[uuid.UUID, dict] = {}
    seen_codes: set[str] = set()
    for i, ind in enumerate(sitting.indicators):
        if ind.id in seen_indicators:
            raise Problem.invalid(f"indicators.{i}.id", "repeats another indicator's id")
        if ind.source == IndicatorSource.STANDARD:
            standard = catalogue.find(ind.code or "", facility_type, version)
            if standard is None:
                raise Problem.invalid(
                    f"indicators.{i}.code",
                    f"not a standard {facility_type} indicator of catalogue version {version}",
                )
            if standard.code in seen_codes:
                raise Problem.invalid(f"indicators.{i}.code", "the indicator is listed twice")
            seen_codes.add(standard.code)
            name_km, name_en = standard.name_km, standard.name_en
        else:
            if ind.code:
                raise Problem.invalid(f"indicators.{i}.code", "only standard indicators have one")
            if not (ind.name_km or ind.name_en):
                raise Problem.invalid(
                    f"indicators.{i}.name_km", "an indicator participants raised needs its words"
                )
            name_km = ind.name_km or ind.name_en or ""
            name_en = ind.name_en or ind.name_km or ""
        seen_indicators[ind.id] = {
            "id": ind.id, "position": i, "source": ind.source, "code": ind.code,
            "name_km": name_km, "name_en": name_en, "selected": ind.selected,
            "strengths": ind.strengths, "weaknesses": ind.weaknesses,
            "suggested_actions": ind.suggested_actions, "scores": [],
        }  # fmt: skip
    cast: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for i, vote in enumerate(sitting.votes):
        if vote.participant_id not in seen_participants:
            raise Problem.invalid(f"votes.{i}.participant_id", "no such participant in the sitting")
        target = seen_indicators.get(vote.indicator_id)
        if target is None:
            raise Problem.invalid(f"votes.{i}.indicator_id", "no such indicator in the sitting")
        if not target["selected"]:
            raise Problem.invalid(f"votes.{i}.indicator_id", "the indicator was not selected")
        key = (vote.participant_id, vote.indicator_id)
        if key in cast:
            raise Problem.invalid(
                f"votes.{i}", "a second vote by the same participant on the same indicator"
            )
        cast.add(key)
        target["scores"].append(vote.score)
        votes.append(vote)
    return participants, list(seen_indicators.values()), votes


async def upload_sitting(
    session: AsyncSession,
    *,
    principal: Principal,
    scorecard_id: uuid.UUID,
    sitting: Sitting,
    request: Request,
    now: datetime,
) -> tuple[Scorecard, str]:
    """Store the sitting; returns the scorecard and what happened: created, replaced or
    unchanged."""
    fingerprint = digest(sitting)
    await repository.lock_sitting(session, scorecard_id)
    scorecard = await repository.get(session, scorecard_id)
    created = scorecard is None
    if scorecard is not None:
        require_in_jurisdiction(principal, scorecard.location_code, what="The scorecard")
        for name in ("cycle_id", "facility_id", "kind"):
            if str(getattr(scorecard, name)) != str(getattr(sitting, name)):
                raise Problem.invalid(name, "differs from the scorecard's; it cannot change")
        if scorecard.sitting_digest == fingerprint:
            return scorecard, "unchanged"
        if scorecard.status == ScorecardStatus.COMPLETED:
            raise Problem.conflict("The scorecard is completed: its sitting is locked.")
        if scorecard.sitting_digest is not None or request.headers.get("if-match"):
            require_if_match(request, scorecard.version)
        cycle = await cycles.cycle_for_recording(
            session, principal=principal, cycle_id=scorecard.cycle_id
        )
    else:
        cycle = await cycles.cycle_for_recording(
            session, principal=principal, cycle_id=sitting.cycle_id
        )
    facility = await cycles.facility_of_cycle(session, cycle=cycle, facility_id=sitting.facility_id)
    cycles.require_in_cycle_year(cycle, sitting.held_on, field="held_on")
    await require_facilitators(
        session, area=cycle.location_code, caf_ids=sitting.facilitator_caf_ids,
        field="facilitator_caf_ids",
    )  # fmt: skip
    version = scorecard.catalogue_version if scorecard else catalogue.CURRENT_VERSION
    participants, indicators, votes = _check_document(sitting, facility.facility_type, version)
    if scorecard is None:
        scorecard = Scorecard(
            id=scorecard_id, cycle_id=cycle.id, facility_id=facility.id,
            facility_type=facility.facility_type, location_code=cycle.location_code,
            year=cycle.year, kind=sitting.kind, status=ScorecardStatus.IN_PROGRESS,
            catalogue_version=version, created_by=principal.sub, created_at=now,
            updated_at=now,
        )  # fmt: skip
        repository.add(session, scorecard)
        await session.flush()
    await repository.replace_sitting(
        session,
        scorecard.id,
        participants=[{"scorecard_id": scorecard.id, **p.model_dump()} for p in participants],
        indicators=[
            {
                **{k: v for k, v in ind.items() if k != "scores"},
                "scorecard_id": scorecard.id,
                "votes": len(ind["scores"]),
                "median": median(ind["scores"]),
            }
            for ind in indicators
        ],
        votes=[{"scorecard_id": scorecard.id, **v.model_dump()} for v in votes],
    )
    scorecard.held_on = sitting.held_on
    scorecard.venue = sitting.venue
    scorecard.facilitator_caf_ids = list(sitting.facilitator_caf_ids)
    scorecard.participants_total = len(participants)
    scorecard.participants_female = sum(1 for p in participants if p.sex == "female")
    scorecard.sitting_digest = fingerprint
    scorecard.sitting_uploaded_at = now
    if scorecard.status == ScorecardStatus.PLANNED:
        scorecard.status = ScorecardStatus.IN_PROGRESS
    scorecard.updated_at = now
    await session.flush()
    return scorecard, "created" if created else "replaced"


async def change_status(
    session: AsyncSession,
    *,
    principal: Principal,
    scorecard: Scorecard,
    status: ScorecardStatus,
    now: datetime,
) -> Scorecard:
    current = ScorecardStatus(scorecard.status)
    if status not in SCORECARD_TRANSITIONS[current]:
        allowed = ", ".join(sorted(SCORECARD_TRANSITIONS[current])) or "none (it is locked)"
        raise cycles.transition_refused(
            "status", f"the scorecard is {current}; it may move to: {allowed}"
        )
    indicators = await repository.indicators_of(session, scorecard.id)
    if status in (ScorecardStatus.IN_REVIEW, ScorecardStatus.COMPLETED):
        if scorecard.sitting_digest is None:
            raise cycles.transition_refused("status", "no sitting was uploaded yet")
        if not any(i.selected and i.votes for i in indicators):
            raise cycles.transition_refused("status", "no selected indicator has votes")
    scorecard.status = status
    scorecard.updated_at = now
    if status == ScorecardStatus.COMPLETED:
        scorecard.completed_at = now
    await session.flush()
    if status == ScorecardStatus.COMPLETED:
        await emit(
            session,
            ScorecardCompleted(
                scorecard_id=scorecard.id, cycle_id=scorecard.cycle_id,
                facility_id=scorecard.facility_id, facility_type=scorecard.facility_type,
                kind=scorecard.kind, location_code=scorecard.location_code, year=scorecard.year,
                participants=scorecard.participants_total,
                participants_female=scorecard.participants_female,
                results=[
                    IndicatorResult(
                        code=i.code, name_en=i.name_en, name_km=i.name_km, votes=i.votes,
                        median=float(i.median) if i.median is not None else None,
                    )
                    for i in indicators
                    if i.selected
                ],
                completed_at=now,
            ),
            subject=scorecard.id, jurisdiction=scorecard.location_code, occurred_at=now,
        )  # fmt: skip
    return scorecard
