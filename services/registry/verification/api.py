"""The verification route, for SNA staff and other government systems."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.registry.verification import service
from services.registry.verification.schemas import (
    BenefitSummary,
    ProgrammeState,
    VerificationMatch,
    VerificationQuery,
    VerificationResult,
    VerifiedHousehold,
    VerifiedMember,
)
from shared.db import SessionDep
from shared.gazetteer import get_gazetteer
from shared.http.language import Language, LanguageDep
from shared.principal import PrincipalDep
from shared.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["verification"])


def _benefit(state: dict[str, Any], prefix: str) -> BenefitSummary | None:
    if state[f"{prefix}_period"] is None:
        return None
    return BenefitSummary(
        **{k: state[f"{prefix}_{k}"] for k in BenefitSummary.model_fields},
    )


def _village_name(code: str, language: Language) -> str | None:
    unit = get_gazetteer().get(code)
    if unit is None:
        return None
    return unit.name_km if language == "km" else unit.name_en


def to_public(match: service.Match, language: Language) -> VerificationMatch:
    household, member = match.household, match.member
    return VerificationMatch(
        household=VerifiedHousehold(
            household_id=household.id,
            household_code=household.code,
            village_code=household.village_code,
            village_name=_village_name(household.village_code, language),
            status=household.status,
            poverty_level=household.poverty_level,
            poverty_valid_until=household.poverty_valid_until,
            equity_card_number=household.equity_card_number,
        ),
        member=None
        if member is None
        else VerifiedMember(
            member_id=member.id,
            relationship=member.relationship,
            sex=member.sex,
            birth_year=member.birth_date.year,
            status=member.status,
            family_name_km=member.family_name_km if match.with_names else None,
            given_name_km=member.given_name_km if match.with_names else None,
            family_name_latin=member.family_name_latin if match.with_names else None,
            given_name_latin=member.given_name_latin if match.with_names else None,
        ),
        programmes=[
            ProgrammeState(
                programme_code=s["programme_code"],
                programme_name=s["name_km"] if language == "km" else s["name_en"],
                target=s["target"],
                enrolment_id=s["enrolment_id"],
                member_id=s["member_id"],
                status=s["status"],
                enrolled_on=s["enrolled_on"],
                exited_on=s["exited_on"],
                last_benefit=_benefit(s, "last"),
                last_paid=_benefit(s, "paid"),
            )
            for s in match.programmes
        ],
    )


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
    session: SessionDep,
    principal: PrincipalDep,
    language: LanguageDep,
    household_code: Annotated[str | None, Query(max_length=20, examples=["HH000000011"])] = None,
    national_id: Annotated[str | None, Query(max_length=40)] = None,
    family_name_latin: Annotated[str | None, Query(max_length=100)] = None,
    given_name_latin: Annotated[str | None, Query(max_length=100)] = None,
    family_name_km: Annotated[str | None, Query(max_length=100)] = None,
    given_name_km: Annotated[str | None, Query(max_length=100)] = None,
    birth_date: Annotated[date | None, Query(description="YYYY-MM-DD, with the names.")] = None,
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
    matches = await service.verify(session, principal=principal, query=query)
    return VerificationResult(by=query.by, matches=[to_public(m, language) for m in matches])
