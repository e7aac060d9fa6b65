"""Registry households and members as the DCI social registry's `Group` and `Member` records.

Identifiers: the household code is `HOUSEHOLD_ID`; a member's registry id is `MEMBER_ID`; a
national ID (`NIN`) appears only on the member whose NIN the client searched by (it already
knew it). Phone numbers never leave through DCI. Names are given in Latin script in `name`,
with the Khmer script form in `additional_attributes`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from services.registry.households.models import Household, Member

CONTEXT = {
    "@vocab": "https://schema.spdci.org/extensions/social/v1/",
    "common": "https://schema.spdci.org/common/v1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
REG_TYPE = "ns:kh-sp:RegistryType:Social"
RELATIONSHIP_HEAD = {"head": "self"}


def iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def _attrs(**values: Any) -> list[dict[str, Any]]:
    return [{"name": k, "value": v} for k, v in values.items() if v not in (None, [], "")]


def _age(birth_date: date, today: date) -> int:
    years = today.year - birth_date.year
    return years - ((today.month, today.day) < (birth_date.month, birth_date.day))


def member_record(
    member: Member, household: Household, *, national_id: str | None, today: date
) -> dict[str, Any]:
    """`national_id` is the NIN the client asked for; it is shown only on its owner."""
    identifiers = [
        {"@type": "Identifier", "identifier_type": "MEMBER_ID", "identifier_value": str(member.id)}
    ]
    person_ids = []
    if national_id is not None and member.national_id == national_id:
        person_ids.append(
            {"@type": "Identifier", "identifier_type": "NIN", "identifier_value": national_id}
        )
    return {
        "@type": "Member",
        "@id": f"urn:kh-sp:member:{member.id}",
        "member_identifier": identifiers,
        "demographic_info": {
            "@type": "SRPerson",
            "identifier": person_ids,
            "name": {
                "@type": "Name",
                "surname": member.family_name_latin,
                "given_name": member.given_name_latin,
            },
            "sex": member.sex,
            "birth_date": iso(member.birth_date),
            "is_deceased": member.status == "deceased",
        },
        "relationship_head": RELATIONSHIP_HEAD.get(member.relationship, member.relationship),
        "is_disabled": member.disability_severity is not None,
        "disability_info": (
            {"@type": "DisabilityInfo", "functional_severity": member.disability_severity}
            if member.disability_severity
            else None
        ),
        "registration_date": iso(member.created_at),
        "last_updated": iso(member.updated_at),
        "additional_attributes": _attrs(
            household_id=household.code,
            family_name_km=member.family_name_km,
            given_name_km=member.given_name_km,
            birth_date_estimated=member.birth_date_estimated or None,
            age=_age(member.birth_date, today),
            member_status=member.status,
            pregnant=member.pregnant or None,
            pregnancy_expected_on=iso(member.pregnancy_expected_on),
            school_enrolment=member.school_enrolment,
        ),
    }


def group_record(
    household: Household,
    members: Iterable[Member],
    *,
    national_id: str | None,
    today: date,
) -> dict[str, Any]:
    members = [m for m in members if m.status != "removed"]
    records = [member_record(m, household, national_id=national_id, today=today) for m in members]
    head = next(
        (r for m, r in zip(members, records, strict=True) if m.id == household.head_member_id),
        None,
    )
    return {
        "@context": CONTEXT,
        "@id": f"urn:kh-sp:household:{household.code}",
        "@type": "Group",
        "group_identifier": [
            {
                "@type": "Identifier",
                "identifier_type": "HOUSEHOLD_ID",
                "identifier_value": household.code,
            }
        ],
        "group_type": "household",
        "place": {
            "@type": "Place",
            "address": household.address,
            "location_code": household.village_code,
        },
        "poverty_score": household.poverty_score,
        "poverty_score_type": "IDPoor",
        "group_head_info": head,
        "group_size": sum(1 for m in members if m.status == "active"),
        "member_list": records,
        "registration_date": iso(household.created_at),
        "last_updated": iso(household.updated_at),
        "additional_attributes": _attrs(
            household_status=household.status,
            poverty_level=household.poverty_level,
            poverty_method=household.poverty_method,
            poverty_round=household.poverty_round,
            poverty_assessed_on=iso(household.poverty_assessed_on),
            poverty_valid_until=iso(household.poverty_valid_until),
            equity_card_number=household.equity_card_number,
            vulnerability_categories=list(household.vulnerability_categories) or None,
            commune_code=household.village_code[:6],
            district_code=household.village_code[:4],
            province_code=household.village_code[:2],
        ),
    }
