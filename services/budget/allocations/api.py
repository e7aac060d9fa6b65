"""Allocation runs: the preview (each unit's amount and what each component contributed),
the state machine, and the recomputation of a past run from what it stored.

Who may approve: a `budget.approver` of the allocating unit itself who is not the person who
proposed the run (403 naming `proposed_by` otherwise). Reads outside the caller's area are
404, changes 403; transitions need `If-Match`.
"""

from __future__ import annotations

import uuid
from fractions import Fraction
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.budget import roles
from services.budget.allocations import repository, service
from services.budget.allocations.models import AllocationRun
from services.budget.allocations.schemas import (
    ROUNDING_RULE,
    ComponentShare,
    Recomputation,
    RunCreate,
    RunRead,
    UnitRead,
)
from services.budget.codes import LineCode, RunStatus
from services.budget.formulas.schemas import FormulaDefinition
from shared.db import SessionDep
from shared.gazetteer import get_gazetteer
from shared.http.concurrency import for_change, set_etag
from shared.http.idempotency import IdempotencyDep
from shared.http.pagination import Page, PageDep
from shared.principal import Principal, PrincipalDep
from shared.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(tags=["allocations"])

Reader = Annotated[Principal, Depends(roles.READER)]
Planner = Annotated[Principal, Depends(roles.PLANNING)]
_WRITE = {k: PROBLEM_RESPONSES[k] for k in (403, 404, 409, 412, 428)}


def _component_indicator(component) -> str | None:
    if component.kind == "indicator":
        return component.indicator
    if component.kind == "per_sub_unit":
        return f"{component.sub_unit}s"
    if component.kind == "poverty":
        return (
            f"{component.poor_1_weight} x households_poor_1 + "
            f"{component.poor_2_weight} x households_poor_2"
        )
    return None


def _value(component, values: dict[str, int]) -> int | None:
    if component.kind == "equal":
        return None
    if component.kind == "poverty":
        if "households_poor_1" not in values and "households_poor_2" not in values:
            return None
        weighted = Fraction(component.poor_1_weight) * values.get("households_poor_1", 0) + (
            Fraction(component.poor_2_weight) * values.get("households_poor_2", 0)
        )
        return int(weighted) if weighted.denominator == 1 else None
    return values.get(_component_indicator(component))


async def run_read(
    session: AsyncSession, run: AllocationRun, *, with_units: bool, only: str | None = None
) -> RunRead:
    """The run; `with_units`: every unit's amount and explanation (`only`: that unit's)."""
    definition = FormulaDefinition.model_validate(run.definition)
    units_out = None
    rows = await repository.units(session, run.id)
    if with_units:
        gazetteer = get_gazetteer()
        inputs = run.inputs["units"]
        fallbacks = set(run.inputs.get("equal_share_fallbacks", []))
        totals: list[int | None] = []
        for component in definition.components:
            values = [_value(component, inputs.get(r.admin_code, {})) for r in rows]
            totals.append(None if component.kind == "equal" else sum(v or 0 for v in values))
        units_out = []
        for r in rows:
            if only is not None and r.admin_code != only:
                continue
            exact = Fraction(r.exact)
            unit = gazetteer.get(r.admin_code)
            units_out.append(
                UnitRead(
                    admin_code=r.admin_code,
                    name_km=unit.name_km if unit else "",
                    name_en=unit.name_en if unit else "",
                    amount_riel=r.amount_riel,
                    exact_riel=service.decimal_text(exact),
                    exact_fraction=r.exact,
                    rounding_riel=service.decimal_text(r.amount_riel - exact),
                    floor_cap_adjustment_riel=service.decimal_text(Fraction(r.adjustment)),
                    components=[
                        ComponentShare(
                            index=i,
                            kind=c.kind,
                            weight=str(c.weight),
                            indicator=_component_indicator(c),
                            value=_value(c, inputs.get(r.admin_code, {})),
                            total=totals[i],
                            share_riel=service.decimal_text(Fraction(r.contributions[i])),
                            equal_share_fallback=i in fallbacks,
                        )
                        for i, c in enumerate(definition.components)
                    ],
                )
            )
    return RunRead(
        id=run.id, version=run.version, status=run.status, fiscal_year=run.fiscal_year,
        line_code=run.line_code, allocating_tier=run.allocating_tier,
        allocating_admin_code=run.allocating_admin_code, unit_level=run.unit_level,
        parent_run_id=run.parent_run_id, formula_code=run.formula_code,
        formula_version=run.formula_version, definition=definition,
        envelope_riel=run.envelope_riel, allocated_riel=sum(r.amount_riel for r in rows),
        unit_count=len(rows), compute_ms=run.compute_ms,
        progress=run.inputs.get("progress", []),
        provenance=run.inputs.get("provenance", {}), rounding_rule=ROUNDING_RULE,
        created_by=run.created_by, created_at=run.created_at, proposed_by=run.proposed_by,
        proposed_at=run.proposed_at, approved_by=run.approved_by, approved_at=run.approved_at,
        published_at=run.published_at, units=units_out,
    )  # fmt: skip


