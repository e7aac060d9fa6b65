"""Opening fiscal years and setting national envelopes (national budget planners)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.budget.allocations import repository as runs
from services.budget.planning import repository
from services.budget.planning.models import Envelope, FiscalYear
from shared import clock
from shared.events.catalog.budget import EnvelopeSet, FiscalYearOpened
from shared.outbox import emit
from shared.principal import Principal
from shared.problems import Problem


async def open_year(session: AsyncSession, *, principal: Principal, year: int) -> FiscalYear:
    if await repository.fiscal_year(session, year) is not None:
        raise Problem.conflict(f"The fiscal year {year} is already open.")
    row = FiscalYear(
        year=year,
        starts_on=date(year, 1, 1),
        ends_on=date(year, 12, 31),
        opened_by=principal.sub,
        opened_at=clock.now(),
    )
    session.add(row)
    await session.flush()
    await emit(
        session,
        FiscalYearOpened(fiscal_year=year, starts_on=row.starts_on, ends_on=row.ends_on),
        subject=str(year),
        jurisdiction="",
    )
    return row


async def require_year(session: AsyncSession, year: int, *, field: str = "fiscal_year") -> None:
    if await repository.fiscal_year(session, year) is None:
        raise Problem.invalid(field, f"the fiscal year {year} is not open", status=404)


async def set_envelope(
    session: AsyncSession, *, principal: Principal, year: int, line_code: str, amount_riel: int
) -> Envelope:
    if await repository.fiscal_year(session, year) is None:
        raise Problem.not_found(f"The fiscal year {year}")
    if await runs.published_exists(
        session, year=year, line_code=line_code, allocating_admin_code=""
    ):
        raise Problem.conflict(
            f"The national allocation of {line_code} for {year} is published; its envelope is "
            "fixed."
        )
    row = await repository.envelope(session, year, line_code, for_update=True)
    previous = None
    if row is None:
        row = Envelope(
            fiscal_year=year, line_code=line_code, amount_riel=amount_riel,
            set_by=principal.sub, set_at=clock.now(),
        )  # fmt: skip
        session.add(row)
    else:
        previous = row.amount_riel
        row.amount_riel, row.set_by, row.set_at = amount_riel, principal.sub, clock.now()
    await session.flush()
    await emit(
        session,
        EnvelopeSet(
            envelope_id=row.id, fiscal_year=year, line_code=line_code, amount_riel=amount_riel,
            previous_amount_riel=previous,
        ),
        subject=row.id,
        jurisdiction="",
    )  # fmt: skip
    return row
