"""Staff routes: intake, reading, transitions, escalation, timeline, code lists.

Reads outside the caller's area answer 404 (the record is not theirs to know about);
changes to a grievance outside it answer 403. Transitions need `If-Match` with the ETag.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.grievance.access import GrievanceForChange, GrievanceRecorder
from services.grievance.codes import (
    CODE_LISTS,
    LABELS,
    Category,
    Channel,
    Status,
    label,
)
from services.grievance.grievances import repository as grievances
from services.grievance.grievances import service
from services.grievance.grievances.models import Grievance, TimelineEntry
from services.grievance.grievances.schemas import (
    Acknowledge,
    Close,
    CodeList,
    CodeListEntry,
    ComplainantRead,
    Escalate,
    GrievanceIntake,
    GrievanceRead,
    LinkHousehold,
    Reject,
    Resolve,
    StartWork,
    TimelineEntryCreate,
    TimelineEntryRead,
)
from services.grievance.grievances.tracking_code import display
from services.grievance.grievances.tracking_code import normalise as normalise_tracking_code
from services.grievance.routing import is_sensitive
from shared.clock import ClockDep
from shared.db import SessionDep
from shared.gazetteer import LocationCode
from shared.http.concurrency import set_etag
from shared.http.idempotency import IdempotencyDep
from shared.http.language import LanguageDep
from shared.http.pagination import Page, PageDep
from shared.http.params import IsoDateTime
from shared.principal import Principal, PrincipalDep
from shared.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(tags=["grievances"])

_READ = {k: PROBLEM_RESPONSES[k] for k in (404,)}
_WRITE = {k: PROBLEM_RESPONSES[k] for k in (403, 404, 409, 412, 428)}


def grievance_read(grievance: Grievance, principal: Principal) -> GrievanceRead:
    """The staff view. Callers log identity reads with `shown()` (or the service directly)."""
    own = service.handles(principal, grievance)
    complainant = None
    if service.identity_visible(principal, grievance):
        complainant = ComplainantRead(
            name=grievance.complainant_name,
            phone=grievance.complainant_phone,
            sex=grievance.complainant_sex,
            age_group=grievance.complainant_age_group,
            vulnerabilities=list(grievance.complainant_vulnerabilities or []),
        )
    return GrievanceRead(
        id=grievance.id,
        version=grievance.version,
        tracking_code=display(grievance.tracking_code) if own else None,
        channel=grievance.channel,
        category=grievance.category,
        sensitive=grievance.sensitive,
        programme_code=grievance.programme_code,
        location_code=grievance.location_code,
        description=grievance.description,
        household_id=grievance.household_id,
        member_id=grievance.member_id,
        anonymous=grievance.anonymous,
        complainant_visible=own,
        complainant=complainant,
        status=grievance.status,
        decision=grievance.decision,
        resolution_summary=grievance.resolution_summary,
        rejection_reason=grievance.rejection_reason,
        handling_tier=grievance.handling_tier,
        handling_admin_code=grievance.handling_admin_code,
        tier_entered_at=grievance.tier_entered_at,
        due_kind=grievance.due_kind,
        due_at=grievance.due_at,
        escalation_count=grievance.escalation_count,
        sla_breach_count=grievance.sla_breach_count,
        reopen_count=grievance.reopen_count,
        reopen_until=grievance.reopen_until,
        rating=grievance.rating,
        submitted_at=grievance.submitted_at,
        acknowledged_at=grievance.acknowledged_at,
        resolved_at=grievance.resolved_at,
        closed_at=grievance.closed_at,
        rejected_at=grievance.rejected_at,
    )


async def shown(
    session: AsyncSession,
    principal: Principal,
    rows: list[Grievance],
    *,
    purpose: str,
    now: datetime,
) -> list[GrievanceRead]:
    """The staff view of `rows`, with every complainant identity in it audit-logged."""
    await service.record_identity_reads(
        session, principal=principal, grievances_shown=rows, purpose=purpose, now=now
    )
    return [grievance_read(g, principal) for g in rows]


class Change:
    """A transition of one grievance: the grievance (loaded, its handling unit and If-Match
    checked: `GrievanceForChange`), who changes it, in which transaction, at what time."""

    def __init__(
        self,
        grievance: GrievanceForChange,
        session: SessionDep,
        principal: PrincipalDep,
        response: Response,
        clock: ClockDep,
    ) -> None:
        self.grievance = grievance
        self.session = session
        self.principal = principal
        self.response = response
        self.now = clock.now()

    async def apply(
        self, action: Callable[..., Awaitable[object]], purpose: str, **fields: Any
    ) -> GrievanceRead:
        """Run the service's `action` on the grievance, then answer with it (ETag set, the
        complainant identity's read logged under `purpose`)."""
        await action(
            self.session,
            principal=self.principal,
            grievance=self.grievance,
            now=self.now,
            **fields,
        )
        set_etag(self.response, self.grievance.version)
        [body] = await shown(
            self.session, self.principal, [self.grievance], purpose=purpose, now=self.now
        )
        return body