async def _run(run_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> AllocationRun:
    run = await repository.get_visible(session, principal, run_id, for_update=True)
    if run is None:
        raise Problem.not_found("The allocation run")
    return run


RunForChange = Annotated[AllocationRun, Depends(for_change(_run))]


@router.post(
    "/allocation-runs",
    status_code=201,
    responses={
        **{k: PROBLEM_RESPONSES[k] for k in (403, 409, 422)},
        404: {
            **PROBLEM_RESPONSES[404],
            "description": "The fiscal year is not open, there is no such formula (version), "
            "or no national envelope of the line is set for a national run (naming "
            "`fiscal_year`, `formula_code` or `line_code`).",
        },
    },
    summary="Allocate your unit's envelope over its children: a draft with its preview",
    description=(
        "The allocating unit is yours: the national tier allocates the national envelope to "
        "the provinces (or directly to every commune), a province its published amount to its "
        "districts and khans, a district its amount to its communes and sangkats. The answer "
        "is the preview: each unit's amount and what each component contributed, the exact "
        "indicator values used and their provenance. " + ROUNDING_RULE + " When a weighted "
        "component's indicator sums to zero over the units the run is refused (422 naming "
        "`formula.components.<i>`) unless the formula says `on_zero_total: equal_share`. "
        "`compute_ms` and the `Server-Timing` header give the server time."
    ),
)
async def draft_run(
    body: RunCreate, session: SessionDep, principal: Planner, idempotency: IdempotencyDep
) -> RunRead:
    if idempotency.replay is not None:
        return idempotency.replay  # type: ignore[return-value]
    run = await service.draft(session, principal=principal, body=body)
    read = await run_read(session, run, with_units=True)
    return await idempotency.respond(  # type: ignore[return-value]
        201,
        read.model_dump(mode="json"),
        headers={
            "ETag": f'"{run.version}"',
            "Location": f"/allocation-runs/{run.id}",
            "Server-Timing": f"allocate;dur={run.compute_ms}",
        },
    )


@router.get(
    "/allocation-runs",
    summary="Allocation runs of your unit and the units below it (cursor pages, oldest first)",
)
async def list_runs(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    fiscal_year: int | None = None,
    line_code: LineCode | None = None,
    status: RunStatus | None = None,
) -> Page[RunRead]:
    runs, cursor = await repository.list_visible(
        session, principal, fiscal_year=fiscal_year, line_code=line_code, status=status,
        page=page,
    )  # fmt: skip
    items = [await run_read(session, r, with_units=False) for r in runs]
    return Page(items=items, next_cursor=cursor)


@router.get(
    "/allocation-runs/{run_id}",
    responses={404: PROBLEM_RESPONSES[404]},
    summary="One run with every unit's amount and its explanation",
)
async def get_run(
    run_id: uuid.UUID, session: SessionDep, principal: Reader, response: Response
) -> RunRead:
    run = await repository.get_visible(session, principal, run_id)
    if run is None:
        raise Problem.not_found("The allocation run")
    set_etag(response, run.version)
    return await run_read(session, run, with_units=True)


@router.get(
    "/allocation-runs/{run_id}/recomputation",
    responses={404: PROBLEM_RESPONSES[404]},
    summary="Recompute a run from its stored formula and inputs and compare, to the riel",
)
async def recompute_run(run_id: uuid.UUID, session: SessionDep, principal: Reader) -> Recomputation:
    run = await repository.get_visible(session, principal, run_id)
    if run is None:
        raise Problem.not_found("The allocation run")
    differences = await service.recompute(session, run)
    return Recomputation(run_id=run.id, identical=not differences, differences=differences)


async def _transition(action, session, principal, run, response) -> RunRead:
    await action(session, principal=principal, run=run)
    set_etag(response, run.version)
    return await run_read(session, run, with_units=False)


@router.post(
    "/allocation-runs/{run_id}/propose",
    responses=_WRITE,
    summary="Propose a draft run for approval (a planner of the allocating unit)",
    description="`If-Match` with the run's ETag. 409 unless the run is a draft.",
)
async def propose_run(
    run: RunForChange, session: SessionDep, principal: Reader, response: Response
) -> RunRead:
    return await _transition(service.propose, session, principal, run, response)


@router.post(
    "/allocation-runs/{run_id}/approve",
    responses=_WRITE,
    summary="Approve a proposed run (an approver of the allocating unit, not the proposer)",
    description="Who may approve: a `budget.approver` of the allocating unit itself (the "
    "national tier for a national run, the province for its run, the district for its run) "
    "who did not propose the run; one's own proposal is refused with 403 naming "
    "`proposed_by`. `If-Match` with the run's ETag.",
)
async def approve_run(
    run: RunForChange, session: SessionDep, principal: Reader, response: Response
) -> RunRead:
    return await _transition(service.approve, session, principal, run, response)


@router.post(
    "/allocation-runs/{run_id}/publish",
    responses=_WRITE,
    summary="Publish an approved run: its amounts become the children's envelopes and public",
    description="By an approver or planner of the allocating unit; one published run per "
    "year, line and allocating unit (409 otherwise). Emits `budget.allocation.published`.",
)
async def publish_run(
    run: RunForChange, session: SessionDep, principal: Reader, response: Response
) -> RunRead:
    return await _transition(service.publish, session, principal, run, response)
