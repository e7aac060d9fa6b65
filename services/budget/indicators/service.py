"""Datasets (checked against the gazetteer, immutable once used) and the indicator values a
run reads for its units, with their provenance."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.budget.allocations.engine import UnitInput
from services.budget.formulas.schemas import (
    DATASET_PREFIX,
    GAZETTEER_INDICATORS,
    REGISTRY_INDICATORS,
)
from services.budget.indicators import repository
from services.budget.indicators.models import Dataset
from shared import clock
from shared.events.catalog.budget import DatasetRemoved, DatasetUploaded
from shared.gazetteer import InvalidLocationCode, Level, get_gazetteer, normalise_code
from shared.outbox import emit
from shared.principal import Principal
from shared.problems import Problem, field_error
from shared.text import has_control_characters

LEVEL_OF_LENGTH = {2: Level.PROVINCE, 4: Level.DISTRICT, 6: Level.COMMUNE, 8: Level.VILLAGE}
_SHOWN = 20  # unit codes named in an error before "and N more"


def _named(codes: list[str]) -> str:
    shown = ", ".join(codes[:_SHOWN])
    return shown + (f" and {len(codes) - _SHOWN} more" if len(codes) > _SHOWN else "")


def parse_dataset(content: bytes, *, level: Level, area: str) -> dict[str, int]:
    """Values per unit from a CSV of `admin_code,value` (a header row first). Every unit of
    `level` under `area` must appear exactly once, and nothing else; values are whole,
    non-negative numbers. Refusals name the unknown, misplaced, repeated and missing units."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Problem.invalid("file", "must be UTF-8 text") from None
    if has_control_characters(text.replace("\r", "").replace("\n", "").replace("\t", "")):
        raise Problem.invalid("file", "must not contain control characters")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["admin_code", "value"]:
        raise Problem.invalid("file", "the first row must be the header admin_code,value")
    gazetteer = get_gazetteer()
    values: dict[str, int] = {}
    errors = []
    unknown, misplaced, repeated = [], [], []
    for number, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2:
            errors.append(field_error(["file", f"row {number}"], "needs admin_code and value"))
            continue
        raw_code, raw_value = row[0].strip(), row[1].strip()
        try:
            code = normalise_code(raw_code)
        except InvalidLocationCode:
            unknown.append(raw_code)
            continue
        if code not in gazetteer:
            unknown.append(code)
            continue
        if len(code) != level.code_length or not code.startswith(area):
            misplaced.append(code)
            continue
        if code in values:
            repeated.append(code)
            continue
        if not raw_value.isdigit():
            errors.append(
                field_error(["file", f"row {number}", "value"], "must be a whole number >= 0")
            )
            continue
        values[code] = int(raw_value)
    expected = {u.code for u in gazetteer.descendants(area, level)}
    missing = sorted(expected - values.keys())
    if unknown:
        errors.append(field_error(["file"], f"unknown units: {_named(unknown)}"))
    if misplaced:
        where = f"under {area}" if area else "in the country"
        errors.append(field_error(["file"], f"not a {level} {where}: {_named(misplaced)}"))
    if repeated:
        errors.append(field_error(["file"], f"units given twice: {_named(repeated)}"))
    if missing:
        errors.append(field_error(["file"], f"missing units: {_named(missing)}"))
    if errors:
        raise Problem(
            422,
            "The dataset does not match the gazetteer: " + "; ".join(e.reason for e in errors),
            errors=errors,
        )
    return values


async def upload(
    session: AsyncSession,
    *,
    principal: Principal,
    code: str,
    name: str,
    source: str,
    reference_date: date,
    level: Level,
    area: str,
    content: bytes,
) -> Dataset:
    values = parse_dataset(content, level=level, area=area)
    row = Dataset(
        code=code, name=name, source=source, reference_date=reference_date, level=level.value,
        area=area, row_count=len(values), uploaded_by=principal.sub, uploaded_at=clock.now(),
    )  # fmt: skip
    session.add(row)
    await session.flush()
    await repository.add_values(session, row.id, values)
    await emit(
        session,
        DatasetUploaded(
            dataset_id=row.id, code=code, provenance=source, reference_date=reference_date,
            level=level.value, area=area, row_count=len(values),
        ),
        subject=row.id,
        jurisdiction="",
    )  # fmt: skip
    return row


