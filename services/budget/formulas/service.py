"""Storing formula versions and finding the one a run names (shipped or stored)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.budget.formulas import repository
from services.budget.formulas.models import Formula
from services.budget.formulas.schemas import FormulaDefinition, FormulaRead
from services.budget.formulas.shipped import SHIPPED
from shared import clock
from shared.events.catalog.budget import FormulaVersionCreated
from shared.outbox import emit
from shared.principal import Principal
from shared.problems import Problem


def formula_read(row: Formula) -> FormulaRead:
    return FormulaRead(
        code=row.code, version=row.version, name=row.name, description=row.description,
        definition=FormulaDefinition.model_validate(row.definition), shipped=False,
    )  # fmt: skip


async def find(session: AsyncSession, code: str, version: int | None) -> FormulaRead | None:
    """The formula version named (the latest when `version` is None)."""
    if any(c == code for c, _ in SHIPPED):
        if version is None:
            version = max(v for c, v in SHIPPED if c == code)
        return SHIPPED.get((code, version))
    if version is None:
        version = await repository.latest_version(session, code)
        if version is None:
            return None
    row = await repository.get(session, code, version)
    return None if row is None else formula_read(row)


async def listing(session: AsyncSession) -> list[FormulaRead]:
    stored = [formula_read(r) for r in await repository.all_versions(session)]
    return [*SHIPPED.values(), *stored]


async def create_version(
    session: AsyncSession,
    *,
    principal: Principal,
    code: str,
    name: str,
    description: str,
    definition: FormulaDefinition,
    new: bool,
) -> FormulaRead:
    """A new formula (`new`: version 1, the code must be unused) or its next version."""
    if any(c == code for c, _ in SHIPPED):
        raise Problem.invalid("code", f"{code} is a shipped formula; store a copy under a new code")
    latest = await repository.latest_version(session, code)
    if new and latest is not None:
        raise Problem.conflict(f"The formula {code} exists; add a version to it instead.")
    if not new and latest is None:
        raise Problem.not_found(f"The formula {code}")
    row = Formula(
        code=code, version=(latest or 0) + 1, name=name, description=description,
        definition=definition.model_dump(mode="json"), created_by=principal.sub,
        created_at=clock.now(),
    )  # fmt: skip
    session.add(row)
    await session.flush()
    components = [
        ":".join(
            str(x)
            for x in (c.kind, c.weight, getattr(c, "indicator", None) or getattr(c, "sub_unit", ""))
            if x != ""
        )
        for c in definition.components
    ]
    await emit(
        session,
        FormulaVersionCreated(
            formula_code=code, formula_version=row.version, formula_name=name,
            components=components,
        ),
        subject=f"{code}:{row.version}",
        jurisdiction="",
    )  # fmt: skip
    return formula_read(row)
