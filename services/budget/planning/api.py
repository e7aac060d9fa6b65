"""Fiscal years, budget lines and national envelopes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from services.budget import roles
from services.budget.codes import LINES, LineCode
from services.budget.docs import answer_example
from services.budget.planning import repository, service
from services.budget.planning.models import Envelope
from services.budget.planning.schemas import (
    BudgetLineRead,
    EnvelopeRead,
    EnvelopeSet,
    FiscalYearCreate,
    FiscalYearRead,
)
from shared.db import SessionDep
from shared.http.concurrency import set_etag
from shared.principal import Principal
from shared.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(tags=["planning"])

Reader = Annotated[Principal, Depends(roles.READER)]
NationalPlanner = Annotated[Principal, Depends(roles.NATIONAL_PLANNING)]
Year = Annotated[int, Path(ge=2000, le=2100, description="A calendar year.")]


def envelope_read(row: Envelope) -> EnvelopeRead:
    km, en = LINES[row.line_code]
    return EnvelopeRead(
        id=row.id, fiscal_year=row.fiscal_year, line_code=row.line_code, line_name_km=km,
        line_name_en=en, amount_riel=row.amount_riel, version=row.version, set_at=row.set_at,
    )  # fmt: skip


@router.get(
    "/budget-lines",
    summary="The social-protection budget lines of SNA budgets",
    responses=answer_example(
        [{"code": c, "name_km": km, "name_en": en} for c, (km, en) in LINES.items()]
    ),
)
async def list_budget_lines(principal: Reader) -> list[BudgetLineRead]:
    return [BudgetLineRead(code=c, name_km=km, name_en=en) for c, (km, en) in LINES.items()]


@router.post(
    "/fiscal-years",
    status_code=201,
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 409)},
    summary="Open a fiscal year (national budget planner)",
    description="A fiscal year is a calendar year (MEF budget calendar).",
)
async def open_fiscal_year(
    body: FiscalYearCreate, session: SessionDep, principal: NationalPlanner
) -> FiscalYearRead:
    row = await service.open_year(session, principal=principal, year=body.year)
    return FiscalYearRead.model_validate(row, from_attributes=True)


@router.get(
    "/fiscal-years",
    summary="Open fiscal years",
    responses=answer_example(
        [
            {
                "year": 2027,
                "starts_on": "2027-01-01",
                "ends_on": "2027-12-31",
                "opened_at": "2026-10-01T02:00:00Z",
            }
        ]
    ),
)
async def list_fiscal_years(session: SessionDep, principal: Reader) -> list[FiscalYearRead]:
    return [
        FiscalYearRead.model_validate(r, from_attributes=True)
        for r in await repository.fiscal_years(session)
    ]


@router.get("/fiscal-years/{year}/envelopes", summary="The national envelopes of a year")
async def list_envelopes(year: Year, session: SessionDep, principal: Reader) -> list[EnvelopeRead]:
    return [envelope_read(r) for r in await repository.envelopes(session, year)]


@router.put(
    "/fiscal-years/{year}/envelopes/{line_code}",
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 404, 409, 422)},
    summary="Set the national envelope of a budget line (national budget planner)",
    description=(
        "Whole riel, never negative. Fixed once the national allocation of that line and year "
        "is published (409)."
    ),
)
async def set_envelope(
    year: Year,
    line_code: LineCode,
    body: EnvelopeSet,
    session: SessionDep,
    principal: NationalPlanner,
    response: Response,
) -> EnvelopeRead:
    row = await service.set_envelope(
        session, principal=principal, year=year, line_code=line_code, amount_riel=body.amount_riel
    )
    set_etag(response, row.version)
    return envelope_read(row)


@router.get(
    "/fiscal-years/{year}/envelopes/{line_code}",
    responses={404: PROBLEM_RESPONSES[404]},
    summary="One national envelope",
)
async def get_envelope(
    year: Year, line_code: LineCode, session: SessionDep, principal: Reader, response: Response
) -> EnvelopeRead:
    row = await repository.envelope(session, year, line_code)
    if row is None:
        raise Problem.not_found(f"The envelope of {line_code} for {year}")
    set_etag(response, row.version)
    return envelope_read(row)