async def remove(session: AsyncSession, *, dataset_id: uuid.UUID) -> None:
    row = await repository.dataset(session, dataset_id)
    if row is None:
        raise Problem.not_found("The dataset")
    if row.used_at is not None:
        raise Problem.conflict(
            "An allocation run used this dataset; it is kept as it is so the run can be "
            "explained and recomputed."
        )
    await repository.remove(session, dataset_id)
    await emit(
        session, DatasetRemoved(dataset_id=row.id, code=row.code), subject=row.id, jurisdiction=""
    )


@dataclass
class Inputs:
    """What a run reads: each unit's indicator values, and where they came from."""

    units: list[UnitInput]
    provenance: dict[str, Any] = field(default_factory=dict)
    dataset_ids: list[uuid.UUID] = field(default_factory=list)


async def gather(
    session: AsyncSession,
    *,
    area: str,
    unit_codes: list[str],
    indicators: set[str],
    fiscal_year: int,
    strict: bool = True,
) -> Inputs:
    """The values of `indicators` for each unit (a unit without data simply lacks the key).
    `strict`: a dataset that cannot serve these units is an error (a run), else skipped (a
    listing)."""
    gazetteer = get_gazetteer()
    length = len(unit_codes[0])
    values: dict[str, dict[str, int]] = {c: {} for c in unit_codes}
    provenance: dict[str, Any] = {}
    dataset_ids: list[uuid.UUID] = []
    wanted_registry = indicators & REGISTRY_INDICATORS.keys()
    if wanted_registry:
        figures = await repository.registry_figures(
            session, area=area, code_length=length, fiscal_year=fiscal_year
        )
        for code in unit_codes:
            for key in wanted_registry:
                if code in figures:
                    values[code][key] = figures[code][key]
        for key in wanted_registry:
            provenance[key] = {
                "source": "registry events (household and member read model, active only)",
                "as_of": clock.now().isoformat(),
            }
    for key in indicators & GAZETTEER_INDICATORS.keys():
        level = {"villages": Level.VILLAGE, "communes": Level.COMMUNE,
                 "districts": Level.DISTRICT}[key]  # fmt: skip
        for code in unit_codes:
            if level.code_length > length:
                values[code][key] = len(gazetteer.descendants(code, level))
        provenance[key] = {"source": "NCDD gazetteer"}
    for key in sorted(i for i in indicators if i.startswith(DATASET_PREFIX)):
        code_name = key[len(DATASET_PREFIX) :]
        found = await repository.latest_dataset(session, code_name)
        if found is None:
            raise Problem.invalid(
                "formula", f"the formula reads {key}, but no dataset {code_name} was uploaded"
            )
        if LEVEL_OF_LENGTH[len(unit_codes[0])].code_length > Level(found.level).code_length:
            if not strict:
                continue
            raise Problem.invalid(
                "formula",
                f"{key} is given per {found.level}; it cannot be divided among units below",
            )
        rows = await repository.dataset_values(session, found.id, area=area)
        sums: dict[str, int] = {}
        for unit_code, value in rows.items():
            sums[unit_code[:length]] = sums.get(unit_code[:length], 0) + value
        for code in unit_codes:
            if code in sums:
                values[code][key] = sums[code]
        provenance[key] = {
            "source": found.source, "dataset_id": str(found.id), "name": found.name,
            "reference_date": found.reference_date.isoformat(), "level": found.level,
        }  # fmt: skip
        dataset_ids.append(found.id)
    return Inputs(
        units=[UnitInput(c, values[c]) for c in unit_codes],
        provenance=provenance,
        dataset_ids=dataset_ids,
    )
