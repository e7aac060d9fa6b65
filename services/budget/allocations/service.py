"""Allocation runs: draft (computed), propose, approve, publish; explain and recompute.

The allocating unit is the caller's own unit. Its envelope is the national envelope (national
tier) or the amount its parent's published run gave it. States: draft -> proposed (a planner
of the allocating unit) -> approved (an approver of the allocating unit who is not the
proposer) -> published (an approver or planner of the allocating unit).
"""

from __future__ import annotations

import time
import uuid
from fractions import Fraction

from sqlalchemy.ext.asyncio import AsyncSession

from services.budget import roles
from services.budget.access import require_unit
from services.budget.allocations import repository
from services.budget.allocations.engine import AllocationRefused, UnitInput, allocate
from services.budget.allocations.models import AllocationRun
from services.budget.allocations.schemas import RunCreate
from services.budget.formulas import service as formulas
from services.budget.formulas.schemas import FormulaDefinition
from services.budget.indicators import repository as indicator_rows
from services.budget.indicators import service as indicators
from services.budget.planning import repository as planning
from shared import clock
from shared.events.catalog.budget import (
    AllocationApproved,
    AllocationDrafted,
    AllocationProposed,
    AllocationPublished,
    UnitAmount,
)
from shared.gazetteer import Level, get_gazetteer
from shared.outbox import emit
from shared.principal import Principal
from shared.problems import INVALID_TRANSITION, Problem, field_error
from shared.tiers import Tier

LEVEL_BY_NAME = {"province": Level.PROVINCE, "district": Level.DISTRICT, "commune": Level.COMMUNE}


