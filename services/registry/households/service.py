"""The rules of households and members: registration, verification, edits, IDPoor status.

Life of a household:

    register (CS officer of the commune)  -> pending_verification
    verify   (DMK/CP/national verifier above it) -> active
    return   (same verifiers, with reasons)  -> returned
    resubmit (CS officer, after correcting)  -> pending_verification

While a household is `pending_verification` or `returned`, the CS officer of its commune edits
it directly (`require_direct_edit`, then the change functions below). Once it is `active`,
every change goes through a change request (maker-checker); the change-request service
calls the SAME change functions to apply an approved request:

    update_household(session, principal=, household=, changes=HouseholdUpdate)
    add_member(session, principal=, household=, data=MemberCreate) -> Member
    update_member(session, principal=, household=, member=, changes=MemberUpdate) -> Member
    remove_member(session, principal=, household=, member=, reason=, note=None) -> Member
    change_head(session, principal=, household=, new_head_member_id=, former_head_relationship=None)
    move_household(session, principal=, household=, to_village_code=)
    set_poverty_status(session, principal=, household=, status=PovertyStatusInput)
    dissolve_household(session, principal=, household=, reason=, merged_into=None)

Those functions check only that the household lies in the applying principal's jurisdiction
(403 otherwise) and the record's own invariants (422/409 with the field named); who may apply
what, and when, is the caller's rule (`require_direct_edit` for direct edits, the
change-request workflow otherwise). Each one writes a history entry (`record_change`) and its
events in the same session, bumps the household's version (the aggregate's version: a
concurrent edit of any part of the household gets 412), flushes, and never commits.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from typing import Any, Literal

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.enrolments.service import end_live_enrolments
from services.registry.history import diff, record_access, record_change
from services.registry.households import repository, rules
from services.registry.households.codes import format_household_code, is_valid_household_code
from services.registry.households.models import (
    Household,
    HouseholdStatus,
    Member,
    MemberStatus,
    PovertyStatusRecord,
    Relationship,
)
from services.registry.households.repository import HouseholdFilters
from services.registry.households.schemas import (
    MEMBER_REQUIRED_FIELDS,
    HouseholdCreate,
    HouseholdUpdate,
    MemberCreate,
    MemberRemovalReason,
    MemberUpdate,
    PovertyStatusInput,
    sees_sensitive,
)
from shared import clock
from shared.db.engine import Database
from shared.events.catalog.registry import (
    HouseholdDissolved,
    HouseholdMoved,
    HouseholdRegistered,
    HouseholdReturned,
    HouseholdUpdated,
    HouseholdVerified,
    MemberAdded,
    MemberRemoved,
    MemberUpdated,
    PovertyStatusChanged,
    RegisteredMember,
)
from shared.gazetteer import InvalidLocationCode, Level, get_gazetteer
from shared.http.pagination import PageParams
from shared.jurisdiction import require_in_jurisdiction
from shared.outbox import emit
from shared.principal import Principal
from shared.problems import FieldError, Problem, field_error
from shared.tiers import Tier

OFFICER_ROLE = "registry.officer"
VERIFIER_ROLE = "registry.verifier"
VERIFIER_TIERS = (Tier.DMK, Tier.CP, Tier.NATIONAL)
DIRECTLY_EDITABLE = (HouseholdStatus.PENDING_VERIFICATION, HouseholdStatus.RETURNED)
CLOSED = (HouseholdStatus.DISSOLVED, HouseholdStatus.MOVED)

SEARCH_THRESHOLD = 0.3  # pg_trgm's default; names shorter than ~6 letters need it this low
REMOVAL_STATUS = {
    "deceased": MemberStatus.DECEASED,
    "moved_out": MemberStatus.MOVED_OUT,
    "error": MemberStatus.REMOVED,
}


def _invalid(errors: list[FieldError]) -> Problem:
    fields = ", ".join(e.field for e in errors)
    return Problem(422, f"Invalid fields: {fields}.", errors=errors)


def _household_errors(data: HouseholdCreate, *, on: date) -> list[FieldError]:
    return rules.household_errors(
        [member.model_dump() for member in data.members],
        None if data.poverty_status is None else data.poverty_status.model_dump(),
        on=on,
    )


# --- who may do what --------------------------------------------------------------------------


def _require_commune_officer(principal: Principal, village_code: str, *, what: str) -> None:
    """A CS registry officer whose commune contains the village."""
    if principal.tier is not Tier.CS or not principal.has_role(OFFICER_ROLE):
        raise Problem.forbidden(f"{what}: only a commune (CS) registry officer may do this.")
    require_in_jurisdiction(principal, village_code, what="A household")


def _require_verifier(principal: Principal, household: Household) -> None:
    """A registry verifier at the district, province or national level above the household."""
    if principal.tier not in VERIFIER_TIERS or not principal.has_role(VERIFIER_ROLE):
        raise Problem.forbidden(
            "Only a registry verifier of the district (DMK), province (CP) or national level "
            "verifies households."
        )
    require_in_jurisdiction(principal, household.village_code, what="A household")


def require_direct_edit(principal: Principal, household: Household) -> None:
    """Direct edits: the CS officer of the household's commune, before verification only.
    An active household answers 409: its changes go through change requests."""
    _require_commune_officer(principal, household.village_code, what="Editing a household")
    if household.status == HouseholdStatus.ACTIVE:
        raise Problem.conflict(
            "The household is verified (active): changes go through a change request "
            "(POST /change-requests), not direct edits.",
            slug="change-request-required",
        )
    if household.status not in DIRECTLY_EDITABLE:
        raise Problem.conflict(f"The household is {household.status} and cannot be edited.")


def _require_open(household: Household) -> None:
    if household.status in CLOSED:
        raise Problem.conflict(f"The household is {household.status} and cannot change.")


def _village(code: str, field: str) -> str:
    try:
        get_gazetteer().require(code, level=Level.VILLAGE)
    except InvalidLocationCode as exc:
        raise Problem.invalid(field, str(exc)) from None
    return code


# --- events and history -------------------------------------------------------------------------


def _household_fields(household: Household) -> dict[str, Any]:
    return {
        "household_id": household.id,
        "household_code": household.code,
        "village_code": household.village_code,
        "status": household.status,
        "record_version": household.version,
    }


def _member_fields(member: Member) -> dict[str, Any]:
    return {
        "member_id": member.id,
        "household_id": member.household_id,
        "village_code": member.village_code,
        "record_version": member.version,
    }


async def _emit_household(session: AsyncSession, household: Household, event_type, **extra) -> None:
    await emit(
        session,
        event_type(**_household_fields(household), **extra),
        subject=household.id,
        jurisdiction=household.village_code,
    )


async def _emit_member(session: AsyncSession, member: Member, event_type, **extra) -> None:
    await emit(
        session,
        event_type(**_member_fields(member), **extra),
        subject=member.id,
        jurisdiction=member.village_code,
    )


def _json(values: dict[str, Any]) -> dict[str, Any]:
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


def _member_values(member: Member) -> dict[str, Any]:
    return {name: getattr(member, name) for name in MEMBER_RECORD_FIELDS}


def _record_member(
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


def _record_household(
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


def _touch(record: Household | Member, principal: Principal) -> None:
    """Mark a change: the next flush UPDATEs the row with a version check, so a concurrent
    writer of the same household loses with 412 (StaleDataError)."""
    record.updated_at = clock.now()
    record.updated_by = principal.sub


# --- registration and verification ----------------------------------------------------------


async def register_household(
    session: AsyncSession,
    *,
    principal: Principal,
    data: HouseholdCreate,
    origin: Literal["api", "import", "change_request"] = "api",
) -> Household:
    """Register a household with its members, as pending verification.

    The principal must be a CS registry officer whose commune contains the village when
    `origin` is "api"; an import or an approved change request has already been authorised
    by its own workflow, so for them only the jurisdiction is checked. Invalid combinations
    (no head, two heads, a child older than the head, a pregnancy due in two years) raise a
    422 problem naming each field (`members/2/birth_date`). Writes the household, its
    members, their history entries and the events HouseholdRegistered (carrying its
    members) and PovertyStatusChanged (when a status is given); flushes, does not commit.
    """
    if origin == "api":
        _require_commune_officer(principal, data.village_code, what="Registering a household")
    else:
        require_in_jurisdiction(principal, data.village_code, what="A household")
    errors = _household_errors(data, on=clock.today())
    if errors:
        raise _invalid(errors)

    number = await repository.next_household_number(session)
    now = clock.now()
    members = [
        Member(
            id=uuid.uuid4(),
            village_code=data.village_code,
            created_at=now,
            created_by=principal.sub,
            updated_at=now,
            updated_by=principal.sub,
            **spec.model_dump(),
        )
        for spec in data.members
    ]
    head = next(m for m in members if m.relationship == Relationship.HEAD)
    household = Household(
        id=uuid.uuid4(),
        code=format_household_code(number),
        village_code=data.village_code,
        address=data.address,
        head_member_id=head.id,
        status=HouseholdStatus.PENDING_VERIFICATION,
        created_at=now,
        created_by=principal.sub,
        updated_at=now,
        updated_by=principal.sub,
    )
    if data.poverty_status is not None:
        _apply_poverty(household, data.poverty_status)
    session.add(household)
    await session.flush()  # the household row before its members (foreign key)
    for member in members:
        member.household_id = household.id
        session.add(member)
    await session.flush()

    # Flag likely duplicates (same national ID, phone, Latin name + birth date + commune, or a
    # similar Khmer name) instead of silently creating them: the household is still created,
    # pending verification, and its candidates are listed at GET /households/{id}/duplicates.
    # Imported here: the duplicates service itself uses this module (dissolve_household).
    from services.registry.duplicates import service as duplicates_service

    await duplicates_service.flag_duplicates(
        session, household_ids=[household.id], principal=principal
    )

    _record_household(
        session,
        principal,
        household,
        "registered",
        _json(
            {
                "code": household.code,
                "village_code": household.village_code,
                "address": household.address,
                "status": household.status,
                "head_member_id": household.head_member_id,
                "member_count": len(members),
                "origin": origin,
            }
        ),
    )
    await _emit_household(
        session,
        household,
        HouseholdRegistered,
        member_count=len(members),
        origin=origin,
        members=[
            RegisteredMember(
                member_id=member.id,
                relationship=member.relationship,
                sex=member.sex,
                birth_year=member.birth_date.year,
            )
            for member in members
        ],
    )
    # The members are announced in HouseholdRegistered (as an import announces them), not
    # by one MemberAdded each: MemberAdded is a member joining an existing household.
    for member in members:
        _record_member(session, principal, member, "added", _json(_member_values(member)))
    if data.poverty_status is not None:
        await _poverty_history(session, principal, household, previous=None)
    await session.flush()
    return household


async def verify_household(
    session: AsyncSession, *, principal: Principal, household: Household
) -> Household:
    """pending_verification -> active, by a verifier of the district or above (403 for a CS
    officer or a verifier elsewhere; 409 in any other state). Event HouseholdVerified."""
    _require_verifier(principal, household)
    if household.status != HouseholdStatus.PENDING_VERIFICATION:
        raise Problem.conflict(
            f"Only a household pending verification can be verified; this one is "
            f"{household.status}."
        )
    household.status = HouseholdStatus.ACTIVE
    household.verified_at = clock.now()
    household.verified_by = principal.sub
    household.returned_reasons = []
    _touch(household, principal)
    await session.flush()
    _record_household(
        session,
        principal,
        household,
        "verified",
        {"status": {"from": HouseholdStatus.PENDING_VERIFICATION, "to": HouseholdStatus.ACTIVE}},
    )
    await _emit_household(session, household, HouseholdVerified)
    await session.flush()
    return household


async def return_household(
    session: AsyncSession, *, principal: Principal, household: Household, reasons: list[str]
) -> Household:
    """pending_verification -> returned with the reasons the commune must correct (same
    verifiers as `verify_household`). Event HouseholdReturned."""
    _require_verifier(principal, household)
    if household.status != HouseholdStatus.PENDING_VERIFICATION:
        raise Problem.conflict(
            f"Only a household pending verification can be returned; this one is "
            f"{household.status}."
        )
    household.status = HouseholdStatus.RETURNED
    household.returned_reasons = list(reasons)
    _touch(household, principal)
    await session.flush()
    _record_household(
        session,
        principal,
        household,
        "returned",
        {
            "status": {
                "from": HouseholdStatus.PENDING_VERIFICATION,
                "to": HouseholdStatus.RETURNED,
            },
            "reasons": list(reasons),
        },
    )
    await _emit_household(session, household, HouseholdReturned, reasons=list(reasons))
    await session.flush()
    return household


async def resubmit_household(
    session: AsyncSession, *, principal: Principal, household: Household
) -> Household:
    """returned -> pending_verification, by the CS officer of the commune once corrected.
    Event HouseholdUpdated (changed_fields: status)."""
    _require_commune_officer(principal, household.village_code, what="Resubmitting a household")
    if household.status != HouseholdStatus.RETURNED:
        raise Problem.conflict(
            f"Only a returned household can be resubmitted; this one is {household.status}."
        )
    household.status = HouseholdStatus.PENDING_VERIFICATION
    reasons = list(household.returned_reasons)
    household.returned_reasons = []
    _touch(household, principal)
    await session.flush()
    _record_household(
        session,
        principal,
        household,
        "resubmitted",
        {
            "status": {
                "from": HouseholdStatus.RETURNED,
                "to": HouseholdStatus.PENDING_VERIFICATION,
            },
            "answered_reasons": reasons,
        },
    )
    await _emit_household(session, household, HouseholdUpdated, changed_fields=["status"])
    await session.flush()
    return household


# --- changes (direct edits before verification; change requests after) -----------------------


async def update_household(
    session: AsyncSession, *, principal: Principal, household: Household, changes: HouseholdUpdate
) -> Household:
    """Change the address and/or the village within the same commune (members follow).

    A village in another commune is refused (422 on village_code): that is a move, see
    `move_household`. Events: HouseholdUpdated for the address, HouseholdMoved for the
    village."""
    require_in_jurisdiction(principal, household.village_code, what="A household")
    _require_open(household)
    values = changes.changes()
    if not values:
        raise Problem.invalid("body", "name at least one field to change")
    new_village = values.get("village_code")
    if new_village is not None and new_village != household.village_code:
        if new_village[:6] != household.village_code[:6]:
            raise Problem.invalid(
                "village_code",
                "is in another commune: moving a household between communes is a move "
                "(a change request of type move_household)",
            )
        require_in_jurisdiction(principal, new_village, what="A household")
    address = values.get("address")
    address_changed = address is not None and address != household.address
    origin = household.village_code
    moving = new_village is not None and new_village != origin
    if not address_changed and not moving:
        return household
    before_address = household.address
    if address_changed:
        household.address = address
    if moving:
        household.village_code = new_village
    _touch(household, principal)
    await session.flush()
    if address_changed:
        _record_household(
            session,
            principal,
            household,
            "updated",
            diff({"address": before_address}, {"address": address}),
        )
        await _emit_household(session, household, HouseholdUpdated, changed_fields=["address"])
    if moving:
        await _members_follow(session, principal, household, origin)
    await session.flush()
    return household


async def move_household(
    session: AsyncSession, *, principal: Principal, household: Household, to_village_code: str
) -> Household:
    """Move the household (and its members) to another village, possibly in another commune
    or district. The principal must cover the household's current village; the destination's
    agreement (both communes involved) is the change-request workflow's rule. Event
    HouseholdMoved with from_village_code."""
    require_in_jurisdiction(principal, household.village_code, what="A household")
    _require_open(household)
    _village(to_village_code, "to_village_code")
    if to_village_code == household.village_code:
        raise Problem.invalid("to_village_code", "is the household's village already")
    origin = household.village_code
    household.village_code = to_village_code
    _touch(household, principal)
    await session.flush()
    await _members_follow(session, principal, household, origin)
    await session.flush()
    return household


async def _members_follow(
    session: AsyncSession, principal: Principal, household: Household, origin: str
) -> None:
    """After the household's village changed (and was flushed): members move with it."""
    for member in await repository.members_of(session, household.id):
        member.village_code = household.village_code
        _touch(member, principal)
    await session.flush()
    _record_household(
        session,
        principal,
        household,
        "moved",
        {"village_code": {"from": origin, "to": household.village_code}},
    )
    await _emit_household(session, household, HouseholdMoved, from_village_code=origin)


