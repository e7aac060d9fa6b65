"""The snapshot service: who may take one, and a page of it with the position it reflects."""

from __future__ import annotations

from services.registry.snapshots import repository
from services.registry.snapshots.schemas import HouseholdSnapshotPage, HouseholdState
from shared.db.engine import Database
from shared.events.catalog.registry import HouseholdEvent, MemberEvent
from shared.events.envelope import format_sequence
from shared.http.pagination import PageParams
from shared.principal import Principal
from shared.problems import Problem

CLIENT_SCOPE = "registry.snapshot.read"
HOUSEHOLD_TOPICS = sorted({HouseholdEvent.topic(), MemberEvent.topic()})


def _check_caller(principal: Principal) -> None:
    if principal.client:
        if not principal.has_scope(CLIENT_SCOPE):
            raise Problem.forbidden(f"Snapshots need the {CLIENT_SCOPE} scope.")
    elif principal.tier is None:
        raise Problem.forbidden("Snapshots are for registry staff and authorised systems.")


async def household_snapshot(
    database: Database, *, principal: Principal, page: PageParams
) -> HouseholdSnapshotPage:
    """A page of household states and the position it reflects. Two transactions: the
    position first (a short one, which holds the outbox lock only for its own statement),
    then the page, which sees at least every change up to that position (and maybe later
    ones: the subscriber's replay from the position makes those agree again)."""
    _check_caller(principal)
    async with database.transaction() as session:
        position, taken_at = await repository.outbox_position(session)
    async with database.transaction() as session:
        rows, next_cursor = await repository.household_states(
            session, principal=principal, page=page
        )
    return HouseholdSnapshotPage(
        position=format_sequence(position),
        taken_at=taken_at,
        topics=HOUSEHOLD_TOPICS,
        items=[
            HouseholdState(
                household_id=row.id,
                household_code=row.code,
                village_code=row.village_code,
                status=row.status,
                record_version=row.version,
                poverty_level=row.poverty_level,
                member_ids=row.member_ids,
            )
            for row in rows
        ],
        next_cursor=next_cursor,
    )
