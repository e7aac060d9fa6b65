"""Routes of the grievance snapshot: translate the query and the answer, nothing else."""

from __future__ import annotations

from fastapi import APIRouter

from services.grievance.snapshots import service
from services.grievance.snapshots.schemas import GrievanceSnapshotPage
from shared.db import DatabaseDep
from shared.http.pagination import PageDep
from shared.principal import PrincipalDep
from shared.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/snapshots", tags=["snapshots"])


@router.get(
    "/grievances",
    response_model=GrievanceSnapshotPage,
    summary="Snapshot of every grievance's state, for a new subscriber",
    description=(
        "The state the grievance events keep current (category, location, handling unit, "
        "status, decision, linked household and member, reopen count, rating), one cursor "
        "page at a time by grievance id, with the outbox `position` the page reflects. To "
        "build a read model: read every page, keep the smallest `position`, then consume "
        "`sp.grievance.grievance` and apply, in `sequence` order, the events whose `sequence` "
        "is greater. Machine clients holding `grievance.snapshot.read` read every grievance; "
        "national staff what they may read (sensitive ones with `grievance.sensitive`). No "
        "complainant, description or tracking code."
    ),
    responses={
        200: {"description": "One page of grievance states and the position it reflects."},
        400: PROBLEM_RESPONSES[400],
        401: PROBLEM_RESPONSES[401],
        403: PROBLEM_RESPONSES[403],
        422: PROBLEM_RESPONSES[422],
    },
)
async def grievance_snapshot(
    database: DatabaseDep, principal: PrincipalDep, page: PageDep
) -> GrievanceSnapshotPage:
    return await service.grievance_snapshot(database, principal=principal, page=page)