async def add_member(
    session: AsyncSession, *, principal: Principal, household: Household, data: MemberCreate
) -> Member:
    """Add a member. A second head is refused (change the head instead); dates are checked
    against today and the head. Events MemberAdded (and the household's version moves)."""
    require_in_jurisdiction(principal, household.village_code, what="A household")
    _require_open(household)
    members = await repository.members_of(session, household.id)
    head = next((m for m in members if m.id == household.head_member_id), None)
    if data.relationship == Relationship.HEAD and head is not None:
        raise Problem.invalid(
            "relationship", "the household already has a head (change the head instead)"
        )
    errors = rules.member_errors(
        data.model_dump(),
        [],
        head=_member_values(head) if head is not None else None,
        on=clock.today(),
    )
    if data.national_id and any(m.national_id == data.national_id for m in members):
        errors.append(field_error(["national_id"], "another member of this household has it"))
    if errors:
        raise _invalid(errors)
    member = Member(
        id=uuid.uuid4(),
        household_id=household.id,
        village_code=household.village_code,
        created_by=principal.sub,
        updated_by=principal.sub,
        **data.model_dump(),
    )
    if data.relationship == Relationship.HEAD:
        household.head_member_id = member.id
    _touch(household, principal)
    await session.flush()  # the household's version first: a concurrent edit loses here
    session.add(member)
    await session.flush()
    _record_member(session, principal, member, "added", _json(_member_values(member)))
    await _emit_member(
        session,
        member,
        MemberAdded,
        relationship=member.relationship,
        sex=member.sex,
        birth_year=member.birth_date.year,
    )
    await session.flush()
    return member


