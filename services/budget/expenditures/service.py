"""Recording spending: by the receiving unit itself, never beyond what was released to it on
that line and year."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.budget.expenditures import repository
from services.budget.expenditures.models import Expenditure
from services.budget.releases import repository as releases
from shared import clock
from shared.events.catalog.budget import ExpenditureRecorded
from shared.outbox import emit
from shared.principal import Principal
from shared.problems import Problem, field_error


async def record(
    session: AsyncSession,
    *,
    principal: Principal,
    fiscal_year: int,
    line_code: str,
    amount_riel: int,
    spent_on: date,
    description: str,
) -> Expenditure:
    if principal.is_national or principal.tier is None:
        raise Problem.forbidden(
            "Spending is recorded by the receiving commune, district or province."
        )
    if spent_on > clock.today():
        raise Problem.invalid("spent_on", "must not be in the future")
    if spent_on.year != fiscal_year:
        raise Problem.invalid("spent_on", f"must fall in the fiscal year {fiscal_year}")
    unit = principal.admin_code
    await repository.lock_unit_line(
        session, admin_code=unit, fiscal_year=fiscal_year, line_code=line_code
    )
    released = await releases.released_total(
        session, admin_code=unit, fiscal_year=fiscal_year, line_code=line_code
    )
    spent = await repository.spent_total(
        session, admin_code=unit, fiscal_year=fiscal_year, line_code=line_code
    )
    if spent + amount_riel > released:
        raise Problem(
            422,
            f"Spending {amount_riel} riel on {line_code} in {fiscal_year} would exceed what was "
            f"released to {unit}: {released} riel released, {spent} riel already spent, "
            f"{released - spent} riel available.",
            errors=[field_error(["amount_riel"], "more than the released amount not yet spent")],
            extra={"released_riel": released, "spent_riel": spent,
                   "requested_riel": amount_riel, "available_riel": released - spent},
        )  # fmt: skip
    row = Expenditure(
        fiscal_year=fiscal_year, line_code=line_code, admin_code=unit, amount_riel=amount_riel,
        spent_on=spent_on, description=description, recorded_by=principal.sub,
        recorded_at=clock.now(),
    )  # fmt: skip
    session.add(row)
    await session.flush()
    await emit(
        session,
        ExpenditureRecorded(
            expenditure_id=row.id, fiscal_year=fiscal_year, line_code=line_code,
            admin_code=unit, amount_riel=amount_riel, spent_on=spent_on,
        ),
        subject=row.id,
        jurisdiction=unit,
    )  # fmt: skip
    return row