def fraction_text(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def decimal_text(value: Fraction, places: int = 2) -> str:
    """An exact fraction shown to `places` decimals (rounded half away from zero)."""
    scale = 10**places
    scaled = abs(value) * scale
    whole = int(scaled + Fraction(1, 2))
    sign = "-" if value < 0 and whole else ""
    return f"{sign}{whole // scale}.{whole % scale:0{places}d}"


async def _envelope(
    session: AsyncSession, principal: Principal, *, year: int, line_code: str
) -> tuple[int, uuid.UUID | None]:
    if principal.is_national:
        row = await planning.envelope(session, year, line_code)
        if row is None:
            raise Problem.invalid(
                "line_code", f"no national envelope is set for {line_code} in {year}", status=404
            )
        return row.amount_riel, None
    found = await repository.published_amount(
        session, year=year, line_code=line_code, admin_code=principal.admin_code
    )
    if found is None:
        raise Problem.conflict(
            f"No published allocation of {line_code} for {year} reaches {principal.admin_code} "
            "yet; its parent tier allocates first."
        )
    run, unit = found
    return unit.amount_riel, run.id


def _units(principal: Principal, body: RunCreate) -> tuple[str, list[str]]:
    gazetteer = get_gazetteer()
    area = principal.admin_code
    if body.unit_level is None:
        level = {0: Level.PROVINCE, 2: Level.DISTRICT, 4: Level.COMMUNE}.get(len(area))
        if level is None:
            raise Problem.forbidden("A commune or sangkat has no units below it to allocate to.")
    else:
        level = LEVEL_BY_NAME[body.unit_level]
        if level.code_length <= len(area):
            raise Problem.invalid("unit_level", f"a {level} is not below your unit")
    everything = [u.code for u in gazetteer.descendants(area, level)]
    if body.units is None:
        return level.value, everything
    known = set(everything)
    errors = [
        field_error(["units", i], f"'{code}' is not a {level} under {area or 'the country'}")
        for i, code in enumerate(body.units)
        if code not in known
    ]
    if len(set(body.units)) != len(body.units):
        errors.append(field_error(["units"], "a unit is listed twice"))
    if errors:
        raise Problem(422, "Units outside your children: " + ", ".join(e.field for e in errors),
                      errors=errors)  # fmt: skip
    if not body.units:
        raise Problem.invalid("units", "name at least one unit")
    return level.value, sorted(body.units)


class Progress:
    """The phases of a run as it went: units done and milliseconds since the start, kept
    with the run (a national run over every commune takes well under a second, so the
    progress is reported with the answer rather than polled)."""

    def __init__(self, units: int, started: float) -> None:
        self.units, self.started, self.steps = units, started, []

    def done(self, phase: str, units_done: int) -> None:
        self.steps.append(
            {
                "phase": phase,
                "units_done": units_done,
                "units_total": self.units,
                "elapsed_ms": round((time.perf_counter() - self.started) * 1000, 3),
            }
        )


def refused(exc: AllocationRefused) -> Problem:
    return Problem.invalid(f"formula.{exc.field}", exc.reason)


async def draft(session: AsyncSession, *, principal: Principal, body: RunCreate) -> AllocationRun:
    started = time.perf_counter()
    if principal.tier is Tier.CS:
        raise Problem.forbidden("A commune or sangkat has no units below it to allocate to.")
    if await planning.fiscal_year(session, body.fiscal_year) is None:
        raise Problem.invalid(
            "fiscal_year", f"the fiscal year {body.fiscal_year} is not open", status=404
        )
    formula = await formulas.find(session, body.formula_code, body.formula_version)
    if formula is None:
        raise Problem.invalid(
            "formula_code",
            f"no formula {body.formula_code}"
            + (f" version {body.formula_version}" if body.formula_version else ""),
            status=404,
        )
    level, codes = _units(principal, body)
    envelope, parent_run_id = await _envelope(
        session, principal, year=body.fiscal_year, line_code=body.line_code
    )
    progress = Progress(len(codes), started)
    progress.done("checked the request, the formula and the envelope", 0)
    inputs = await indicators.gather(
        session,
        area=principal.admin_code,
        unit_codes=codes,
        indicators=formula.definition.indicators(),
        fiscal_year=body.fiscal_year,
    )
    progress.done("read the indicator values of every unit", len(codes))
    try:
        result = allocate(envelope, inputs.units, formula.definition)
    except AllocationRefused as exc:
        raise refused(exc) from None
    progress.done("allocated exactly and rounded once", len(codes))
    now = clock.now()
    run = AllocationRun(
        fiscal_year=body.fiscal_year,
        line_code=body.line_code,
        allocating_tier=principal.tier.value,
        allocating_admin_code=principal.admin_code,
        unit_level=level,
        parent_run_id=parent_run_id,
        formula_code=formula.code,
        formula_version=formula.version,
        definition=formula.definition.model_dump(mode="json"),
        envelope_riel=envelope,
        inputs={
            "units": {u.code: dict(u.values) for u in inputs.units},
            "provenance": inputs.provenance,
            "equal_share_fallbacks": list(result.equal_share_fallbacks),
        },
        status="draft",
        compute_ms=0.0,
        created_by=principal.sub,
        created_at=now,
    )
    session.add(run)
    await session.flush()
    await repository.add_units(
        session,
        [
            {
                "run_id": run.id,
                "admin_code": share.code,
                "amount_riel": share.amount,
                "exact": fraction_text(share.exact),
                "contributions": [fraction_text(c) for c in share.contributions],
                "adjustment": fraction_text(share.adjustment),
            }
            for share in result.units
        ],
    )
    await indicator_rows.mark_used(session, inputs.dataset_ids, now)
    progress.done("stored every unit's amount and explanation", len(codes))
    run.inputs = {**run.inputs, "progress": progress.steps}
    run.compute_ms = round((time.perf_counter() - started) * 1000, 3)
    await session.flush()
    await emit(
        session,
        AllocationDrafted(**_event_fields(run), unit_count=len(result.units)),
        subject=run.id,
        jurisdiction=run.allocating_admin_code,
    )
    return run


def _event_fields(run: AllocationRun) -> dict:
    return {
        "run_id": run.id,
        "fiscal_year": run.fiscal_year,
        "line_code": run.line_code,
        "allocating_tier": run.allocating_tier,
        "allocating_admin_code": run.allocating_admin_code,
        "formula_code": run.formula_code,
        "formula_version": run.formula_version,
        "envelope_riel": run.envelope_riel,
    }


def _require_status(run: AllocationRun, *allowed: str, action: str) -> None:
    if run.status not in allowed:
        raise Problem.conflict(
            f"The run is {run.status}; only a {' or '.join(allowed)} run can be {action}.",
            slug=INVALID_TRANSITION,
        )


async def propose(session: AsyncSession, *, principal: Principal, run: AllocationRun) -> None:
    require_unit(principal, run.allocating_admin_code, what="Proposing this run")
    roles.PLANNING.check(principal)
    _require_status(run, "draft", action="proposed")
    run.status, run.proposed_by, run.proposed_at = "proposed", principal.sub, clock.now()
    await session.flush()
    await emit(
        session,
        AllocationProposed(**_event_fields(run), proposed_at=run.proposed_at),
        subject=run.id,
        jurisdiction=run.allocating_admin_code,
    )


async def approve(session: AsyncSession, *, principal: Principal, run: AllocationRun) -> None:
    require_unit(principal, run.allocating_admin_code, what="Approving this run")
    roles.APPROVING.check(principal)
    _require_status(run, "proposed", action="approved")
    if run.proposed_by == principal.sub:
        raise Problem(
            403,
            "You proposed this run; another approver of your unit must approve it.",
            errors=[field_error(["proposed_by"], "the approver must not be the proposer")],
        )
    run.status, run.approved_by, run.approved_at = "approved", principal.sub, clock.now()
    await session.flush()
    await emit(
        session,
        AllocationApproved(**_event_fields(run), approved_at=run.approved_at),
        subject=run.id,
        jurisdiction=run.allocating_admin_code,
    )


async def publish(session: AsyncSession, *, principal: Principal, run: AllocationRun) -> None:
    require_unit(principal, run.allocating_admin_code, what="Publishing this run")
    roles.DECIDING.check(principal)
    _require_status(run, "approved", action="published")
    if await repository.published_exists(
        session, year=run.fiscal_year, line_code=run.line_code,
        allocating_admin_code=run.allocating_admin_code,
    ):  # fmt: skip
        raise Problem.conflict(
            f"Another run of {run.line_code} for {run.fiscal_year} is already published here."
        )
    if run.parent_run_id is None:
        current = await planning.envelope(session, run.fiscal_year, run.line_code)
        if current is None or current.amount_riel != run.envelope_riel:
            raise Problem.conflict(
                f"The national envelope of {run.line_code} for {run.fiscal_year} changed since "
                f"this run was drafted ({run.envelope_riel} riel); draft the run again."
            )
    run.status, run.published_by, run.published_at = "published", principal.sub, clock.now()
    await session.flush()
    units = await repository.units(session, run.id)
    await emit(
        session,
        AllocationPublished(
            run_id=run.id, fiscal_year=run.fiscal_year, line_code=run.line_code,
            allocating_tier=run.allocating_tier, allocating_admin_code=run.allocating_admin_code,
            formula_code=run.formula_code, formula_version=run.formula_version,
            envelope_riel=run.envelope_riel,
            units=[UnitAmount(admin_code=u.admin_code, amount_riel=u.amount_riel) for u in units],
            published_at=run.published_at,
        ),
        subject=run.id,
        jurisdiction=run.allocating_admin_code,
    )  # fmt: skip


async def recompute(session: AsyncSession, run: AllocationRun) -> dict[str, list[int]]:
    """Allocate again from the run's stored formula and inputs: the differences (none)."""
    definition = FormulaDefinition.model_validate(run.definition)
    stored = {u.admin_code: u.amount_riel for u in await repository.units(session, run.id)}
    units = [UnitInput(code, run.inputs["units"].get(code, {})) for code in sorted(stored)]
    result = allocate(run.envelope_riel, units, definition)
    return {u.code: [stored[u.code], u.amount] for u in result.units if stored[u.code] != u.amount}
