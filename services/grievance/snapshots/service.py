"""The grievance snapshot: who may take one, and a page of it with its position."""

from __future__ import annotations

from services.grievance.snapshots import repository
from services.grievance.snapshots.schemas import GrievanceSnapshotPage, GrievanceState
from shared.db.engine import Database
from shared.events.catalog.grievance import GrievanceEvent
from shared.events.envelope import format_sequence
from shared.http.pagination import PageParams
from shared.principal import Principal
from shared.problems import Problem

CLIENT_SCOPE = "grievance.snapshot.read"


def _check_caller(principal: Principal) -> None:
    if principal.client:
        if not principal.has_scope(CLIENT_SCOPE):
            raise Problem.forbidden(f"Snapshots need the {CLIENT_SCOPE} scope.")
    elif principal.tier is None:
        raise Problem.forbidden("Snapshots are for grievance staff and authorised systems.")


async def grievance_snapshot(
    database: Database, *, principal: Principal, page: PageParams
) -> GrievanceSnapshotPage:
    """The position first (a short transaction holding the outbox lock for one statement),
    then the page, which reflects at least every change up to it."""
    _check_caller(principal)
    async with database.transaction() as session:
        position, taken_at = await repository.outbox_position(session)
    async with database.transaction() as session:
        rows, next_cursor = await repository.grievance_states(
            session, principal=principal, page=page
        )
    return GrievanceSnapshotPage(
        position=format_sequence(position),
        taken_at=taken_at,
        topics=[GrievanceEvent.topic()],
        items=[
            GrievanceState(
                grievance_id=row.id,
                category=row.category,
                location_code=row.location_code,
                handling_tier=row.handling_tier,
                handling_admin_code=row.handling_admin_code,
                status=row.status,
                decision=row.decision,
                household_id=row.household_id,
                member_id=row.member_id,
                reopen_count=row.reopen_count,
                rating=row.rating,
            )
            for row in rows
        ],
        next_cursor=next_cursor,
    )
