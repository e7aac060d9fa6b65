"""The verification query's input and answer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from services.registry.households.codes import is_valid_household_code
from shared.problems import Problem, field_error

_NATIONAL_ID = re.compile(r"^[0-9A-Za-z]{1,20}$")


@dataclass(frozen=True)
class VerificationQuery:
    """One way of naming whom to verify: a household code, a national ID, or a member's
    names (Khmer or Latin) with the birth date."""

    by: Literal["household_code", "national_id", "latin_name", "khmer_name"]
    household_code: str | None = None
    national_id: str | None = None
    full_name: str | None = None
    birth_date: date | None = None

    @classmethod
    def from_params(
        cls,
        *,
        household_code: str | None,
        national_id: str | None,
        family_name_latin: str | None,
        given_name_latin: str | None,
        family_name_km: str | None,
        given_name_km: str | None,
        birth_date: date | None,
    ) -> VerificationQuery:
        latin = family_name_latin is not None or given_name_latin is not None
        khmer = family_name_km is not None or given_name_km is not None
        ways = [
            name
            for name, given in (
                ("household_code", household_code is not None),
                ("national_id", national_id is not None),
                ("latin_name", latin),
                ("khmer_name", khmer),
            )
            if given
        ]
        if not ways:
            raise _invalid(
                "household_code",
                "give household_code, national_id, or family and given names with birth_date",
            )
        if len(ways) > 1:
            raise _invalid(ways[1], f"give one way of identifying only, not {' and '.join(ways)}")
        by = ways[0]
        if by == "household_code":
            code = household_code.strip().upper()
            if not is_valid_household_code(code):
                raise _invalid("household_code", "not a household code (HH + 9 digits, checked)")
            return cls(by="household_code", household_code=code)
        if by == "national_id":
            if not _NATIONAL_ID.match(national_id.strip()):
                raise _invalid("national_id", "1 to 20 letters or digits")
            return cls(by="national_id", national_id=national_id.strip())
        suffix = "latin" if by == "latin_name" else "km"
        family, given = (
            (family_name_latin, given_name_latin)
            if by == "latin_name"
            else (family_name_km, given_name_km)
        )
        for field, value in ((f"family_name_{suffix}", family), (f"given_name_{suffix}", given)):
            if value is None or not value.strip():
                raise _invalid(field, "required with the other name and birth_date")
        if birth_date is None:
            raise _invalid("birth_date", "required to identify a person by name")
        full = " ".join(family.split()) + " " + " ".join(given.split())
        return cls(
            by=by,
            full_name=full.lower() if by == "latin_name" else full,
            birth_date=birth_date,
        )


def _invalid(field: str, reason: str) -> Problem:
    return Problem(422, f"query.{field}: {reason}", errors=[field_error(["query", field], reason)])


class BenefitSummary(BaseModel):
    period: str
    delivered_on: date | None
    amount_khr: int | None
    in_kind_item: str | None
    channel: str
    status: Literal["scheduled", "paid", "failed", "returned"]


class ProgrammeState(BaseModel):
    programme_code: str
    programme_name: str = Field(description="Per Accept-Language (km|en).")
    target: Literal["household", "individual"]
    enrolment_id: UUID
    member_id: UUID | None = Field(description="The member, for an individual programme.")
    status: Literal["proposed", "enrolled", "suspended", "exited"]
    enrolled_on: date | None
    exited_on: date | None
    last_benefit: BenefitSummary | None = Field(
        description="The benefit of the latest period recorded, whatever its status."
    )
    last_paid: BenefitSummary | None = Field(
        description="The benefit of the latest period that was paid: when it was last received."
    )


class VerifiedHousehold(BaseModel):
    household_id: UUID
    household_code: str
    village_code: str
    village_name: str | None = Field(description="Per Accept-Language (km|en).")
    status: str
    poverty_level: str
    poverty_valid_until: date | None
    equity_card_number: str | None


class VerifiedMember(BaseModel):
    member_id: UUID
    relationship: str
    sex: str
    birth_year: int
    status: str
    family_name_km: str | None = Field(description="Only for people of the area, not clients.")
    given_name_km: str | None
    family_name_latin: str | None
    given_name_latin: str | None


class VerificationMatch(BaseModel):
    household: VerifiedHousehold
    member: VerifiedMember | None = Field(
        description="The member the query named (national ID or names); null for a code."
    )
    programmes: list[ProgrammeState] = Field(
        description="Household programmes, and individual ones of the member named (all "
        "members' for a household code): every enrolment except rejected proposals."
    )


class VerificationResult(BaseModel):
    by: Literal["household_code", "national_id", "latin_name", "khmer_name"]
    matches: list[VerificationMatch]
