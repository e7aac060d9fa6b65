"""The verification route, for SNA staff and other government systems."""

from __future__ import annotations

from typing import Annotated, Any

from asyncpg import Record
from fastapi import APIRouter, Query

from services.registry.households.schemas import HOUSEHOLD_CODE_SCHEMA
from services.registry.verification import service
from services.registry.verification.schemas import (
    BenefitSummary,
    VerificationQuery,
    VerificationResult,
)
from shared.db import DatabaseDep
from shared.gazetteer import get_gazetteer
from shared.http.language import Language, LanguageDep
from shared.http.params import IsoDate
from shared.http.responses import json_response
from shared.principal import PrincipalDep
from shared.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["verification"])


_BENEFIT_FIELDS = tuple(BenefitSummary.model_fields)


def _benefit(row: Record, prefix: str) -> dict | None:
    if row[f"{prefix}_period"] is None:
        return None
    return {name: row[f"{prefix}_{name}"] for name in _BENEFIT_FIELDS}


def _village_name(code: str, language: Language) -> str | None:
    unit = get_gazetteer().get(code)
    if unit is None:
        return None
    return unit.name_km if language == "km" else unit.name_en


def result_from_rows(
    by: str, rows: list[Record], *, with_names: bool, language: Language
) -> dict[str, Any]:
    """`VerificationResult`, field for field, from `repository.verification_statement`'s rows
    (a row per match and programme state, ordered by match), without building models."""
    matches: list[dict[str, Any]] = []
    current = None
    for row in rows:
        key = (row["h_id"], row["m_id"])
        if key != current:
            current = key
            member = None
            if row["m_id"] is not None:
                member = {
                    "member_id": row["m_id"],
                    "relationship": row["m_relationship"],
                    "sex": row["m_sex"],
                    "birth_year": row["m_birth_date"].year,
                    "status": row["m_status"],
                    **{name: row[f"m_{name}"] if with_names else None for name in NAME_FIELDS},
                }
            matches.append(
                {
                    "household": {
                        "household_id": row["h_id"],
                        "household_code": row["h_code"],
                        "village_code": row["h_village_code"],
                        "village_name": _village_name(row["h_village_code"], language),
                        "status": row["h_status"],
                        "poverty_level": row["h_poverty_level"],
                        "poverty_valid_until": row["h_poverty_valid_until"],
                        "equity_card_number": row["h_equity_card_number"],
                    },
                    "member": member,
                    "programmes": [],
                }
            )
        if row["enrolment_id"] is not None:
            matches[-1]["programmes"].append(
                {
                    "programme_code": row["programme_code"],
                    "programme_name": row["name_km"] if language == "km" else row["name_en"],
                    "target": row["target"],
                    "enrolment_id": row["enrolment_id"],
                    "member_id": row["member_id"],
                    "status": row["status"],
                    "enrolled_on": row["enrolled_on"],
                    "exited_on": row["exited_on"],
                    "last_benefit": _benefit(row, "last"),
                    "last_paid": _benefit(row, "paid"),
                }
            )
    return {"by": by, "matches": matches}


NAME_FIELDS = ("family_name_km", "given_name_km", "family_name_latin", "given_name_latin")


@router.get(
    "/verification",
    response_model=VerificationResult,
    summary="Verify a household's or person's programmes and last benefits",
    description="Name a household by `household_code`, or a person by `national_id`, or by "
    "`family_name_latin` + `given_name_latin` (or `family_name_km` + `given_name_km`) + "
    "`birth_date`. Answers the household (code, village, status, IDPoor level and validity), "
    "its programmes with their enrolment states, and per programme the latest benefit and the "
    "latest paid one. People see their own jurisdiction only (404 outside); clients with the "
    "`registry.verification.read` scope verify nationwide, without names. No phone number or "
    "national ID is ever returned.",
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 404)},
)
async def verify_beneficiary(
    database: DatabaseDep,
    principal: PrincipalDep,
    language: LanguageDep,
    household_code: Annotated[str | None, Query(max_length=20, **HOUSEHOLD_CODE_SCHEMA)] = None,
    national_id: Annotated[str | None, Query(max_length=40)] = None,
    family_name_latin: Annotated[str | None, Query(max_length=100)] = None,
    given_name_latin: Annotated[str | None, Query(max_length=100)] = None,
    family_name_km: Annotated[str | None, Query(max_length=100)] = None,
    given_name_km: Annotated[str | None, Query(max_length=100)] = None,
    birth_date: Annotated[IsoDate | None, Query(description="YYYY-MM-DD, with the names.")] = None,
) -> VerificationResult:
    query = VerificationQuery.from_params(
        household_code=household_code,
        national_id=national_id,
        family_name_latin=family_name_latin,
        given_name_latin=given_name_latin,
        family_name_km=family_name_km,
        given_name_km=given_name_km,
        birth_date=birth_date,
    )
    rows = await service.verify_rows(database, principal=principal, query=query)
    result = result_from_rows(query.by, rows, with_names=not principal.client, language=language)
    return json_response(result, headers={"Content-Language": language})
