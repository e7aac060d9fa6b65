"""Recording an activity: inside an open cycle of the caller's area, dated in the cycle's
year, facilitated by CAFs of that area, with counts that add up; evented."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.isaf.activities import repository
from services.isaf.activities.models import Activity
from services.isaf.activities.schemas import ActivityCreate
from services.isaf.areas import require_within, within
from services.isaf.cafs import repository as cafs
from services.isaf.counts import require_counts_add_up
from services.isaf.cycles import service as cycles
from shared.events.catalog.isaf import ActivityRecorded, Participation
from shared.outbox import emit
from shared.principal import Principal
from shared.problems import Problem


async def require_facilitators(
    session: AsyncSession, *, area: str, caf_ids: list[uuid.UUID], field: str
) -> None:
    """Every facilitator is a registered CAF of the cycle's area (a khan's cycle: of the khan)."""
    if len(set(caf_ids)) != len(caf_ids):
        raise Problem.invalid(field, "must not name a CAF twice")
    known = await cafs.cafs_by_id(session, caf_ids)
    for index, caf_id in enumerate(caf_ids):
        caf = known.get(caf_id)
        if caf is None or not within(area, caf.location_code):
            raise Problem.invalid(f"{field}.{index}", "no such CAF in the cycle's area")


async def record(
    session: AsyncSession, *, principal: Principal, body: ActivityCreate, now: datetime
) -> Activity:
    cycle = await cycles.cycle_for_recording(session, principal=principal, cycle_id=body.cycle_id)
    cycles.require_in_cycle_year(cycle, body.held_on, field="held_on")
    if body.village_code:
        require_within(cycle.location_code, body.village_code, field="village_code")
    p = body.participants
    require_counts_add_up(
        total_field="participants.total", total=p.total,
        female_field="participants.female", female=p.female,
        male_field="participants.male", male=p.male,
        subgroups={
            "participants.with_disability": p.with_disability,
            "participants.ethnic_minority": p.ethnic_minority,
            "participants.youth": p.youth,
            "participants.idpoor": p.idpoor,
        },
    )  # fmt: skip
    if body.booklets and body.activity_type != "door_to_door":
        raise Problem.invalid("booklets", "only door-to-door rounds hand out booklets")
    await require_facilitators(
        session, area=cycle.location_code, caf_ids=body.facilitator_caf_ids,
        field="facilitator_caf_ids",
    )  # fmt: skip
    activity = Activity(
        id=uuid.uuid4(), cycle_id=cycle.id, location_code=cycle.location_code,
        village_code=body.village_code, activity_type=body.activity_type,
        held_on=body.held_on, venue=body.venue, facilitator_caf_ids=body.facilitator_caf_ids,
        participants_total=p.total, participants_female=p.female, participants_male=p.male,
        with_disability=p.with_disability, ethnic_minority=p.ethnic_minority, youth=p.youth,
        idpoor=p.idpoor, booklets=body.booklets, recorded_by=principal.sub, recorded_at=now,
    )  # fmt: skip
    repository.add(session, activity)
    await session.flush()
    await emit(
        session,
        ActivityRecorded(
            activity_id=activity.id, cycle_id=cycle.id, location_code=activity.location_code,
            activity_type=activity.activity_type, held_on=activity.held_on,
            participants=Participation(**p.model_dump()), booklets=activity.booklets,
            recorded_at=now,
        ),
        subject=activity.id, jurisdiction=activity.location_code, occurred_at=now,
    )  # fmt: skip
    return activity
