"""Events and history of the households service: the fields every household and member
event carries, emitting them, the history entries, and marking a record as changed; the
validation helpers shared by registration and edits (the rules are households.rules)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.audit import record_change
from services.registry.households import rules
from services.registry.households.models import (
    Household,
    Member,
    MemberStatus,
)
from services.registry.households.schemas import (
    HouseholdCreate,
)
from shared import clock
from shared.outbox import emit
from shared.principal import Principal
from shared.problems import FieldError, Problem

REMOVAL_STATUS = {
    "deceased": MemberStatus.DECEASED,
    "moved_out": MemberStatus.MOVED_OUT,
    "error": MemberStatus.REMOVED,
}


def invalid(errors: list[FieldError]) -> Problem:
    fields = ", ".join(e.field for e in errors)
    return Problem(422, f"Invalid fields: {fields}.", errors=errors)


def household_errors(data: HouseholdCreate, *, on: date) -> list[FieldError]:
    return rules.household_errors(
        [member.model_dump() for member in data.members],
        None if data.poverty_status is None else data.poverty_status.model_dump(),
        on=on,
    )


def household_fields(household: Household) -> dict[str, Any]:
    return {
        "household_id": household.id,
        "household_code": household.code,
        "village_code": household.village_code,
        "status": household.status,
        "record_version": household.version,
    }


def member_fields(member: Member) -> dict[str, Any]:
    return {
        "member_id": member.id,
        "household_id": member.household_id,
        "village_code": member.village_code,
        "record_version": member.version,
    }


async def emit_household(session: AsyncSession, household: Household, event_type, **extra) -> None:
    await emit(
        session,
        event_type(**household_fields(household), **extra),
        subject=household.id,
        jurisdiction=household.village_code,
    )


async def emit_member(session: AsyncSession, member: Member, event_type, **extra) -> None:
    await emit(
        session,
        event_type(**member_fields(member), **extra),
        subject=member.id,
        jurisdiction=member.village_code,
    )


def json_values(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, uuid.UUID) else v)
        for k, v in values.items()
    }


MEMBER_RECORD_FIELDS = (
    "family_name_km",
    "given_name_km",
    "family_name_latin",
    "given_name_latin",
    "sex",
    "birth_date",
    "birth_date_estimated",
    "relationship",
    "national_id",
    "phone",
    "disability_severity",
    "disability_card_number",
    "pregnant",
    "pregnancy_expected_on",
    "school_enrolment",
    "status",
    "status_reason",
    "village_code",
)
POVERTY_FIELDS = {
    "level": "poverty_level",
    "score": "poverty_score",
    "method": "poverty_method",
    "round_number": "poverty_round",
    "assessed_on": "poverty_assessed_on",
    "valid_until": "poverty_valid_until",
    "equity_card_number": "equity_card_number",
    "vulnerability_categories": "vulnerability_categories",
}


def member_values(member: Member) -> dict[str, Any]:
    return {name: getattr(member, name) for name in MEMBER_RECORD_FIELDS}


def record_member(
    session: AsyncSession, principal: Principal, member: Member, action: str, changes: dict
) -> None:
    record_change(
        session,
        principal=principal,
        entity="member",
        entity_id=member.id,
        action=action,
        changes=changes,
        household_id=member.household_id,
        village_code=member.village_code,
    )


def record_household(
    session: AsyncSession, principal: Principal, household: Household, action: str, changes: dict
) -> None:
    record_change(
        session,
        principal=principal,
        entity="household",
        entity_id=household.id,
        action=action,
        changes=changes,
        household_id=household.id,
        village_code=household.village_code,
    )


def touch(record: Household | Member, principal: Principal) -> None:
    """Mark a change: the next flush UPDATEs the row with a version check, so a concurrent
    writer of the same household loses with 412 (StaleDataError)."""
    record.updated_at = clock.now()
    record.updated_by = principal.sub


def json_diff(changes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {name: json_values(value) for name, value in changes.items()}
