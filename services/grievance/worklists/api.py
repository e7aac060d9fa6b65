"""Handlers' worklists: what waits for my unit, what is overdue, what is about to breach.

Only grievances handled by the caller's own unit appear (a district does not see the
communes' queues here; it reads them through `/grievances?location=`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, Request

from services.grievance.codes import Category
from services.grievance.grievances import repository as grievances
from services.grievance.grievances.api import shown
from services.grievance.grievances.schemas import GrievanceRead
from shared.clock import ClockDep
from shared.db import SessionDep
from shared.http.pagination import Page, PageDep
from shared.principal import PrincipalDep

router = APIRouter(prefix="/worklists", tags=["worklists"])


@router.get("/{kind}", summary="Open grievances of my unit: assigned, overdue or due-soon")
async def worklist(
    kind: Literal["assigned", "overdue", "due-soon"],
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    clock: ClockDep,
    category: Category | None = None,
) -> Page[GrievanceRead]:
    """The open grievances your unit must act on: `assigned` (all open), `overdue` (past their SLA)
    or `due-soon` (within a day of it), most urgent first."""
    now = clock.now()
    hours = request.app.state.settings.due_soon_hours
    rows, cursor = await grievances.worklist(
        session,
        principal,
        kind=kind.replace("-", "_"),
        now=now,
        due_soon_until=now + timedelta(hours=hours),
        category=category,
        page=page,
    )
    items = await shown(session, principal, rows, purpose=f"worklist_{kind}", now=now)
    return Page(items=items, next_cursor=cursor)