async def update_member(
    session: AsyncSession,
    *,
    principal: Principal,
    household: Household,
    member: Member,
    changes: MemberUpdate,
) -> Member:
    """Change a member's details. The relationship cannot become or stop being head (use
    `change_head`); required fields cannot be cleared; the merged values must still be
    plausible. Event MemberUpdated (field names only, no values)."""
    require_in_jurisdiction(principal, household.village_code, what="A household")
    _require_open(household)
    _require_member_of(member, household)
    values = changes.changes()
    if not values:
        raise Problem.invalid("body", "name at least one field to change")
    errors = [
        field_error([name], "cannot be cleared")
        for name, value in values.items()
        if value is None and name in MEMBER_REQUIRED_FIELDS
    ]
    relationship = values.get("relationship")
    if relationship is not None:
        if relationship == Relationship.HEAD and member.relationship != Relationship.HEAD:
            errors.append(field_error(["relationship"], "to make a member head, change the head"))
        if member.relationship == Relationship.HEAD and relationship != Relationship.HEAD:
            errors.append(
                field_error(["relationship"], "the head stays head until the head changes")
            )
    if errors:
        raise _invalid(errors)
    before = _member_values(member)
    after = {**before, **values}
    if values.get("pregnant") is False and "pregnancy_expected_on" not in values:
        after["pregnancy_expected_on"] = None
    head = None
    if member.relationship != Relationship.HEAD and household.head_member_id is not None:
        head_member = await repository.member_for_change(session, household.head_member_id)
        head = _member_values(head_member) if head_member else None
    errors = rules.member_errors(after, [], head=head, on=clock.today())
    if member.id == household.head_member_id and not errors:
        errors = await _household_against_head(session, household, member, after)
    if errors:
        raise _invalid(errors)
    changed = diff(before, after)
    if not changed:
        return member
    _touch(household, principal)
    await session.flush()
    for name in changed:
        setattr(member, name, after[name])
    _touch(member, principal)
    await session.flush()
    _record_member(session, principal, member, "updated", _json_diff(changed))
    await _emit_member(session, member, MemberUpdated, changed_fields=sorted(changed))
    await session.flush()
    return member


