"""The rules of the CAF register and of trainings: where they are recorded, who sees a CAF's
phone number, and attendance that adds up."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.isaf import roles
from services.isaf.cafs import repository
from services.isaf.cafs.models import Caf, PersonalDataAccess, Training, TrainingAttendance
from services.isaf.cafs.schemas import CafCreate, CafUpdate, TrainingCreate
from services.isaf.counts import require_counts_add_up
from shared.jurisdiction import require_in_jurisdiction
from shared.personal_data import access_record
from shared.principal import Principal
from shared.problems import Problem
from shared.tiers import Tier


def phone_visible(principal: Principal, caf: Caf) -> bool:
    """A CAF's phone number is shown in full to the facilitators who work with the CAF (the
    commune's and the district's); everyone else gets it masked."""
    return (
        principal.tier in (Tier.CS, Tier.DMK)
        and principal.has_role(roles.FACILITATOR)
        and principal.covers(caf.location_code)
    )


async def record_phone_reads(
    session: AsyncSession, *, principal: Principal, cafs: list[Caf], purpose: str, now: datetime
) -> None:
    records = [
        access_record(
            PersonalDataAccess, principal=principal, entity="caf", entity_id=caf.id,
            sensitive_fields=True, purpose=purpose, at=now,
        )
        for caf in cafs
        if caf.phone and phone_visible(principal, caf)
    ]  # fmt: skip
    if records:
        repository.add_access_records(session, records)
        await session.flush()


async def register_caf(
    session: AsyncSession, *, principal: Principal, body: CafCreate, now: datetime
) -> Caf:
    require_in_jurisdiction(principal, body.location_code, what="A CAF")
    caf = Caf(id=uuid.uuid4(), **body.model_dump(), created_at=now, updated_at=now)
    session.add(caf)
    await session.flush()
    return caf


async def update_caf(
    session: AsyncSession, *, principal: Principal, caf: Caf, body: CafUpdate, now: datetime
) -> Caf:
    for name, value in body.model_dump(exclude_unset=True).items():
        if name == "active" and value is None:
            raise Problem.invalid("active", "must be true or false")
        setattr(caf, name, value)
    caf.updated_at = now
    await session.flush()
    return caf


async def record_training(
    session: AsyncSession, *, principal: Principal, body: TrainingCreate, now: datetime
) -> Training:
    require_in_jurisdiction(principal, body.location_code, what="A training")
    if body.ends_on < body.starts_on:
        raise Problem.invalid("ends_on", "must not be before starts_on")
    require_counts_add_up(
        total_field="attendees_total", total=body.attendees_total,
        female_field="attendees_female", female=body.attendees_female,
        male_field="attendees_male", male=body.attendees_male,
        subgroups={"caf_ids": len(body.caf_ids)},
    )  # fmt: skip
    if len(set(body.caf_ids)) != len(body.caf_ids):
        raise Problem.invalid("caf_ids", "must not name a CAF twice")
    known = await repository.cafs_by_id(session, body.caf_ids)
    for index, caf_id in enumerate(body.caf_ids):
        caf = known.get(caf_id)
        # A CAF of another area is "unknown" here: its existence is not the caller's to learn.
        if caf is None or not principal.covers(caf.location_code):
            raise Problem.invalid(f"caf_ids.{index}", "no such CAF in your area")
    training = Training(
        id=uuid.uuid4(),
        **body.model_dump(exclude={"caf_ids"}),
        recorded_by=principal.sub,
        recorded_at=now,
    )
    session.add(training)
    await session.flush()
    session.add_all(TrainingAttendance(training_id=training.id, caf_id=c) for c in body.caf_ids)
    await session.flush()
    return training
