"""Official datasets (national upload, CSV) and the indicator values of a unit's children."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from pydantic import BaseModel

from services.budget import roles
from services.budget.docs import answer_example
from services.budget.formulas.schemas import GAZETTEER_INDICATORS, REGISTRY_INDICATORS
from services.budget.indicators import repository, service
from services.budget.indicators.models import Dataset
from shared.db import SessionDep
from shared.gazetteer import Level, LocationCode, get_gazetteer
from shared.principal import Principal
from shared.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(tags=["indicators"])

Reader = Annotated[Principal, Depends(roles.READER)]
NationalPlanner = Annotated[Principal, Depends(roles.NATIONAL_PLANNING)]
MAX_DATASET_BYTES = 2_000_000


class DatasetRead(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    source: str
    reference_date: date
    level: str
    area: str
    row_count: int
    uploaded_at: datetime
    used_at: datetime | None


class IndicatorRow(BaseModel):
    admin_code: str
    name_km: str
    name_en: str
    values: dict[str, int]


class IndicatorTable(BaseModel):
    area: str
    fiscal_year: int
    provenance: dict
    units: list[IndicatorRow]


def dataset_read(row: Dataset) -> DatasetRead:
    return DatasetRead.model_validate(row, from_attributes=True)


@router.post(
    "/datasets",
    status_code=201,
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 422)},
    summary="Upload an official dataset as CSV (national budget planner)",
    description=(
        "A CSV with the header `admin_code,value` and one row per unit of `level` under `area` "
        "(the whole country when empty): for example census population per commune. Codes "
        "keep their leading zeros (a spreadsheet's dropped zero is restored). Unknown, "
        "misplaced, repeated or missing units are refused with 422 naming them. A dataset an "
        "allocation run has used can no longer be removed."
    ),
)
async def upload_dataset(
    session: SessionDep,
    principal: NationalPlanner,
    file: Annotated[UploadFile, File(description="CSV: admin_code,value")],
    code: Annotated[str, Form(pattern=r"^[a-z][a-z0-9_]{1,62}$", examples=["population"])],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    source: Annotated[str, Form(min_length=1, max_length=300, examples=["NIS census 2019"])],
    reference_date: Annotated[date, Form()],
    level: Annotated[Literal["province", "district", "commune", "village"], Form()],
    area: Annotated[str, Form(pattern=r"^([0-9]{2}([0-9]{2}){0,2})?$")] = "",
) -> DatasetRead:
    content = await file.read(MAX_DATASET_BYTES + 1)
    if len(content) > MAX_DATASET_BYTES:
        raise Problem.invalid("file", f"is larger than {MAX_DATASET_BYTES} bytes", status=413)
    if area and area not in get_gazetteer():
        raise Problem.invalid("area", f"'{area}' is not a unit in the NCDD gazetteer")
    if len(area) >= Level(level).code_length:
        raise Problem.invalid("area", f"must be above the dataset's level ({level})")
    row = await service.upload(
        session, principal=principal, code=code, name=name.strip(), source=source.strip(),
        reference_date=reference_date, level=Level(level), area=area, content=content,
    )  # fmt: skip
    return dataset_read(row)


@router.get(
    "/datasets",
    summary="Uploaded datasets, newest reference date first per code",
    responses=answer_example(
        [
            {
                "id": "0b9f6a52-3c1d-4e8f-9a27-5d4c3b2a1f00",
                "code": "population",
                "name": "Census population per commune",
                "source": "NIS General Population Census 2019",
                "reference_date": "2019-03-03",
                "level": "commune",
                "area": "",
                "row_count": 1652,
                "uploaded_at": "2026-11-02T03:15:00Z",
                "used_at": None,
            }
        ]
    ),
)
async def list_datasets(session: SessionDep, principal: Reader) -> list[DatasetRead]:
    return [dataset_read(r) for r in await repository.datasets(session)]


@router.delete(
    "/datasets/{dataset_id}",
    status_code=204,
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 404, 409)},
    summary="Remove a dataset no run has used (national budget planner)",
)
async def remove_dataset(
    dataset_id: uuid.UUID, session: SessionDep, principal: NationalPlanner
) -> None:
    await service.remove(session, dataset_id=dataset_id)


@router.get(
    "/indicators",
    responses={404: PROBLEM_RESPONSES[404]},
    summary="The indicator values of a unit's children, with their provenance",
    description="Registry figures ("
    + ", ".join(REGISTRY_INDICATORS)
    + "), gazetteer counts ("
    + ", ".join(GAZETTEER_INDICATORS)
    + ") and `dataset.<code>` for the latest dataset of each code. Only your area.",
)
async def list_indicators(
    session: SessionDep,
    principal: Reader,
    fiscal_year: Annotated[int, Query(ge=2000, le=2100)],
    area: Annotated[
        LocationCode | None, Query(description="Default: your unit (national: the country).")
    ] = None,
) -> IndicatorTable:
    if area is None:
        area = principal.admin_code
    elif not principal.covers(area):
        raise Problem.not_found(f"The area {area}")
    gazetteer = get_gazetteer()
    children = gazetteer.children(area)
    if not children:
        raise Problem.invalid("area", "has no administrative units below it")
    codes = {d.code for d in await repository.datasets(session)}
    wanted = {*REGISTRY_INDICATORS, *GAZETTEER_INDICATORS} | {f"dataset.{c}" for c in codes}
    inputs = await service.gather(
        session, area=area, unit_codes=[c.code for c in children], indicators=wanted,
        fiscal_year=fiscal_year, strict=False,
    )  # fmt: skip
    return IndicatorTable(
        area=area,
        fiscal_year=fiscal_year,
        provenance=inputs.provenance,
        units=[
            IndicatorRow(
                admin_code=u.code, name_km=gazetteer.require(u.code).name_km,
                name_en=gazetteer.require(u.code).name_en, values=dict(u.values),
            )
            for u in inputs.units
        ],
    )  # fmt: skip
