"""Queries on the registry read model and on datasets.

The registry figures are counted per unit at run time from the household and member rows,
so a run reads the read model as it stands when the run is computed (and stores what it
read)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.budget.indicators.models import Dataset, DatasetValue, HouseholdFigure, MemberFigure


async def upsert_household(
    session: AsyncSession,
    *,
    household_id: uuid.UUID,
    village_code: str,
    status: str,
    record_version: int,
    now: datetime,
    poverty_level: str | None = None,
) -> None:
    """Apply a registry household event; an older version arriving late changes nothing. The
    IDPoor level changes only with a poverty event (its own version guard)."""
    values = {
        "household_id": household_id,
        "village_code": village_code,
        "status": status,
        "record_version": record_version,
        "poverty_level": poverty_level or "UNASSESSED",
        "poverty_version": record_version if poverty_level else 0,
        "updated_at": now,
    }
    statement = insert(HouseholdFigure).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[HouseholdFigure.household_id],
        set_={k: statement.excluded[k] for k in ("village_code", "status", "record_version",
                                                 "updated_at")},
        where=HouseholdFigure.record_version <= statement.excluded.record_version,
    )  # fmt: skip
    await session.execute(statement)
    if poverty_level is not None:
        await session.execute(
            update(HouseholdFigure)
            .where(
                HouseholdFigure.household_id == household_id,
                HouseholdFigure.poverty_version <= record_version,
            )
            .values(poverty_level=poverty_level, poverty_version=record_version)
        )


async def upsert_member(
    session: AsyncSession,
    *,
    member_id: uuid.UUID,
    household_id: uuid.UUID,
    birth_year: int | None,
    status: str,
    record_version: int,
    now: datetime,
    keep_birth_year: bool = False,
) -> None:
    values = {
        "member_id": member_id,
        "household_id": household_id,
        "birth_year": birth_year,
        "status": status,
        "record_version": record_version,
        "updated_at": now,
    }
    kept = ("household_id", "status", "record_version", "updated_at")
    statement = insert(MemberFigure).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[MemberFigure.member_id],
        set_={
            k: statement.excluded[k] for k in (kept if keep_birth_year else (*kept, "birth_year"))
        },
        where=MemberFigure.record_version <= statement.excluded.record_version,
    )
    await session.execute(statement)


async def registry_figures(
    session: AsyncSession, *, area: str, code_length: int, fiscal_year: int
) -> dict[str, dict[str, int]]:
    """Per unit (codes of `code_length` digits under `area`): active households, by IDPoor
    level, their active members and vulnerable members (under 18 or aged 60 and over in the
    fiscal year, by birth year)."""
    unit = func.substr(HouseholdFigure.village_code, 1, code_length)
    in_area = and_(
        HouseholdFigure.status == "active", HouseholdFigure.village_code.startswith(area)
    )
    households = (
        select(
            unit.label("unit"),
            func.count().label("households"),
            func.count().filter(HouseholdFigure.poverty_level == "POOR_1").label("poor_1"),
            func.count().filter(HouseholdFigure.poverty_level == "POOR_2").label("poor_2"),
        )
        .where(in_area)
        .group_by(unit)
    )
    figures: dict[str, dict[str, int]] = {}
    for row in await session.execute(households):
        figures[row.unit] = {
            "households": row.households,
            "households_poor_1": row.poor_1,
            "households_poor_2": row.poor_2,
            "members": 0,
            "vulnerable_members": 0,
        }
    vulnerable = or_(
        MemberFigure.birth_year > fiscal_year - 18, MemberFigure.birth_year <= fiscal_year - 60
    )
    members = (
        select(
            unit.label("unit"),
            func.count().label("members"),
            func.count().filter(vulnerable).label("vulnerable"),
        )
        .select_from(MemberFigure)
        .join(HouseholdFigure, HouseholdFigure.household_id == MemberFigure.household_id)
        .where(in_area, MemberFigure.status == "active")
        .group_by(unit)
    )
    for row in await session.execute(members):
        figure = figures.setdefault(row.unit, {"households": 0, "households_poor_1": 0,
                                               "households_poor_2": 0})  # fmt: skip
        figure["members"], figure["vulnerable_members"] = row.members, row.vulnerable
    return figures


async def latest_dataset(session: AsyncSession, code: str) -> Dataset | None:
    statement = (
        select(Dataset)
        .where(Dataset.code == code)
        .order_by(Dataset.reference_date.desc(), Dataset.uploaded_at.desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def dataset(session: AsyncSession, dataset_id: uuid.UUID) -> Dataset | None:
    return await session.get(Dataset, dataset_id)


async def datasets(session: AsyncSession) -> list[Dataset]:
    statement = select(Dataset).order_by(Dataset.code, Dataset.reference_date.desc())
    return list((await session.execute(statement)).scalars())


async def dataset_values(
    session: AsyncSession, dataset_id: uuid.UUID, *, area: str = ""
) -> dict[str, int]:
    statement = select(DatasetValue.admin_code, DatasetValue.value).where(
        DatasetValue.dataset_id == dataset_id, DatasetValue.admin_code.startswith(area)
    )
    return {row[0]: row[1] for row in await session.execute(statement)}


async def add_values(session: AsyncSession, dataset_id: uuid.UUID, values: dict[str, int]) -> None:
    if values:
        await session.execute(
            insert(DatasetValue),
            [{"dataset_id": dataset_id, "admin_code": c, "value": v} for c, v in values.items()],
        )


async def mark_used(session: AsyncSession, dataset_ids: list[uuid.UUID], now: datetime) -> None:
    if dataset_ids:
        await session.execute(
            update(Dataset)
            .where(Dataset.id.in_(dataset_ids), Dataset.used_at.is_(None))
            .values(used_at=now)
        )


async def remove(session: AsyncSession, dataset_id: uuid.UUID) -> None:
    await session.execute(delete(Dataset).where(Dataset.id == dataset_id))
