"""Changes to a household and its members: direct edits before verification, and the same
functions applied by an approved change request after it (see the package docstring)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.audit import diff
from services.registry.households import repository, rules
from services.registry.households.models import (
    Household,
    HouseholdStatus,
    Member,
    MemberStatus,
    PovertyStatusRecord,
    Relationship,
)
from services.registry.households.permissions import (
    require_open,
    require_village,
)
from services.registry.households.schemas import (
    MEMBER_REQUIRED_FIELDS,
    HouseholdUpdate,
    MemberCreate,
    MemberRemovalReason,
    MemberUpdate,
    PovertyStatusInput,
)
from services.registry.households.service.events import (
    POVERTY_FIELDS,
    REMOVAL_STATUS,
    emit_household,
    emit_member,
    invalid,
    json_diff,
    json_values,
    member_values,
    record_household,
    record_member,
    touch,
)
from shared import clock
from shared.events.catalog.registry import (
    HouseholdDissolved,
    HouseholdMoved,
    HouseholdUpdated,
    MemberAdded,
    MemberRemoved,
    MemberUpdated,
    PovertyStatusChanged,
)
from shared.jurisdiction import require_in_jurisdiction
from shared.principal import Principal
from shared.problems import HEAD_CANNOT_BE_REMOVED, FieldError, Problem, field_error


async def update_household(
    session: AsyncSession, *, principal: Principal, household: Household, changes: HouseholdUpdate
) -> Household:
    """Change the address and/or the village within the same commune (members follow).

    A village in another commune is refused (422 on village_code): that is a move, see
    `move_household`. Events: HouseholdUpdated for the address, HouseholdMoved for the
    village."""
    require_in_jurisdiction(principal, household.village_code, what="A household")
    require_open(household)
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
    touch(household, principal)
    await session.flush()
    if address_changed:
        record_household(
            session,
            principal,
            household,
            "updated",
            diff({"address": before_address}, {"address": address}),
        )
        await emit_household(session, household, HouseholdUpdated, changed_fields=["address"])
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
    require_open(household)
    require_village(to_village_code, "to_village_code")
    if to_village_code == household.village_code:
        raise Problem.invalid("to_village_code", "is the household's village already")
    origin = household.village_code
    household.village_code = to_village_code
    touch(household, principal)
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
        touch(member, principal)
    await session.flush()
    record_household(
        session,
        principal,
        household,
        "moved",
        {"village_code": {"from": origin, "to": household.village_code}},
    )
    await emit_household(session, household, HouseholdMoved, from_village_code=origin)


async def add_member(
    session: AsyncSession, *, principal: Principal, household: Household, data: MemberCreate
) -> Member:
    """Add a member. A second head is refused (change the head instead); dates are checked
    against today and the head. Events MemberAdded (and the household's version moves)."""
    require_in_jurisdiction(principal, household.village_code, what="A household")
    require_open(household)
    members = await repository.members_of(session, household.id)
    head = next((m for m in members if m.id == household.head_member_id), None)
    if data.relationship == Relationship.HEAD and head is not None:
        raise Problem.invalid(
            "relationship", "the household already has a head (change the head instead)"
        )
    errors = rules.member_errors(
        data.model_dump(),
        [],
        head=member_values(head) if head is not None else None,
        on=clock.today(),
    )
    if data.national_id and any(m.national_id == data.national_id for m in members):
        errors.append(field_error(["national_id"], "another member of this household has it"))
    if errors:
        raise invalid(errors)
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
    touch(household, principal)
    await session.flush()  # the household's version first: a concurrent edit loses here
    session.add(member)
    await session.flush()
    record_member(session, principal, member, "added", json_values(member_values(member)))
    await emit_member(
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
    require_open(household)
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
        raise invalid(errors)
    before = member_values(member)
    after = {**before, **values}
    if values.get("pregnant") is False and "pregnancy_expected_on" not in values:
        after["pregnancy_expected_on"] = None
    head = None
    if member.relationship != Relationship.HEAD and household.head_member_id is not None:
        head_member = await repository.member_for_change(session, household.head_member_id)
        head = member_values(head_member) if head_member else None
    errors = rules.member_errors(after, [], head=head, on=clock.today())
    if member.id == household.head_member_id and not errors:
        errors = await _household_against_head(session, household, member, after)
    if errors:
        raise invalid(errors)
    changed = diff(before, after)
    if not changed:
        return member
    touch(household, principal)
    await session.flush()
    for name in changed:
        setattr(member, name, after[name])
    touch(member, principal)
    await session.flush()
    record_member(session, principal, member, "updated", json_diff(changed))
    await emit_member(session, member, MemberUpdated, changed_fields=sorted(changed))
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
        (f"{m.family_name_latin} {m.given_name_latin} ({m.id})", member_values(m))
        for m in await repository.members_of(session, household.id)
        if m.id != head.id and m.status == MemberStatus.ACTIVE
    ]
    misfit = rules.head_fits_members(head_values, others)
    return [] if misfit is None else [misfit]


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
    for history with that status. The head cannot be removed: change the head first.
    Event MemberRemoved. Ending the member's enrolments is the caller's step
    (workflows.remove_member)."""
    require_in_jurisdiction(principal, household.village_code, what="A household")
    require_open(household)
    _require_member_of(member, household)
    if member.status != MemberStatus.ACTIVE:
        raise Problem.conflict(f"The member is already {member.status}.")
    if member.id == household.head_member_id:
        raise Problem.conflict(
            "The head of household cannot be removed; change the head first.",
            slug=HEAD_CANNOT_BE_REMOVED,
        )
    touch(household, principal)
    await session.flush()
    before = member.status
    member.status = REMOVAL_STATUS[reason]
    member.status_reason = note or reason
    touch(member, principal)
    await session.flush()
    record_member(
        session,
        principal,
        member,
        "removed",
        {"status": {"from": before, "to": member.status}, "reason": reason, "note": note},
    )
    await emit_member(session, member, MemberRemoved, reason=reason)
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
    require_open(household)
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
    touch(household, principal)
    await session.flush()
    if former is not None:
        relationship = former_head_relationship or _FORMER_HEAD.get(
            Relationship(new_head.relationship), Relationship.OTHER_RELATIVE
        )
        if relationship == Relationship.HEAD:
            raise Problem.invalid("former_head_relationship", "cannot be head")
        before = former.relationship
        former.relationship = relationship
        touch(former, principal)
    new_before = new_head.relationship
    new_head.relationship = Relationship.HEAD
    touch(new_head, principal)
    await session.flush()
    record_household(
        session,
        principal,
        household,
        "head_changed",
        json_diff({"head_member_id": {"from": previous_head_id, "to": new_head.id}}),
    )
    await emit_household(session, household, HouseholdUpdated, changed_fields=["head_member_id"])
    if former is not None:
        record_member(
            session,
            principal,
            former,
            "updated",
            {"relationship": {"from": before, "to": former.relationship}},
        )
        await emit_member(session, former, MemberUpdated, changed_fields=["relationship"])
    record_member(
        session,
        principal,
        new_head,
        "updated",
        {"relationship": {"from": new_before, "to": Relationship.HEAD}},
    )
    await emit_member(session, new_head, MemberUpdated, changed_fields=["relationship"])
    await session.flush()
    return household


def apply_poverty(household: Household, status: PovertyStatusInput) -> None:
    for source, target in POVERTY_FIELDS.items():
        value = getattr(status, source)
        if source == "vulnerability_categories":
            value = [str(v) for v in value]
        elif value is not None and source in ("level", "method"):
            value = str(value)
        setattr(household, target, value)


def poverty_values(household: Household) -> dict[str, Any]:
    return {source: getattr(household, target) for source, target in POVERTY_FIELDS.items()}


async def record_poverty_status(
    session: AsyncSession, principal: Principal, household: Household, *, previous: dict | None
) -> None:
    current = poverty_values(household)
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
    record_household(
        session,
        principal,
        household,
        "poverty_status_changed",
        json_diff(diff(previous or {}, current)),
    )
    await emit_household(
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
    require_open(household)
    errors = rules.poverty_errors(status.model_dump(), ["poverty_status"], on=clock.today())
    if errors:
        raise invalid(errors)
    previous = poverty_values(household)
    apply_poverty(household, status)
    touch(household, principal)
    await session.flush()
    await record_poverty_status(session, principal, household, previous=previous)
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
    household is the caller's job (add_member there). Event HouseholdDissolved. Ending its
    live enrolments is the caller's step (workflows.dissolve_household)."""
    require_in_jurisdiction(principal, household.village_code, what="A household")
    require_open(household)
    if not reason.strip():
        raise Problem.invalid("reason", "required")
    if merged_into is not None:
        survivor = await repository.household_for_change(session, merged_into)
        if survivor is None or survivor.id == household.id:
            raise Problem.invalid("merged_into", "is not another household of the registry")
    before = household.status
    household.status = HouseholdStatus.DISSOLVED
    touch(household, principal)
    await session.flush()
    record_household(
        session,
        principal,
        household,
        "dissolved",
        json_values(
            {
                "status": {"from": before, "to": HouseholdStatus.DISSOLVED},
                "reason": reason,
                "merged_into": merged_into,
            }
        ),
    )
    await emit_household(
        session, household, HouseholdDissolved, reason=reason, merged_into_household_id=merged_into
    )
    await session.flush()
    return household