ChangeDep = Annotated[Change, Depends()]


@router.post(
    "/grievances",
    status_code=201,
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 409)},
    summary="Record a grievance received at an office, on the hotline or at a meeting",
)
async def record_grievance(
    intake: GrievanceIntake,
    session: SessionDep,
    principal: GrievanceRecorder,
    idempotency: IdempotencyDep,
    clock: ClockDep,
) -> GrievanceRead:
    """Staff record a grievance received in person, by phone or at a meeting. It is routed to the
    handling unit of its location (or of the household's commune), gets a tracking code for the
    complainant and starts its SLA clock. Send `Idempotency-Key` so a retry does not record it
    twice."""
    if idempotency.replay is not None:
        return idempotency.replay  # type: ignore[return-value]
    now = clock.now()
    grievance = await service.record_intake(session, principal=principal, intake=intake, now=now)
    [body] = await shown(session, principal, [grievance], purpose="record_grievance", now=now)
    return await idempotency.respond(  # type: ignore[return-value]
        201,
        body.model_dump(mode="json"),
        headers={"ETag": f'"{grievance.version}"', "Location": f"/grievances/{grievance.id}"},
    )


@router.get("/grievances", summary="Grievances in your area (cursor pages)")
async def list_grievances(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    clock: ClockDep,
    status: Status | None = None,
    category: Category | None = None,
    channel: Channel | None = None,
    location: Annotated[LocationCode | None, Query(description="A subtree of your area")] = None,
    submitted_from: IsoDateTime | None = None,
    submitted_to: IsoDateTime | None = None,
    tracking_code: Annotated[
        str | None,
        Query(
            max_length=40,
            description="The citizen's tracking code, as they read it out (any case, with or "
            "without dashes): the one grievance it names, if it is in your area.",
            examples=["K7M-2QX-9PRT"],
        ),
    ] = None,
) -> Page[GrievanceRead]:
    """Grievances handled in your area, newest first, one cursor page at a time. Filters: `status`,
    `category`, `channel`, `location` (a subtree of your area; outside it 404),
    `submitted_from`/`submitted_to`, and `tracking_code` (the code a citizen reads out).
    Complainant details are shown only to handlers of sensitive categories where the category is
    sensitive."""
    if location is not None and not principal.covers(location):
        raise Problem.not_found(f"The area {location}")
    code = None
    if tracking_code is not None:
        code = normalise_tracking_code(tracking_code)
        if code is None:  # not a code we issue: no grievance has it
            return Page(items=[], next_cursor=None, total=0, total_capped=False)
    filters = grievances.GrievanceFilter(
        status=status,
        category=category,
        channel=channel,
        location=location,
        submitted_from=submitted_from,
        submitted_to=submitted_to,
        tracking_code=code,
    )
    rows, cursor = await grievances.list_visible(session, principal, filters, page)
    items = await shown(session, principal, rows, purpose="list_grievances", now=clock.now())
    return Page(items=items, next_cursor=cursor)


@router.get("/grievances/{grievance_id}", responses=_READ, summary="One grievance")
async def get_grievance(
    grievance_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
    clock: ClockDep,
) -> GrievanceRead:
    """One grievance in your area, with its `ETag` to send as `If-Match` when acting on it."""
    grievance = await grievances.get_visible(session, principal, grievance_id)
    if grievance is None:
        raise Problem.not_found("The grievance")
    set_etag(response, grievance.version)
    [body] = await shown(session, principal, [grievance], purpose="get_grievance", now=clock.now())
    return body