async def _household_against_head(
    session: AsyncSession, household: Household, head: Member, head_values: dict[str, Any]
) -> list[FieldError]:
    """A corrected head's birth date must still fit the generations of the other members."""
    if (
        head_values["birth_date"] == head.birth_date
        and head_values.get("birth_date_estimated") == head.birth_date_estimated
    ):
        return []
    others = [
        (f"{m.family_name_latin} {m.given_name_latin} ({m.id})", _member_values(m))
        for m in await repository.members_of(session, household.id)
        if m.id != head.id and m.status == MemberStatus.ACTIVE
    ]
    misfit = rules.head_fits_members(head_values, others)
    return [] if misfit is None else [misfit]


def _json_diff(changes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {name: _json(value) for name, value in changes.items()}


def _require_member_of(member: Member, household: Household) -> None:
    if member.household_id != household.id:
        raise Problem.not_found("The member of this household")


async def remove_member(
    session: AsyncSession,
    *,
    principal: Principal,
    household: Household,
    member: Member,
    reason: MemberRemovalReason,
    note: str | None = None,
) -> Member:
    """A member leaves: deceased, moved_out, or error (recorded by mistake). The row stays
    for history with that status, and the member's live enrolments end (exited, or rejected
    if only proposed). The head cannot be removed: change the head first.
    Events MemberRemoved, and EnrolmentExited/EnrolmentRejected per enrolment ended."""
    require_in_jurisdiction(principal, household.village_code, what="A household")
    _require_open(household)
    _require_member_of(member, household)
    if member.status != MemberStatus.ACTIVE:
        raise Problem.conflict(f"The member is already {member.status}.")
    if member.id == household.head_member_id:
        raise Problem.conflict(
            "The head of household cannot be removed; change the head first.",
            slug="head-cannot-be-removed",
        )
    _touch(household, principal)
    await session.flush()
    before = member.status
    member.status = REMOVAL_STATUS[reason]
    member.status_reason = note or reason
    _touch(member, principal)
    await session.flush()
    _record_member(
        session,
        principal,
        member,
        "removed",
        {"status": {"from": before, "to": member.status}, "reason": reason, "note": note},
    )
    await _emit_member(session, member, MemberRemoved, reason=reason)
    await end_live_enrolments(
        session,
        principal=principal,
        household=household,
        member_id=member.id,
        reason=f"member left the household ({reason})",
    )
    await session.flush()
    return member


_FORMER_HEAD = {
    Relationship.SPOUSE: Relationship.SPOUSE,
    Relationship.CHILD: Relationship.PARENT,
    Relationship.PARENT: Relationship.CHILD,
    Relationship.SIBLING: Relationship.SIBLING,
}


async def change_head(
    session: AsyncSession,
    *,
    principal: Principal,
    household: Household,
    new_head_member_id: uuid.UUID,
    former_head_relationship: Relationship | None = None,
) -> Household:
    """Make an active member the head. The former head's relationship becomes
    `former_head_relationship`, by default the mirror of the new head's (a spouse taking over
    leaves a spouse, a child leaves a parent; otherwise other_relative). Other members'
    relationships are not recomputed. Events HouseholdUpdated (head_member_id) and
    MemberUpdated (relationship) for both members."""
    require_in_jurisdiction(principal, household.village_code, what="A household")
    _require_open(household)
    new_head = await repository.member_for_change(session, new_head_member_id)
    if new_head is None or new_head.household_id != household.id:
        raise Problem.invalid("member_id", "is not a member of this household")
    if new_head.status != MemberStatus.ACTIVE:
        raise Problem.invalid("member_id", f"the member is {new_head.status}")
    if new_head.id == household.head_member_id:
        raise Problem.invalid("member_id", "is the head already")
    former = (
        await repository.member_for_change(session, household.head_member_id)
        if household.head_member_id
        else None
    )
    previous_head_id = household.head_member_id
    household.head_member_id = new_head.id
    _touch(household, principal)
    await session.flush()
    if former is not None:
        relationship = former_head_relationship or _FORMER_HEAD.get(
            Relationship(new_head.relationship), Relationship.OTHER_RELATIVE
        )
        if relationship == Relationship.HEAD:
            raise Problem.invalid("former_head_relationship", "cannot be head")
        before = former.relationship
        former.relationship = relationship
        _touch(former, principal)
    new_before = new_head.relationship
    new_head.relationship = Relationship.HEAD
    _touch(new_head, principal)
    await session.flush()
    _record_household(
        session,
        principal,
        household,
        "head_changed",
        _json_diff({"head_member_id": {"from": previous_head_id, "to": new_head.id}}),
    )
    await _emit_household(session, household, HouseholdUpdated, changed_fields=["head_member_id"])
    if former is not None:
        _record_member(
            session,
            principal,
            former,
            "updated",
            {"relationship": {"from": before, "to": former.relationship}},
        )
        await _emit_member(session, former, MemberUpdated, changed_fields=["relationship"])
    _record_member(
        session,
        principal,
        new_head,
        "updated",
        {"relationship": {"from": new_before, "to": Relationship.HEAD}},
    )
    await _emit_member(session, new_head, MemberUpdated, changed_fields=["relationship"])
    await session.flush()
    return household


def _apply_poverty(household: Household, status: PovertyStatusInput) -> None:
    for source, target in POVERTY_FIELDS.items():
        value = getattr(status, source)
        if source == "vulnerability_categories":
            value = [str(v) for v in value]
        elif value is not None and source in ("level", "method"):
            value = str(value)
        setattr(household, target, value)


def _poverty_values(household: Household) -> dict[str, Any]:
    return {source: getattr(household, target) for source, target in POVERTY_FIELDS.items()}


async def _poverty_history(
    session: AsyncSession, principal: Principal, household: Household, *, previous: dict | None
) -> None:
    current = _poverty_values(household)
    session.add(
        PovertyStatusRecord(
            household_id=household.id,
            level=current["level"],
            score=current["score"],
            method=current["method"],
            round_number=current["round_number"],
            assessed_on=current["assessed_on"],
            valid_until=current["valid_until"],
            equity_card_number=current["equity_card_number"],
            vulnerability_categories=list(current["vulnerability_categories"]),
            recorded_by=principal.sub,
        )
    )
    _record_household(
        session,
        principal,
        household,
        "poverty_status_changed",
        _json_diff(diff(previous or {}, current)),
    )
    await _emit_household(
        session,
        household,
        PovertyStatusChanged,
        level=current["level"],
        previous_level=previous["level"] if previous else None,
        method=current["method"],
        round_number=current["round_number"],
        assessed_on=current["assessed_on"],
        valid_until=current["valid_until"],
        vulnerability_categories=list(current["vulnerability_categories"]),
    )


async def set_poverty_status(
    session: AsyncSession,
    *,
    principal: Principal,
    household: Household,
    status: PovertyStatusInput,
) -> Household:
    """Record a new IDPoor assessment: the household's current status, a history row, a
    history entry and PovertyStatusChanged (with the previous level). Invalid combinations
    are 422 naming the field under `poverty_status`."""
    require_in_jurisdiction(principal, household.village_code, what="A household")
    _require_open(household)
    errors = rules.poverty_errors(status.model_dump(), ["poverty_status"], on=clock.today())
    if errors:
        raise _invalid(errors)
    previous = _poverty_values(household)
    _apply_poverty(household, status)
    _touch(household, principal)
    await session.flush()
    await _poverty_history(session, principal, household, previous=previous)
    await session.flush()
    return household


async def dissolve_household(
    session: AsyncSession,
    *,
    principal: Principal,
    household: Household,
    reason: str,
    merged_into: uuid.UUID | None = None,
) -> Household:
    """The household no longer exists (dissolved, or merged into `merged_into` as a
    duplicate). Its members keep their rows and status; moving them to the surviving
    household is the caller's job (add_member there). Its live enrolments end (exited, or
    rejected if only proposed): benefits are not recorded for a household that no longer
    exists. Events HouseholdDissolved, and EnrolmentExited/EnrolmentRejected per enrolment."""
    require_in_jurisdiction(principal, household.village_code, what="A household")
    _require_open(household)
    if not reason.strip():
        raise Problem.invalid("reason", "required")
    if merged_into is not None:
        survivor = await repository.household_for_change(session, merged_into)
        if survivor is None or survivor.id == household.id:
            raise Problem.invalid("merged_into", "is not another household of the registry")
    before = household.status
    household.status = HouseholdStatus.DISSOLVED
    _touch(household, principal)
    await session.flush()
    _record_household(
        session,
        principal,
        household,
        "dissolved",
        _json(
            {
                "status": {"from": before, "to": HouseholdStatus.DISSOLVED},
                "reason": reason,
                "merged_into": merged_into,
            }
        ),
    )
    await _emit_household(
        session, household, HouseholdDissolved, reason=reason, merged_into_household_id=merged_into
    )
    await end_live_enrolments(
        session,
        principal=principal,
        household=household,
        reason=f"{'household merged (duplicate)' if merged_into else 'household dissolved'}: "
        f"{reason}"[:500],
    )
    await session.flush()
    return household


# --- reads --------------------------------------------------------------------------------------


async def household_for_change(
    session: AsyncSession, *, principal: Principal, household_id: uuid.UUID
) -> Household:
    """The household to change: 404 when it does not exist, 403 when it lies outside the
    principal's jurisdiction (a write outside one's area is refused, not hidden)."""
    household = await repository.household_for_change(session, household_id)
    if household is None:
        raise Problem.not_found("The household")
    require_in_jurisdiction(principal, household.village_code, what="A household")
    return household


async def member_for_change(
    session: AsyncSession, *, household: Household, member_id: uuid.UUID
) -> Member:
    member = await repository.member_for_change(session, member_id)
    if member is None or member.household_id != household.id:
        raise Problem.not_found("The member of this household")
    return member


async def members_of(session: AsyncSession, *, household: Household) -> list[Member]:
    return await repository.members_of(session, household.id)


def _log_read(
    session: AsyncSession,
    principal: Principal,
    *,
    entity: str,
    entity_id: uuid.UUID,
    household_id: uuid.UUID,
    purpose: str,
) -> None:
    if principal.client or principal.is_anonymous:
        return  # machine clients are logged by the gateway and their own transaction records
    record_access(
        session,
        principal=principal,
        entity=entity,
        entity_id=entity_id,
        household_id=household_id,
        sensitive_fields=sees_sensitive(principal.roles),
        purpose=purpose,
    )


async def read_household_rows(
    database: Database,
    *,
    principal: Principal,
    household_id: uuid.UUID | None = None,
    code: str | None = None,
    purpose: str,
) -> list[asyncpg.Record]:
    """A household in the principal's area with its members, as one row per member
    (`repository.household_read_statement`), in one statement on the read pool; the read
    is logged as an access to personal data by the same statement. 404 outside the area."""
    log = repository.ReadLog.of(
        principal, purpose=purpose, sensitive_fields=sees_sensitive(principal.roles)
    )
    async with database.reads() as connection:
        rows = await repository.read_household_rows(
            connection, principal, code=code, household_id=household_id, log=log
        )
    if not rows:
        raise Problem.not_found("The household")
    return rows


def normalise_household_code(code: str, *, field: str = "code") -> str:
    """`HH000000019` from `hh000000019 `; 422 naming `field` when the check digit is wrong
    (a mistyped code)."""
    normalised = code.strip().upper()
    if not is_valid_household_code(normalised):
        raise Problem.invalid(
            field, "not a household code (HH + 9 digits with a valid check digit)"
        )
    return normalised


async def visible_household(
    session: AsyncSession, *, principal: Principal, household_id: uuid.UUID
) -> Household:
    household = await repository.visible_household(session, principal, household_id)
    if household is None:
        raise Problem.not_found("The household")
    return household


async def read_member(
    session: AsyncSession, *, principal: Principal, member_id: uuid.UUID, purpose: str
) -> Member:
    member = await repository.visible_member(session, principal, member_id)
    if member is None:
        raise Problem.not_found("The member")
    _log_read(
        session,
        principal,
        entity="member",
        entity_id=member.id,
        household_id=member.household_id,
        purpose=purpose,
    )
    return member


async def list_households(
    session: AsyncSession, *, principal: Principal, filters: HouseholdFilters, page: PageParams
) -> tuple[list[Household], str | None]:
    """Households in the principal's area; a `location` filter must overlap that area."""
    if filters.location and not _overlaps(principal, filters.location):
        raise Problem(
            403,
            f"Location {filters.location} is outside your jurisdiction.",
            errors=[field_error(["query", "location"], "outside your jurisdiction")],
        )
    if filters.code:
        filters = replace(filters, code=normalise_household_code(filters.code, field="query.code"))
    return await repository.list_households(session, principal, filters, page)


def _overlaps(principal: Principal, location: str) -> bool:
    """The location lies in the principal's area, or contains it (then the area is what is
    listed: a CS officer asking for its district sees its commune)."""
    return principal.covers(location) or (
        principal.tier is not None and principal.admin_code.startswith(location)
    )


async def poverty_history(
    session: AsyncSession, *, principal: Principal, household_id: uuid.UUID, page: PageParams
):
    household = await visible_household(session, principal=principal, household_id=household_id)
    return await repository.poverty_history(session, household.id, page)


async def household_history(
    session: AsyncSession, *, principal: Principal, household_id: uuid.UUID, page: PageParams
):
    household = await visible_household(session, principal=principal, household_id=household_id)
    _log_read(
        session,
        principal,
        entity="household",
        entity_id=household.id,
        household_id=household.id,
        purpose="registry_household_history",
    )
    return await repository.household_changes(session, household.id, page)


async def member_history(
    session: AsyncSession, *, principal: Principal, member_id: uuid.UUID, page: PageParams
):
    member = await read_member(
        session, principal=principal, member_id=member_id, purpose="registry_member_history"
    )
    return await repository.member_changes(session, member.id, page)


def _is_khmer(text: str) -> bool:
    return any("\u1780" <= ch <= "\u17ff" for ch in text)


async def search_members(
    database: Database,
    *,
    principal: Principal,
    district_code: str,
    query: str,
    birth_year: int | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Fuzzy name search (Khmer or Latin script, detected from the query) in one district,
    most similar first. The district must overlap the caller's area (403 otherwise); a CS
    officer searching its district sees only its commune's members. Each hit returned to a
    person is logged as a read of personal data, by the search's own statement."""
    if not _overlaps(principal, district_code):
        raise Problem(
            403,
            f"District {district_code} is outside your jurisdiction.",
            errors=[field_error(["query", "district"], "outside your jurisdiction")],
        )
    term = " ".join(query.split())
    if len(term) < 2:
        raise Problem.invalid("query.q", "at least 2 characters")
    log = repository.ReadLog.of(
        principal, purpose="registry_search_members", sensitive_fields=False
    )
    async with database.reads() as connection:
        return await repository.search_members(
            connection,
            principal,
            district_code=district_code,
            query=term,
            khmer=_is_khmer(term),
            birth_year=birth_year,
            limit=limit,
            similarity_threshold=SEARCH_THRESHOLD,
            log=log,
        )
