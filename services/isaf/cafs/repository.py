"""Queries on CAFs and trainings; reads are limited to the caller's area here."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.isaf.areas import subtree
from services.isaf.cafs.models import Caf, PersonalDataAccess, Training, TrainingAttendance
from shared.http.pagination import PageParams, paginate
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal


async def get_caf(session: AsyncSession, caf_id: uuid.UUID) -> Caf | None:
    return await session.get(Caf, caf_id)


async def get_visible_caf(
    session: AsyncSession, principal: Principal, caf_id: uuid.UUID
) -> Caf | None:
    statement = select(Caf).where(
        Caf.id == caf_id, jurisdiction_filter(principal, Caf.location_code)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def cafs_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Caf]:
    if not ids:
        return {}
    rows = (await session.execute(select(Caf).where(Caf.id.in_(ids)))).scalars()
    return {c.id: c for c in rows}


async def list_cafs(
    session: AsyncSession, principal: Principal, *, location: str | None, active: bool | None,
    page: PageParams,
):  # fmt: skip
    statement = select(Caf).where(jurisdiction_filter(principal, Caf.location_code))
    if location:
        statement = statement.where(subtree(location, Caf.location_code))
    if active is not None:
        statement = statement.where(Caf.active.is_(active))
    return await paginate(session, statement, order_by=[Caf.id], page=page)


async def trainings_attended(session: AsyncSession, caf_ids: list[uuid.UUID]) -> dict:
    if not caf_ids:
        return {}
    statement = (
        select(TrainingAttendance.caf_id, func.count())
        .where(TrainingAttendance.caf_id.in_(caf_ids))
        .group_by(TrainingAttendance.caf_id)
    )
    return {row[0]: int(row[1]) for row in await session.execute(statement)}


def add_access_records(session: AsyncSession, records: list[PersonalDataAccess]) -> None:
    session.add_all(records)


async def get_visible_training(
    session: AsyncSession, principal: Principal, training_id: uuid.UUID
) -> Training | None:
    statement = select(Training).where(
        Training.id == training_id, jurisdiction_filter(principal, Training.location_code)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def list_trainings(
    session: AsyncSession, principal: Principal, *, location: str | None, audience: str | None,
    page: PageParams,
):  # fmt: skip
    statement = select(Training).where(jurisdiction_filter(principal, Training.location_code))
    if location:
        statement = statement.where(subtree(location, Training.location_code))
    if audience:
        statement = statement.where(Training.audience == audience)
    return await paginate(session, statement, order_by=[Training.id], page=page)


async def attendance(session: AsyncSession, training_ids: list[uuid.UUID]) -> dict:
    """The registered CAFs of each training, by training id."""
    result: dict[uuid.UUID, list[uuid.UUID]] = {t: [] for t in training_ids}
    if training_ids:
        statement = (
            select(TrainingAttendance.training_id, TrainingAttendance.caf_id)
            .where(TrainingAttendance.training_id.in_(training_ids))
            .order_by(TrainingAttendance.caf_id)
        )
        for training_id, caf_id in await session.execute(statement):
            result[training_id].append(caf_id)
    return result
