"""Allocation formulas: the shipped examples and the versions national planners store."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from services.budget import roles
from services.budget.docs import answer_example
from services.budget.formulas import service
from services.budget.formulas.schemas import FormulaCreate, FormulaRead, FormulaVersionCreate
from services.budget.formulas.shipped import SHIPPED
from shared.db import SessionDep
from shared.principal import Principal
from shared.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(tags=["formulas"])

Reader = Annotated[Principal, Depends(roles.READER)]
NationalPlanner = Annotated[Principal, Depends(roles.NATIONAL_PLANNING)]
Code = Annotated[str, Path(pattern=r"^[A-Z][A-Z0-9_]{1,39}$", examples=["POVERTY_2027"])]

_WEIGHTS = (
    'Weights are decimal strings (`"0.3"`) that must sum to exactly 1; a formula whose '
    "weights do not is refused with 422 naming `definition.components`. When a weighted "
    "component's indicator sums to zero over the units of a run, the run is refused naming "
    "the component, unless the component says `on_zero_total: equal_share`."
)


@router.get(
    "/formulas",
    summary="Every formula version: shipped examples first, then stored ones",
    description="`COMMUNE_FUND_2024_2028` (30 % equal, 30 % population, 30 % villages, 10 % "
    "among villages) and `POVERTY_WEIGHTED` ship with the service.",
    responses=answer_example([f.model_dump(mode="json") for f in SHIPPED.values()]),
)
async def list_formulas(session: SessionDep, principal: Reader) -> list[FormulaRead]:
    return await service.listing(session)


@router.post(
    "/formulas",
    status_code=201,
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 409, 422)},
    summary="Store a new formula, version 1 (national budget planner)",
    description=_WEIGHTS,
)
async def create_formula(
    body: FormulaCreate, session: SessionDep, principal: NationalPlanner
) -> FormulaRead:
    return await service.create_version(
        session, principal=principal, code=body.code, name=body.name,
        description=body.description, definition=body.definition, new=True,
    )  # fmt: skip


@router.post(
    "/formulas/{code}/versions",
    status_code=201,
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 404, 422)},
    summary="Store the next version of a formula (national budget planner)",
    description=_WEIGHTS + " Runs keep the version they used; a new version changes no run.",
)
async def add_formula_version(
    code: Code, body: FormulaVersionCreate, session: SessionDep, principal: NationalPlanner
) -> FormulaRead:
    return await service.create_version(
        session, principal=principal, code=code, name=body.name,
        description=body.description, definition=body.definition, new=False,
    )  # fmt: skip


@router.get(
    "/formulas/{code}/versions/{version}",
    responses={404: PROBLEM_RESPONSES[404]},
    summary="One formula version",
)
async def get_formula(
    code: Code, version: Annotated[int, Path(ge=1)], session: SessionDep, principal: Reader
) -> FormulaRead:
    found = await service.find(session, code, version)
    if found is None:
        raise Problem.not_found(f"The formula {code} version {version}")
    return found
