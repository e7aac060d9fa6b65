"""Every query on grievances and their timelines.

What a staff principal may read is decided here, once: the grievance's location must lie in
the principal's area (`jurisdiction_filter`) and a sensitive grievance needs the role
`grievance.sensitive`. Writes load the grievance unfiltered, so the service can answer 403
(outside your area) instead of 404 to a handler who names a grievance they cannot change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, bindparam, false, func, or_, select, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from services.grievance import roles
from services.grievance.codes import OPEN_STATUSES
from services.grievance.grievances.models import (
    Grievance,
    PersonalDataAccess,
    PublicLookupFailure,
    TimelineEntry,
)
from shared.http.pagination import PageParams, paginate
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal
from shared.tiers import tier_for_code


def visible_to(principal: Principal) -> ColumnElement[bool]:
    """Grievances `principal` may read: in its area, and sensitive ones only with the role."""
    sensitive_ok = (
        true() if principal.has_role(roles.SENSITIVE) else Grievance.sensitive.is_(false())
    )
    return and_(jurisdiction_filter(principal, Grievance.location_code), sensitive_ok)


async def get_visible(
    session: AsyncSession, principal: Principal, grievance_id: uuid.UUID
) -> Grievance | None:
    statement = select(Grievance).where(Grievance.id == grievance_id, visible_to(principal))
    return (await session.execute(statement)).scalar_one_or_none()


async def get(session: AsyncSession, grievance_id: uuid.UUID) -> Grievance | None:
    """Unfiltered, for writes: the service checks jurisdiction and answers 403."""
    return await session.get(Grievance, grievance_id)


async def get_by_tracking_code(session: AsyncSession, code: str) -> Grievance | None:
    statement = select(Grievance).where(Grievance.tracking_code == code)
    return (await session.execute(statement)).scalar_one_or_none()


_TIMELINE_INSERT_COLUMNS = (
    "grievance_id",
    "occurred_at",
    "kind",
    "public",
    "text",
    "actor",
    "details",
)


def _insert_new_statement():
    # Built once with a bind parameter per column: building it per request (coercing forty
    # values into a fresh statement) was about a sixth of the service's CPU per submission.
    grievance_table, timeline_table = Grievance.__table__, TimelineEntry.__table__
    inserted = (
        insert(grievance_table)
        .values({c.name: bindparam(c.name, type_=c.type) for c in grievance_table.columns})
        .on_conflict_do_nothing(index_elements=[grievance_table.c.tracking_code])
        .returning(grievance_table.c.id)
        .cte("inserted")
    )
    entry_values = [
        bindparam(f"entry_{name}", type_=timeline_table.c[name].type)
        for name in _TIMELINE_INSERT_COLUMNS[1:]
    ]
    return (
        insert(timeline_table)
        .from_select(list(_TIMELINE_INSERT_COLUMNS), select(inserted.c.id, *entry_values))
        .returning(timeline_table.c.seq)
    )


_INSERT_NEW = _insert_new_statement()


async def insert_new(session: AsyncSession, grievance: Grievance, entry: TimelineEntry) -> bool:
    """Insert a new grievance and its first timeline entry in one statement, or nothing when
    its tracking code is taken (False: draw another). The grievance then belongs to the
    session as if loaded, so later changes in the same transaction are ordinary UPDATEs.

    One round trip instead of a lookup of the code, the grievance INSERT and the timeline
    INSERT: this is the public submission's hot path."""
    parameters = {c.name: getattr(grievance, c.name) for c in Grievance.__table__.columns}
    for name in _TIMELINE_INSERT_COLUMNS[1:]:
        parameters[f"entry_{name}"] = getattr(entry, name)
    seq = (await session.execute(_INSERT_NEW, parameters)).scalar_one_or_none()
    if seq is None:
        return False
    entry.seq = seq
    make_transient_to_detached(grievance)
    session.add(grievance)
    return True


def add_timeline_entry(session: AsyncSession, entry: TimelineEntry) -> None:
    session.add(entry)


def add_access_records(session: AsyncSession, records: list[PersonalDataAccess]) -> None:
    session.add_all(records)


@dataclass(frozen=True)
class GrievanceFilter:
    status: str | None = None
    category: str | None = None
    channel: str | None = None
    location: str | None = None
    handling_admin_code: str | None = None
    submitted_from: datetime | None = None
    submitted_to: datetime | None = None
    tracking_code: str | None = None


async def list_visible(
    session: AsyncSession, principal: Principal, filters: GrievanceFilter, page: PageParams
) -> tuple[list[Grievance], str | None]:
    return await paginate(
        session,
        _visible(principal, filters),
        order_by=[Grievance.submitted_at, Grievance.id],
        page=page,
    )


