"""Planning and recording releases: by the allocating unit, never beyond the allocation."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.budget import roles
from services.budget.access import require_unit
from services.budget.allocations import repository as runs
from services.budget.releases import repository
from services.budget.releases.models import Release
from shared import clock
from shared.events.catalog.budget import ReleasePlanned, ReleaseRecorded
from shared.outbox import emit
from shared.principal import Principal
from shared.problems import INVALID_TRANSITION, Problem, field_error


async def plan(
    session: AsyncSession,
    *,
    principal: Principal,
    run_id: uuid.UUID,
    admin_code: str,
    amount_riel: int,
    planned_on: date,
) -> Release:
    run = await runs.get_visible(session, principal, run_id)
    if run is None:
        raise Problem.invalid("run_id", "no allocation run with this id in your area", status=404)
    require_unit(principal, run.allocating_admin_code, what="Releasing this allocation")
    roles.PLANNING.check(principal)
    if run.status != "published":
        raise Problem.invalid("run_id", f"the run is {run.status}; only published runs release")
    unit = await runs.unit(session, run.id, admin_code)
    if unit is None:
        raise Problem.invalid("admin_code", f"{admin_code} received nothing in this run")
    tranches = await repository.tranches(session, run.id, admin_code)
    already = sum(t.amount_riel for t in tranches)
    if already + amount_riel > unit.amount_riel:
        raise Problem(
            422,
            f"Releasing {amount_riel} riel to {admin_code} would exceed its allocation: "
            f"{unit.amount_riel} riel allocated, {already} riel already in tranches, "
            f"{unit.amount_riel - already} riel left.",
            errors=[field_error(["amount_riel"], "more than the allocation left to release")],
            extra={"allocated_riel": unit.amount_riel, "already_released_riel": already,
                   "requested_riel": amount_riel, "available_riel": unit.amount_riel - already},
        )  # fmt: skip
    row = Release(
        run_id=run.id, fiscal_year=run.fiscal_year, line_code=run.line_code,
        admin_code=admin_code, allocating_admin_code=run.allocating_admin_code,
        tranche=len(tranches) + 1, amount_riel=amount_riel, planned_on=planned_on,
        planned_by=principal.sub, planned_at=clock.now(),
    )  # fmt: skip
    session.add(row)
    await session.flush()
    await emit(
        session,
        ReleasePlanned(
            release_id=row.id, run_id=run.id, fiscal_year=row.fiscal_year,
            line_code=row.line_code, admin_code=admin_code, tranche=row.tranche,
            amount_riel=amount_riel, planned_on=planned_on,
        ),
        subject=row.id,
        jurisdiction=admin_code,
    )  # fmt: skip
    return row


async def record(
    session: AsyncSession, *, principal: Principal, release: Release, released_on: date
) -> None:
    require_unit(principal, release.allocating_admin_code, what="Recording this release")
    roles.PLANNING.check(principal)
    if release.released_on is not None:
        raise Problem.conflict("This tranche is already recorded as released.",
                               slug=INVALID_TRANSITION)  # fmt: skip
    if released_on > clock.today():
        raise Problem.invalid("released_on", "must not be in the future")
    release.released_on, release.recorded_by = released_on, principal.sub
    release.recorded_at = clock.now()
    await session.flush()
    await emit(
        session,
        ReleaseRecorded(
            release_id=release.id, run_id=release.run_id, fiscal_year=release.fiscal_year,
            line_code=release.line_code, admin_code=release.admin_code, tranche=release.tranche,
            amount_riel=release.amount_riel, planned_on=release.planned_on,
            released_on=released_on, delay_days=(released_on - release.planned_on).days,
        ),
        subject=release.id,
        jurisdiction=release.admin_code,
    )  # fmt: skip


def delay_days(release: Release, today: date) -> int | None:
    """Days late (negative: early). A tranche not released yet is late by the days since its
    planned date once that has passed; before, it has no delay yet (None)."""
    if release.released_on is not None:
        return (release.released_on - release.planned_on).days
    if today > release.planned_on:
        return (today - release.planned_on).days
    return None
