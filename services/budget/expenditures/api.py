"""Expenditures recorded by the receiving unit against its released amount."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from services.budget import roles
from services.budget.amounts import riel
from services.budget.codes import LineCode
from services.budget.expenditures import repository, service
from shared.db import SessionDep
from shared.gazetteer import LocationCode
from shared.http.idempotency import IdempotencyDep
from shared.http.pagination import Page, PageDep
from shared.http.params import IsoDate
from shared.principal import Principal
from shared.problems import PROBLEM_RESPONSES, Problem
from shared.text import Text

router = APIRouter(tags=["expenditures"])

Reader = Annotated[Principal, Depends(roles.READER)]
Planner = Annotated[Principal, Depends(roles.PLANNING)]


class ExpenditureCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"fiscal_year": 2026, "line_code": "social_assistance",
                                         "amount_riel": 1_200_000, "spent_on": "2026-04-10",
                                         "description": "Transport for ID Poor outreach"}]},
    )  # fmt: skip
    fiscal_year: Annotated[int, Field(ge=2000, le=2100)]
    line_code: LineCode
    amount_riel: riel(gt=0, le=10**18)  # type: ignore[valid-type]
    spent_on: IsoDate
    description: Annotated[Text, Field(min_length=1, max_length=1000)]


class ExpenditureRead(BaseModel):
    id: uuid.UUID
    fiscal_year: int
    line_code: str
    admin_code: str
    amount_riel: int
    spent_on: date
    description: str


@router.post(
    "/expenditures",
    status_code=201,
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 422)},
    summary="Record your unit's spending against what was released to it",
    description="Spending beyond the released amount not yet spent (that unit, line and year) "
    "is refused with 422 naming `amount_riel`, with `released_riel`, `spent_riel`, "
    "`requested_riel` and `available_riel`.",
)
async def record_expenditure(
    body: ExpenditureCreate, session: SessionDep, principal: Planner, idempotency: IdempotencyDep
) -> ExpenditureRead:
    if idempotency.replay is not None:
        return idempotency.replay  # type: ignore[return-value]
    row = await service.record(
        session, principal=principal, fiscal_year=body.fiscal_year, line_code=body.line_code,
        amount_riel=body.amount_riel, spent_on=body.spent_on, description=body.description,
    )  # fmt: skip
    read = ExpenditureRead.model_validate(row, from_attributes=True)
    return await idempotency.respond(201, read.model_dump(mode="json"))  # type: ignore[return-value]


@router.get("/expenditures", summary="Spending of the units in your area (cursor pages)")
async def list_expenditures(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    fiscal_year: int | None = None,
    area: LocationCode | None = None,
) -> Page[ExpenditureRead]:
    if area is not None and not principal.covers(area):
        raise Problem.not_found(f"The area {area}")
    rows, cursor = await repository.list_visible(
        session, principal, fiscal_year=fiscal_year, area=area, page=page
    )
    items = [ExpenditureRead.model_validate(r, from_attributes=True) for r in rows]
    return Page(items=items, next_cursor=cursor)