@router.get(
    "/grievances/{grievance_id}/timeline",
    responses=_READ,
    summary="Status changes, public responses and (for staff) internal notes",
)
async def get_timeline(
    grievance_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Page[TimelineEntryRead]:
    """Everything that happened to the grievance, oldest first: status changes, public responses
    and, for staff, internal notes."""
    grievance = await grievances.get_visible(session, principal, grievance_id)
    if grievance is None:
        raise Problem.not_found("The grievance")
    rows, cursor = await grievances.timeline(session, grievance.id, public_only=False, page=page)
    return Page(items=[_entry(e) for e in rows], next_cursor=cursor)


def _entry(entry: TimelineEntry) -> TimelineEntryRead:
    return TimelineEntryRead.model_validate(entry, from_attributes=True)


@router.post(
    "/grievances/{grievance_id}/acknowledge", responses=_WRITE, summary="Acknowledge a grievance"
)
async def acknowledge_grievance(body: Acknowledge, change: ChangeDep) -> GrievanceRead:
    """The handling unit confirms it has the grievance (stops the acknowledgement clock); an
    optional public message is shown to the complainant."""
    return await change.apply(
        service.acknowledge,
        "acknowledge_grievance",
        public_message=body.public_message,
    )


@router.post(
    "/grievances/{grievance_id}/start", responses=_WRITE, summary="Start work on a grievance"
)
async def start_work_on_grievance(body: StartWork, change: ChangeDep) -> GrievanceRead:
    """Mark an acknowledged grievance as being worked on."""
    return await change.apply(
        service.start_work,
        "start_work_on_grievance",
        public_message=body.public_message,
    )


@router.post(
    "/grievances/{grievance_id}/resolve",
    responses=_WRITE,
    summary="Resolve a grievance with a decision",
)
async def resolve_grievance(body: Resolve, request: Request, change: ChangeDep) -> GrievanceRead:
    """Record the decision (upheld, partly upheld, not upheld, referred) and the answer the
    complainant reads. An upheld exclusion error asks the registry for a reassessment."""
    return await change.apply(
        service.resolve,
        "resolve_grievance",
        decision=body.decision,
        resolution_summary=body.resolution_summary,
        reopen_days=request.app.state.settings.reopen_days,
    )


@router.post("/grievances/{grievance_id}/reject", responses=_WRITE, summary="Reject a grievance")
async def reject_grievance(body: Reject, change: ChangeDep) -> GrievanceRead:
    """Refuse a grievance that is out of scope or abusive, with the reason the complainant reads."""
    return await change.apply(service.reject, "reject_grievance", reason=body.reason)


@router.post("/grievances/{grievance_id}/close", responses=_WRITE, summary="Close a grievance")
async def close_grievance(body: Close, change: ChangeDep) -> GrievanceRead:
    """Close a resolved or rejected grievance for good (the reopening period no longer applies)."""
    return await change.apply(service.close, "close_grievance", public_message=body.public_message)


@router.post(
    "/grievances/{grievance_id}/escalate",
    responses=_WRITE,
    summary="Escalate a grievance to the next level",
)
async def escalate_grievance(body: Escalate, change: ChangeDep) -> GrievanceRead:
    """Send the grievance to the next administrative level up (district, province, national), with
    a reason."""
    return await change.apply(service.escalate, "escalate_grievance", reason=body.reason)


@router.post(
    "/grievances/{grievance_id}/household",
    responses=_WRITE,
    summary="Link the grievance to a registry household found after intake",
    description="By household code (and optionally a member id), for the handling unit's "
    "handlers, while the grievance is open (409 `grievance-not-open` after it was resolved, "
    "rejected or closed). The household must be in your area and known to the registry "
    "(else 422 naming `household_code`); the grievance stays where it was filed. Needs "
    "If-Match. An internal timeline entry and `grievance.household_linked` record it; an "
    "upheld exclusion-error or data-correction decision then asks the registry to reassess "
    "this household.",
)
async def link_household(body: LinkHousehold, change: ChangeDep) -> GrievanceRead:
    return await change.apply(
        service.link_household,
        "link_household",
        household_code=body.household_code,
        member_id=body.member_id,
    )


@router.post(
    "/grievances/{grievance_id}/timeline",
    status_code=201,
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 404)},
    summary="Add a public response or an internal note",
)
async def add_timeline_entry(
    grievance_id: uuid.UUID,
    body: TimelineEntryCreate,
    session: SessionDep,
    principal: PrincipalDep,
    idempotency: IdempotencyDep,
    clock: ClockDep,
) -> TimelineEntryRead:
    """Add a public response (the complainant reads it with the tracking code) or an
    internal note."""
    if idempotency.replay is not None:
        return idempotency.replay  # type: ignore[return-value]
    grievance = await service.get_for_change(session, grievance_id)
    entry = await service.add_timeline_entry(
        session,
        principal=principal,
        grievance=grievance,
        kind=body.kind,
        text=body.text,
        now=clock.now(),
    )
    return await idempotency.respond(201, _entry(entry).model_dump(mode="json"))  # type: ignore[return-value]


@router.get(
    "/code-lists/{code_list}",
    summary="A code list with Khmer or English labels (Accept-Language: km | en)",
    responses=_READ,
)
async def get_code_list(
    code_list: Literal["categories", "channels", "statuses", "decisions", "tiers"],
    response: Response,
    language: LanguageDep,
) -> CodeList:
    """Kept for existing clients; `GET /grievance/reference/code-lists` serves every grievance code
    list with both labels and an ETag."""
    assert code_list in CODE_LISTS
    response.headers["Vary"] = "Accept-Language"
    items = [
        CodeListEntry(
            code=code,
            label=label(code_list, code, language),
            sensitive=is_sensitive(code) if code_list == "categories" else None,
        )
        for code in LABELS[code_list]
    ]
    return CodeList(code_list=code_list, language=language, items=items)
