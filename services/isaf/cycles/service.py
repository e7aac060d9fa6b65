"""The rules of facilities and cycles: where they may be, who may record them, and the
order of a cycle's stages. Functions flush and never commit."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.isaf.areas import require_cycle_area, require_within
from services.isaf.codes import COMMUNE_FACILITY_TYPES, STAGE_ORDER, FacilityType, Stage
from services.isaf.cycles import repository
from services.isaf.cycles.models import Cycle, Facility, StageChange
from services.isaf.cycles.schemas import CycleCreate, FacilityCreate
from shared.events.catalog.isaf import CycleOpened, CycleStageChanged
from shared.jurisdiction import require_in_jurisdiction
from shared.outbox import emit
from shared.principal import Principal
from shared.problems import INVALID_TRANSITION, Problem, field_error


def transition_refused(field: str, detail: str) -> Problem:
    return Problem(409, detail, slug=INVALID_TRANSITION, errors=[field_error([field], detail)])


async def create_facility(
    session: AsyncSession, *, principal: Principal, body: FacilityCreate, now: datetime
) -> Facility:
    require_cycle_area(body.location_code)
    khan = body.facility_type == FacilityType.KHAN_ADMINISTRATION
    if khan and len(body.location_code) != 4:
        raise Problem.invalid("location_code", "a khan administration sits at its khan (4 digits)")
    if not khan and body.facility_type in COMMUNE_FACILITY_TYPES and len(body.location_code) != 6:
        raise Problem.invalid("location_code", "this provider serves a commune/sangkat (6 digits)")
    if body.village_code:
        require_within(body.location_code, body.village_code, field="village_code")
    require_in_jurisdiction(principal, body.location_code, what="A facility")
    facility = Facility(
        id=uuid.uuid4(),
        location_code=body.location_code,
        village_code=body.village_code,
        facility_type=body.facility_type,
        name_km=body.name_km,
        name_en=body.name_en,
        created_by=principal.sub,
        created_at=now,
    )
    session.add(facility)
    await session.flush()
    return facility


async def open_cycle(
    session: AsyncSession, *, principal: Principal, body: CycleCreate, now: datetime
) -> Cycle:
    require_cycle_area(body.location_code)
    require_in_jurisdiction(principal, body.location_code, what="A cycle")
    if await repository.find_cycle(session, body.location_code, body.year) is not None:
        raise Problem(
            409,
            f"{body.location_code} already has its cycle for {body.year}.",
            errors=[field_error(["year"], "a cycle for this area and year exists")],
        )
    cycle = Cycle(
        id=uuid.uuid4(),
        location_code=body.location_code,
        year=body.year,
        stage=Stage.I4C,
        stage_changed_at=now,
        created_by=principal.sub,
        created_at=now,
    )
    session.add(cycle)
    await session.flush()
    session.add(
        StageChange(
            cycle_id=cycle.id, from_stage=None, to_stage=Stage.I4C, actor=principal.sub,
            changed_at=now,
        )
    )  # fmt: skip
    await emit(
        session,
        CycleOpened(
            cycle_id=cycle.id, location_code=cycle.location_code, year=cycle.year,
            stage=cycle.stage, opened_at=now,
        ),
        subject=cycle.id, jurisdiction=cycle.location_code, occurred_at=now,
    )  # fmt: skip
    await session.flush()
    return cycle


async def change_stage(
    session: AsyncSession,
    *,
    principal: Principal,
    cycle: Cycle,
    stage: Stage,
    note: str | None,
    now: datetime,
) -> Cycle:
    current = STAGE_ORDER.index(Stage(cycle.stage))
    if current + 1 >= len(STAGE_ORDER) or STAGE_ORDER[current + 1] != stage:
        allowed = STAGE_ORDER[current + 1] if current + 1 < len(STAGE_ORDER) else None
        raise transition_refused(
            "stage",
            f"the cycle is at {cycle.stage}; "
            + (f"its next stage is {allowed}" if allowed else "a closed cycle has no next stage"),
        )
    previous = cycle.stage
    cycle.stage = stage
    cycle.stage_changed_at = now
    session.add(
        StageChange(
            cycle_id=cycle.id, from_stage=previous, to_stage=stage, note=note,
            actor=principal.sub, changed_at=now,
        )
    )  # fmt: skip
    await session.flush()
    await emit(
        session,
        CycleStageChanged(
            cycle_id=cycle.id, location_code=cycle.location_code, year=cycle.year,
            from_stage=previous, to_stage=stage, changed_at=now,
        ),
        subject=cycle.id, jurisdiction=cycle.location_code, occurred_at=now,
    )  # fmt: skip
    return cycle


# --- what other aggregates ask of a cycle ------------------------------------------------------


async def cycle_for_recording(
    session: AsyncSession, *, principal: Principal, cycle_id: uuid.UUID, field: str = "cycle_id"
) -> Cycle:
    """The cycle a new record goes into: it exists (404, a problem naming the field: the id is
    well formed, the record it names is not there), lies in the caller's area (403) and is not
    closed (409)."""
    cycle = await repository.get_cycle(session, cycle_id)
    if cycle is None:
        raise Problem.invalid(field, "no such cycle", status=404)
    require_in_jurisdiction(principal, cycle.location_code, what="The cycle")
    if cycle.stage == Stage.CLOSED:
        raise transition_refused(field, "the cycle is closed; nothing more is recorded in it")
    return cycle


def require_in_cycle_year(cycle: Cycle, day: date, *, field: str) -> None:
    if day.year != cycle.year:
        raise Problem.invalid(field, f"must be a date in the cycle's year {cycle.year}")


async def facility_of_cycle(
    session: AsyncSession, *, cycle: Cycle, facility_id: uuid.UUID, field: str = "facility_id"
) -> Facility:
    facility = await repository.get_facility(session, facility_id)
    if facility is None or facility.location_code != cycle.location_code:
        raise Problem.invalid(field, "no such facility in the cycle's area")
    return facility