def _visible(principal: Principal, filters: GrievanceFilter) -> Select:
    statement = select(Grievance).where(visible_to(principal))
    if filters.tracking_code:
        statement = statement.where(Grievance.tracking_code == filters.tracking_code)
    if filters.status:
        statement = statement.where(Grievance.status == filters.status)
    if filters.category:
        statement = statement.where(Grievance.category == filters.category)
    if filters.channel:
        statement = statement.where(Grievance.channel == filters.channel)
    if filters.location:
        statement = statement.where(within(filters.location))
    if filters.handling_admin_code is not None:
        statement = statement.where(Grievance.handling_admin_code == filters.handling_admin_code)
    if filters.submitted_from:
        statement = statement.where(Grievance.submitted_at >= filters.submitted_from)
    if filters.submitted_to:
        statement = statement.where(Grievance.submitted_at < filters.submitted_to)
    return statement


def within(location: str) -> ColumnElement[bool]:
    """Narrowing to a subtree inside the caller's area: the same prefix rule as jurisdiction,
    applied through the shared helper with a stand-in principal for that area."""
    tier = tier_for_code(location)
    if tier is None:  # a village has no administration: its grievances sit at its code
        return Grievance.location_code == location
    area = Principal(sub=f"area:{location}", tier=tier, admin_code=location)
    return jurisdiction_filter(area, Grievance.location_code)


async def worklist(
    session: AsyncSession,
    principal: Principal,
    *,
    kind: str,
    now: datetime,
    due_soon_until: datetime,
    category: str | None,
    page: PageParams,
) -> tuple[list[Grievance], str | None]:
    """Open grievances handled by the principal's own unit: all, overdue, or about to breach."""
    statement = select(Grievance).where(
        visible_to(principal),
        Grievance.handling_admin_code == principal.admin_code,
        Grievance.handling_tier == (principal.tier.value if principal.tier else ""),
        Grievance.status.in_([s.value for s in OPEN_STATUSES]),
    )
    if category:
        statement = statement.where(Grievance.category == category)
    if kind == "assigned":
        order_by = [Grievance.submitted_at, Grievance.id]
    else:
        if kind == "overdue":
            # Breached at the national tier: no deadline left, still overdue.
            statement = statement.where(
                or_(
                    Grievance.due_at <= now,
                    and_(Grievance.due_at.is_(None), Grievance.sla_breach_count > 0),
                )
            )
            order_by = [Grievance.submitted_at, Grievance.id]
        else:  # due_soon
            statement = statement.where(Grievance.due_at > now, Grievance.due_at <= due_soon_until)
            order_by = [Grievance.due_at, Grievance.id]
    return await paginate(session, statement, order_by=order_by, page=page)


async def timeline(
    session: AsyncSession, grievance_id: uuid.UUID, *, public_only: bool, page: PageParams
) -> tuple[list[TimelineEntry], str | None]:
    statement = select(TimelineEntry).where(TimelineEntry.grievance_id == grievance_id)
    if public_only:
        statement = statement.where(TimelineEntry.public.is_(True))
    return await paginate(session, statement, order_by=[TimelineEntry.seq], page=page)


async def public_timeline(session: AsyncSession, grievance_id: uuid.UUID) -> list[TimelineEntry]:
    statement = (
        select(TimelineEntry)
        .where(TimelineEntry.grievance_id == grievance_id, TimelineEntry.public.is_(True))
        .order_by(TimelineEntry.seq)
        .limit(200)
    )
    return list((await session.execute(statement)).scalars())


async def record_lookup_failure(session: AsyncSession, client_key: str, window: datetime) -> int:
    """Count one failed tracking-code lookup; returns the failures in this window."""
    statement = (
        insert(PublicLookupFailure)
        .values(client_key=client_key, window_start=window, failures=1)
        .on_conflict_do_update(
            index_elements=[PublicLookupFailure.client_key, PublicLookupFailure.window_start],
            set_={"failures": PublicLookupFailure.failures + 1},
        )
        .returning(PublicLookupFailure.failures)
    )
    return int((await session.execute(statement)).scalar_one())


async def lookup_failures(session: AsyncSession, client_key: str, window: datetime) -> int:
    value = await session.scalar(
        select(func.coalesce(func.max(PublicLookupFailure.failures), 0)).where(
            PublicLookupFailure.client_key == client_key,
            PublicLookupFailure.window_start == window,
        )
    )
    return int(value or 0)


async def claiming(session: AsyncSession, household_code: str) -> list[Grievance]:
    """Open grievances that named this household code before it was known, for update."""
    statement = (
        select(Grievance)
        .where(
            Grievance.claimed_household_code == household_code,
            Grievance.household_id.is_(None),
            Grievance.status.in_([s.value for s in OPEN_STATUSES]),
        )
        .with_for_update()
    )
    return list((await session.execute(statement)).scalars())


async def find_by_forum_issue(session: AsyncSession, forum_issue_id: uuid.UUID) -> Grievance | None:
    """The grievance logged for an I-SAF forum issue, if one was (its first timeline entry
    names the issue)."""
    statement = (
        select(Grievance)
        .join(TimelineEntry, TimelineEntry.grievance_id == Grievance.id)
        .where(
            Grievance.channel == "public_forum",
            TimelineEntry.details["forum_issue_id"].astext == str(forum_issue_id),
        )
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()
