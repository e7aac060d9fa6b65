"""Staff routes of scorecards: planning, the offline sitting upload, progress, reading.

`PUT /scorecards/{scorecard_id}/sitting` is the tablet's one call: it creates the scorecard
under the tablet's id if the server has none, and always answers what the server now holds
(the document, the medians, the digest and the ETag), so the tablet can reconcile.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from services.isaf.access import Reader, Recorder
from services.isaf.codes import ScorecardKind, ScorecardStatus
from services.isaf.scorecards import repository, service
from services.isaf.scorecards.models import Scorecard
from services.isaf.scorecards.schemas import (
    IndicatorRead,
    ParticipantIn,
    ScorecardPlan,
    ScorecardRead,
    Sitting,
    StatusChange,
    VoteIn,
)
from shared.clock import ClockDep
from shared.db import SessionDep
from shared.gazetteer import LocationCode
from shared.http.concurrency import for_change, set_etag
from shared.http.pagination import Page, PageDep
from shared.jurisdiction import require_in_jurisdiction
from shared.principal import PrincipalDep
from shared.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(tags=["scorecards"])

_READ = {k: PROBLEM_RESPONSES[k] for k in (404,)}
_WRITE = {k: PROBLEM_RESPONSES[k] for k in (403, 404, 409, 412, 428)}


def scorecard_read(scorecard: Scorecard, sitting=None) -> ScorecardRead:
    participants, indicators, votes = sitting or ([], [], [])
    return ScorecardRead(
        id=scorecard.id, version=scorecard.version, cycle_id=scorecard.cycle_id,
        facility_id=scorecard.facility_id, facility_type=scorecard.facility_type,
        location_code=scorecard.location_code, year=scorecard.year, kind=scorecard.kind,
        status=scorecard.status, catalogue_version=scorecard.catalogue_version,
        held_on=scorecard.held_on, venue=scorecard.venue,
        facilitator_caf_ids=list(scorecard.facilitator_caf_ids or []),
        participants_total=scorecard.participants_total,
        participants_female=scorecard.participants_female,
        sitting_digest=scorecard.sitting_digest,
        sitting_uploaded_at=scorecard.sitting_uploaded_at, completed_at=scorecard.completed_at,
        participants=[
            ParticipantIn(
                id=p.id, sex=p.sex, age_band=p.age_band, disability=p.disability,
                ethnic_minority=p.ethnic_minority, youth=p.youth, idpoor=p.idpoor,
            )
            for p in participants
        ],
        indicators=[
            IndicatorRead(
                id=i.id, source=i.source, code=i.code, name_km=i.name_km, name_en=i.name_en,
                selected=i.selected, votes=i.votes,
                median=float(i.median) if i.median is not None else None,
                strengths=i.strengths, weaknesses=i.weaknesses,
                suggested_actions=i.suggested_actions,
            )
            for i in indicators
        ],
        votes=[
            VoteIn(participant_id=v.participant_id, indicator_id=v.indicator_id, score=v.score)
            for v in votes
        ],
    )  # fmt: skip


@router.post(
    "/scorecards",
    status_code=201,
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 404, 409)},
    summary="Plan a community scorecard or self-assessment of a facility in a cycle",
)
async def plan_scorecard(
    body: ScorecardPlan, session: SessionDep, principal: Recorder, clock: ClockDep,
    response: Response,
) -> ScorecardRead:  # fmt: skip
    scorecard = await service.plan(session, principal=principal, body=body, now=clock.now())
    set_etag(response, scorecard.version)
    return scorecard_read(scorecard)


@router.put(
    "/scorecards/{scorecard_id}/sitting",
    responses={201: {"description": "The scorecard was created by this upload"}, **_WRITE},
    summary="Upload a sitting recorded offline (idempotent; answers what the server holds)",
    description="The whole sitting in one document with the tablet's ids: participants "
    "(profiles, no names), indicators (standard and raised by participants, selected or "
    "not), votes (1-5, one per participant per indicator). The same document twice changes "
    "nothing (200, same digest and ETag). A corrected document replaces the stored one before "
    "completion only, under If-Match (428 without, 412 stale); after completion 409. Nothing "
    "is written unless the whole document is valid. The median rule for an even number of "
    "votes: the mean of the two middle votes, one decimal.",
)
async def upload_sitting(
    scorecard_id: uuid.UUID,
    sitting: Sitting,
    request: Request,
    session: SessionDep,
    principal: Recorder,
    clock: ClockDep,
    response: Response,
) -> ScorecardRead:
    scorecard, outcome = await service.upload_sitting(
        session, principal=principal, scorecard_id=scorecard_id, sitting=sitting,
        request=request, now=clock.now(),
    )  # fmt: skip
    if outcome == "created":
        response.status_code = 201
    response.headers["X-Sitting-Outcome"] = outcome
    set_etag(response, scorecard.version)
    return scorecard_read(scorecard, await repository.sitting(session, scorecard.id))


@router.get("/scorecards", summary="Scorecards in your area (cursor pages, without sittings)")
async def list_scorecards(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    cycle_id: uuid.UUID | None = None,
    kind: ScorecardKind | None = None,
    status: ScorecardStatus | None = None,
    location: LocationCode | None = None,
) -> Page[ScorecardRead]:
    rows, cursor = await repository.list_visible(
        session, principal, cycle_id=cycle_id, kind=kind, status=status, location=location,
        page=page,
    )  # fmt: skip
    return Page(items=[scorecard_read(s) for s in rows], next_cursor=cursor)


@router.get(
    "/scorecards/{scorecard_id}",
    responses=_READ,
    summary="One scorecard with its sitting, votes and medians",
)
async def get_scorecard(
    scorecard_id: uuid.UUID, session: SessionDep, principal: Reader, response: Response
) -> ScorecardRead:
    scorecard = await repository.get_visible(session, principal, scorecard_id)
    if scorecard is None:
        raise Problem.not_found("The scorecard")
    set_etag(response, scorecard.version)
    return scorecard_read(scorecard, await repository.sitting(session, scorecard.id))


async def _scorecard_to_change(
    scorecard_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Scorecard:
    scorecard = await repository.get(session, scorecard_id)
    if scorecard is None:
        raise Problem.not_found("The scorecard")
    require_in_jurisdiction(principal, scorecard.location_code, what="The scorecard")
    return scorecard


ScorecardForChange = Annotated[Scorecard, Depends(for_change(_scorecard_to_change))]


@router.post(
    "/scorecards/{scorecard_id}/status",
    responses=_WRITE,
    summary="Move a scorecard on: in_progress -> in_review -> completed (locked)",
    description="in_review may go back to in_progress for corrections. Completing needs votes "
    "on a selected indicator, locks the sitting and emits isaf.scorecard.completed. Needs "
    "If-Match.",
)
async def change_scorecard_status(
    body: StatusChange,
    principal: Recorder,
    scorecard: ScorecardForChange,
    session: SessionDep,
    clock: ClockDep,
    response: Response,
) -> ScorecardRead:
    await service.change_status(
        session, principal=principal, scorecard=scorecard, status=body.status, now=clock.now()
    )
    set_etag(response, scorecard.version)
    return scorecard_read(scorecard, await repository.sitting(session, scorecard.id))
