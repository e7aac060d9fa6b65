"""Routes of the snapshots: translate the query and the answer, nothing else."""

from __future__ import annotations

from fastapi import APIRouter

from services.registry.snapshots import service
from services.registry.snapshots.schemas import HouseholdSnapshotPage
from shared.db import DatabaseDep
from shared.http.pagination import PageDep
from shared.principal import PrincipalDep
from shared.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/snapshots", tags=["snapshots"])


@router.get(
    "/households",
    response_model=HouseholdSnapshotPage,
    summary="Snapshot of every household and its members, for a new subscriber",
    description=(
        "The state the household and member events keep current (code, village, status, "
        "version, IDPoor level, active member ids), one cursor page at a time by household "
        "id, with the outbox `position` the page reflects. To build a read model: read every "
        "page (`cursor` from `next_cursor`), keep the smallest `position`, then consume "
        "`sp.registry.household` and `sp.registry.member` and apply, in `sequence` order, "
        "the events whose `sequence` is greater than it (an event the snapshot already "
        "reflects applies again to the same result). Nationwide for machine clients holding "
        "`registry.snapshot.read` and for national staff. No names or personal data."
    ),
    responses={
        200: {"description": "One page of household states and the position it reflects."},
        400: PROBLEM_RESPONSES[400],
        401: PROBLEM_RESPONSES[401],
        403: PROBLEM_RESPONSES[403],
        422: PROBLEM_RESPONSES[422],
    },
)
async def household_snapshot(
    database: DatabaseDep, principal: PrincipalDep, page: PageDep
) -> HouseholdSnapshotPage:
    return await service.household_snapshot(database, principal=principal, page=page)
