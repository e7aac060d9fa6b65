"""The life of a household: registration (pending verification), verification by the
district, return to the commune with reasons, resubmission."""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.households import repository
from services.registry.households.codes import format_household_code
from services.registry.households.models import (
    Household,
    HouseholdStatus,
    Member,
    Relationship,
)
from services.registry.households.permissions import (
    require_commune_officer,
    require_verifier,
)
from services.registry.households.schemas import (
    HouseholdCreate,
)
from services.registry.households.service.changes import apply_poverty, record_poverty_status
from services.registry.households.service.events import (
    emit_household,
    household_errors,
    invalid,
    json_values,
    member_values,
    record_household,
    record_member,
    touch,
)
from shared import clock
from shared.events.catalog.registry import (
    HouseholdRegistered,
    HouseholdReturned,
    HouseholdUpdated,
    HouseholdVerified,
    RegisteredMember,
)
from shared.jurisdiction import require_in_jurisdiction
from shared.principal import Principal
from shared.problems import Problem


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
        require_commune_officer(principal, data.village_code, what="Registering a household")
    else:
        require_in_jurisdiction(principal, data.village_code, what="A household")
    errors = household_errors(data, on=clock.today())
    if errors:
        raise invalid(errors)

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
        apply_poverty(household, data.poverty_status)
    session.add(household)
    await session.flush()  # the household row before its members (foreign key)
    for member in members:
        member.household_id = household.id
        session.add(member)
    await session.flush()

    record_household(
        session,
        principal,
        household,
        "registered",
        json_values(
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
    await emit_household(
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
        record_member(session, principal, member, "added", json_values(member_values(member)))
    if data.poverty_status is not None:
        await record_poverty_status(session, principal, household, previous=None)
    await session.flush()
    return household


async def verify_household(
    session: AsyncSession, *, principal: Principal, household: Household
) -> Household:
    """pending_verification -> active, by a verifier of the district or above (403 for a CS
    officer or a verifier elsewhere; 409 in any other state). Event HouseholdVerified."""
    require_verifier(principal, household)
    if household.status != HouseholdStatus.PENDING_VERIFICATION:
        raise Problem.conflict(
            f"Only a household pending verification can be verified; this one is "
            f"{household.status}."
        )
    household.status = HouseholdStatus.ACTIVE
    household.verified_at = clock.now()
    household.verified_by = principal.sub
    household.returned_reasons = []
    touch(household, principal)
    await session.flush()
    record_household(
        session,
        principal,
        household,
        "verified",
        {"status": {"from": HouseholdStatus.PENDING_VERIFICATION, "to": HouseholdStatus.ACTIVE}},
    )
    await emit_household(session, household, HouseholdVerified)
    await session.flush()
    return household


async def return_household(
    session: AsyncSession, *, principal: Principal, household: Household, reasons: list[str]
) -> Household:
    """pending_verification -> returned with the reasons the commune must correct (same
    verifiers as `verify_household`). Event HouseholdReturned."""
    require_verifier(principal, household)
    if household.status != HouseholdStatus.PENDING_VERIFICATION:
        raise Problem.conflict(
            f"Only a household pending verification can be returned; this one is "
            f"{household.status}."
        )
    household.status = HouseholdStatus.RETURNED
    household.returned_reasons = list(reasons)
    touch(household, principal)
    await session.flush()
    record_household(
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
    await emit_household(session, household, HouseholdReturned, reasons=list(reasons))
    await session.flush()
    return household


async def resubmit_household(
    session: AsyncSession, *, principal: Principal, household: Household
) -> Household:
    """returned -> pending_verification, by the CS officer of the commune once corrected.
    Event HouseholdUpdated (changed_fields: status)."""
    require_commune_officer(principal, household.village_code, what="Resubmitting a household")
    if household.status != HouseholdStatus.RETURNED:
        raise Problem.conflict(
            f"Only a returned household can be resubmitted; this one is {household.status}."
        )
    household.status = HouseholdStatus.PENDING_VERIFICATION
    reasons = list(household.returned_reasons)
    household.returned_reasons = []
    touch(household, principal)
    await session.flush()
    record_household(
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
    await emit_household(session, household, HouseholdUpdated, changed_fields=["status"])
    await session.flush()
    return household
