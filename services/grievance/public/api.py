"""Citizen routes (no login): submit, track by code, reopen, rate.

Nothing personal leaves here: no complainant data, no description, no internal notes, no
staff names. An unknown code and a malformed or mistyped one get the same 404 body, and a
client with too many failed lookups in an hour gets 429 for every lookup until the hour
ends (the gateway limits requests per IP as well), so codes cannot be enumerated.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from services.grievance.codes import Status, label
from services.grievance.grievances import repository as grievances
from services.grievance.grievances import service
from services.grievance.grievances.models import Grievance
from services.grievance.grievances.tracking_code import display, normalise
from services.grievance.households import repository as households
from services.grievance.public.schemas import (
    PublicGrievance,
    PublicSubmission,
    PublicTimelineEntry,
    Rating,
    Reopen,
    SubmissionReceipt,
)
from shared.clock import ClockDep
from shared.db import SessionDep
from shared.gazetteer import get_gazetteer
from shared.http.idempotency import HEADER as IDEMPOTENCY_HEADER
from shared.http.idempotency import IdempotencyDep
from shared.http.language import Language, preferred_language
from shared.problems import PROBLEM_RESPONSES, Problem, field_error

router = APIRouter(prefix="/public", tags=["public"])

NOT_FOUND_DETAIL = "No grievance has this tracking code."
_CODE_RESPONSES = {k: PROBLEM_RESPONSES[k] for k in (404, 409)}


def _not_found() -> Problem:
    # One body for unknown, mistyped and malformed codes alike.
    return Problem(404, NOT_FOUND_DETAIL)


def client_key(request: Request) -> str:
    """Who is looking (hashed): the address the gateway saw, the last X-Forwarded-For hop."""
    forwarded = request.headers.get("x-forwarded-for")
    address = (
        forwarded.split(",")[-1].strip()
        if forwarded
        else (request.client.host if request.client else "?")
    )
    return hashlib.sha256(address.encode()).hexdigest()[:32]


async def _find(session: AsyncSession, request: Request, raw_code: str, now: datetime) -> Grievance:
    settings = request.app.state.settings
    key = client_key(request)
    window = now.replace(minute=0, second=0, microsecond=0)
    if (
        await grievances.lookup_failures(session, key, window)
        >= settings.tracking_failures_per_hour
    ):
        raise Problem(
            429,
            "Too many unknown tracking codes from your connection; try again later.",
            headers={"Retry-After": str(int((window + timedelta(hours=1) - now).total_seconds()))},
        )
    code = normalise(raw_code) if len(raw_code) <= 32 else None
    grievance = await grievances.get_by_tracking_code(session, code) if code else None
    if grievance is None:
        # Counted in its own transaction: the request's rolls back with the 404.
        async with request.app.state.database.transaction() as counting:
            await grievances.record_lookup_failure(counting, key, window)
        raise _not_found()
    return grievance


def same_commune(village_code: str, location_code: str) -> bool:
    """Whether a village lies in the commune of a commune (6 digits) or village (8) code."""
    return len(location_code) >= 6 and village_code[:6] == location_code[:6]


def public_view(grievance: Grievance, timeline, language: str = "en") -> PublicGrievance:
    unit = (
        get_gazetteer().get(grievance.handling_admin_code)
        if grievance.handling_admin_code
        else None
    )
    can_reopen = (
        grievance.status in (Status.RESOLVED, Status.CLOSED) and grievance.reopen_until is not None
    )
    return PublicGrievance(
        tracking_code=display(grievance.tracking_code),
        category=grievance.category,
        category_label=label("categories", grievance.category, language),
        status=grievance.status,
        status_label=label("statuses", grievance.status, language),
        handled_by_tier=grievance.handling_tier,
        handled_by_tier_label=label("tiers", grievance.handling_tier, language),
        handled_by=(unit.name_km if language == "km" else unit.name_en) if unit else None,
        submitted_at=grievance.submitted_at,
        acknowledged_at=grievance.acknowledged_at,
        resolved_at=grievance.resolved_at,
        decision=grievance.decision,
        decision_label=label("decisions", grievance.decision, language)
        if grievance.decision
        else None,
        resolution_summary=grievance.resolution_summary,
        rejection_reason=grievance.rejection_reason,
        reopen_until=grievance.reopen_until if can_reopen else None,
        rating=grievance.rating,
        timeline=[
            PublicTimelineEntry(
                kind=e.kind,
                occurred_at=e.occurred_at,
                # Only staff-written public texts; a complainant's reopening reason stays in.
                text=e.text if e.actor != service.COMPLAINANT else None,
                to_tier=(e.details or {}).get("to_tier"),
            )
            for e in timeline
        ],
    )


def _language(request: Request) -> Language:
    return preferred_language(request.headers.get("accept-language"))


@router.post(
    "/grievances",
    status_code=201,
    responses={k: PROBLEM_RESPONSES[k] for k in (400, 422)},
    summary="Submit a grievance or feedback (anonymous allowed); returns the tracking code",
)
async def submit_grievance(
    submission: PublicSubmission,
    request: Request,
    session: SessionDep,
    idempotency: IdempotencyDep,
    clock: ClockDep,
) -> SubmissionReceipt:
    """A citizen submits a grievance or feedback, with a name and phone or anonymously. The
    answer's tracking code is the only way to follow it; keep it. Rate-limited per client
    address."""
    if idempotency.key is not None and len(idempotency.key) < 16:
        # Every citizen is the same anonymous principal: only a random key cannot collide.
        raise Problem(
            400,
            "On public routes the Idempotency-Key must be a random value of 16+ characters.",
            errors=[field_error(["header", IDEMPOTENCY_HEADER], "too short")],
        )
    if idempotency.replay is not None:
        return idempotency.replay  # type: ignore[return-value]
    now = clock.now()
    location, household_id, claimed = submission.location_code, None, None
    if submission.household_code:
        household = await households.get_by_code(session, submission.household_code)
        # Only a household in the commune the citizen named is linked: routing by the code
        # alone would show, in `handled_by`, which commune a code belongs to and whether it
        # exists, and codes are sequential (an oracle listing poor households by commune).
        if household is not None and same_commune(household.village_code, location):
            location, household_id = household.village_code, household.household_id
        elif household is None:
            # Not announced yet: linked when the household's event arrives (same rule).
            claimed = submission.household_code
    grievance = await service.submit(
        session,
        intake=submission,
        channel=submission.channel,
        location_code=location,
        household_id=household_id,
        member_id=None,
        submitted_by=None,
        now=now,
        claimed_household_code=claimed,
    )
    receipt = SubmissionReceipt(
        tracking_code=display(grievance.tracking_code),
        status=grievance.status,
        submitted_at=grievance.submitted_at,
        handled_by_tier=grievance.handling_tier,
    )
    return await idempotency.respond(201, receipt.model_dump(mode="json"))  # type: ignore[return-value]


@router.get(
    "/grievances/{tracking_code}",
    responses=_CODE_RESPONSES,
    summary="Track a grievance by its code: status, public responses, decision",
)
async def track_grievance(
    tracking_code: Annotated[str, Field(max_length=64)],
    request: Request,
    session: SessionDep,
    clock: ClockDep,
) -> PublicGrievance:
    """What a citizen may know about their grievance by its tracking code: status, public responses
    and the decision. No personal data; an unknown code is 404."""
    grievance = await _find(session, request, tracking_code, clock.now())
    timeline = await grievances.public_timeline(session, grievance.id)
    return public_view(grievance, timeline, _language(request))


@router.post(
    "/grievances/{tracking_code}/reopen",
    responses=_CODE_RESPONSES,
    summary="Reopen a resolved grievance within the reopening period",
)
async def reopen_grievance(
    tracking_code: str, body: Reopen, request: Request, session: SessionDep, clock: ClockDep
) -> PublicGrievance:
    """A complainant not satisfied with the answer reopens a resolved grievance within the
    reopening period, saying why."""
    now = clock.now()
    grievance = await _find(session, request, tracking_code, now)
    await service.reopen(session, grievance=grievance, reason=body.reason, now=now)
    timeline = await grievances.public_timeline(session, grievance.id)
    return public_view(grievance, timeline, _language(request))


@router.post(
    "/grievances/{tracking_code}/rating",
    responses=_CODE_RESPONSES,
    summary="Rate the handling from 1 (very bad) to 5 (very good) once it is resolved",
)
async def rate_grievance(
    tracking_code: str, body: Rating, request: Request, session: SessionDep, clock: ClockDep
) -> PublicGrievance:
    """Once resolved, the complainant rates the handling once, from 1 (very bad) to 5
    (very good)."""
    now = clock.now()
    grievance = await _find(session, request, tracking_code, now)
    await service.rate(session, grievance=grievance, rating=body.rating, now=now)
    timeline = await grievances.public_timeline(session, grievance.id)
    return public_view(grievance, timeline, _language(request))
