"""The maker-checker workflow of change requests, and applying a verified change.

    draft --submit--> submitted --verify--> applied
      |                  |  \\--reject--> rejected   (also: version conflict, not eligible)
      \\--cancel--> cancelled <--cancel--/

Who does what (the tier rule):
- The maker is a registry officer of the household's commune (CS): creates the draft,
  submits it (recording the household's version then: `base_version`), or cancels it while
  it is not decided.
- The checker is a registry verifier at the district (DMK) or above (CP, national) whose area
  contains the household, and never the person who made, submitted or accepted it.
  Verification applies the change in the same transaction. A request that was never
  submitted cannot be verified or rejected by anyone, at any tier (409): a higher tier never
  finalises what the commune has not submitted.
- Conflict detection: if the household (or the member concerned) changed since submission,
  verification refuses to overwrite: the request is marked rejected with reason "version
  conflict" and the verifier gets 409. The maker submits a fresh request.

Moving a household (both communes involved):
1. the origin commune creates and submits the move;
2. when the destination village lies in another commune, an officer of the destination
   commune accepts it (`accept_move`), or refuses it (reject, with a reason);
3. the district of each commune verifies: one verification when both communes are in one
   district; otherwise the destination district first (it agrees to receive the household),
   then the origin district, whose verification applies the move. A province or national
   verifier whose area contains both districts verifies for both in one step.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import roles, workflows
from services.registry.audit import record_change
from services.registry.change_requests import repository
from services.registry.change_requests.models import (
    ChangeRequest,
    ChangeRequestStatus,
    ChangeType,
)
from services.registry.change_requests.schemas import (
    AddMember,
    ChangeHead,
    ChangePovertyStatus,
    Enrol,
    Exit,
    MoveHousehold,
    RegisterHousehold,
    RemoveMember,
    UpdateHousehold,
    UpdateMember,
    load_change,
    stored_payload,
)
from services.registry.enrolments import service as enrolments
from services.registry.enrolments.models import EnrolmentStatus
from services.registry.households import rules
from services.registry.households import service as households
from services.registry.households.models import Household, HouseholdStatus, Relationship
from shared import clock
from shared.events.catalog.registry import (
    ChangeRequestApplied,
    ChangeRequestEvent,
    ChangeRequestRejected,
    ChangeRequestSubmitted,
)
from shared.jurisdiction import require_in_jurisdiction
from shared.outbox import emit
from shared.principal import Principal
from shared.problems import (
    AWAITING_DESTINATION,
    AWAITING_OTHER_DISTRICT,
    CHANGE_REFUSED,
    DIRECT_EDIT_INSTEAD,
    NOT_SUBMITTED,
    Problem,
)
from shared.problems import VERSION_CONFLICT as STALE_HOUSEHOLD

VERSION_CONFLICT = "version conflict"

# Awaiting actions (the worklists).
SUBMIT, ACCEPT_MOVE, VERIFY = "submit", "accept_move", "verify"


# --- who may do what ------------------------------------------------------------------------


def _require_maker(principal: Principal, village_code: str) -> None:
    roles.CHANGE_MAKER.check(principal)
    require_in_jurisdiction(principal, village_code, what="A household")


def _require_involved(principal: Principal, request: ChangeRequest) -> None:
    """Acting on a request needs its household's area or, for a move, the destination's."""
    if not (
        principal.covers(request.village_code) or principal.covers(request.destination_village_code)
    ):
        require_in_jurisdiction(principal, request.village_code, what="A change request")


def _crosses_communes(request: ChangeRequest) -> bool:
    return (
        request.destination_village_code is not None
        and request.destination_village_code[:6] != request.village_code[:6]
    )


def required_districts(request: ChangeRequest) -> list[str]:
    """The districts that must verify, in order: a move's destination district first."""
    origin = request.village_code[:4]
    if request.destination_village_code and request.destination_village_code[:4] != origin:
        return [request.destination_village_code[:4], origin]
    return [origin]


def _remaining(request: ChangeRequest) -> list[str]:
    return [d for d in required_districts(request) if d not in request.verified_districts]


def _await(request: ChangeRequest, action: str | None, unit: str | None) -> None:
    request.awaiting_action, request.awaiting_unit = action, unit


def _touch(request: ChangeRequest, principal: Principal) -> None:
    request.updated_at = clock.now()
    request.updated_by = principal.sub


def _history(
    session: AsyncSession,
    principal: Principal,
    request: ChangeRequest,
    action: str,
    changes: dict[str, Any] | None = None,
) -> None:
    record_change(
        session,
        principal=principal,
        entity="change_request",
        entity_id=request.id,
        action=action,
        changes={"change_type": request.change_type, "status": request.status, **(changes or {})},
        household_id=request.household_id,
        village_code=request.village_code,
    )


async def _emit(session: AsyncSession, event_type: type[ChangeRequestEvent], request, **extra):
    await emit(
        session,
        event_type(
            change_request_id=request.id,
            change_type=request.change_type,
            household_id=request.household_id,
            village_code=request.destination_village_code or request.village_code,
            status=request.status,
            **extra,
        ),
        subject=request.id,
        jurisdiction=request.village_code,
    )


# --- making ---------------------------------------------------------------------------------


async def _household_for_request(
    session: AsyncSession, principal: Principal, household_id: uuid.UUID
) -> Household:
    household = await repository.household(session, household_id)
    if household is None:
        raise Problem.invalid("household_id", "no such household")
    _require_maker(principal, household.village_code)
    if household.status in (HouseholdStatus.PENDING_VERIFICATION, HouseholdStatus.RETURNED):
        raise Problem.conflict(
            f"Household {household.code} is {household.status}: the commune edits it directly "
            "until the district has verified it.",
            slug=DIRECT_EDIT_INSTEAD,
        )
    if household.status != HouseholdStatus.ACTIVE:
        raise Problem.conflict(f"Household {household.code} is {household.status}.")
    return household


async def _check_member(
    session: AsyncSession, household: Household, member_id: uuid.UUID | None, field: str
) -> None:
    if member_id is None:
        return
    member = await repository.member(session, member_id)
    if member is None or member.household_id != household.id:
        raise Problem.invalid(field, "not a member of this household")
    if member.status != "active":
        raise Problem.invalid(field, f"the member is {member.status}")


async def _check_references(session: AsyncSession, change, household: Household) -> None:
    """What the schema cannot know: that the records named exist and belong together."""
    if isinstance(change, UpdateMember | RemoveMember | ChangeHead):
        await _check_member(session, household, change.member_id, "member_id")
    if isinstance(change, ChangeHead) and change.member_id == household.head_member_id:
        raise Problem.invalid("member_id", "is the head already")
    if isinstance(change, RemoveMember) and change.member_id == household.head_member_id:
        raise Problem.invalid("member_id", "the head cannot be removed; change the head first")
    if isinstance(change, AddMember) and change.member.relationship == Relationship.HEAD:
        raise Problem.invalid(
            "member.relationship", "the household has a head (use a change_head request)"
        )
    if isinstance(change, MoveHousehold) and change.to_village_code == household.village_code:
        raise Problem.invalid("to_village_code", "is the household's village already")
    if isinstance(change, UpdateHousehold):
        village = change.changes.village_code
        if village is not None and village[:6] != household.village_code[:6]:
            raise Problem.invalid(
                "changes.village_code",
                "is in another commune: that is a move (change_type move_household)",
            )
    if isinstance(change, Enrol):
        if await repository.programme(session, change.programme_code) is None:
            raise Problem.invalid(
                "programme_code", f"there is no programme {change.programme_code}"
            )
        await _check_member(session, household, change.member_id, "member_id")
    if isinstance(change, Exit):
        enrolment = await repository.enrolment(session, change.enrolment_id)
        if enrolment is None or enrolment.household_id != household.id:
            raise Problem.invalid("enrolment_id", "not an enrolment of this household")


async def _rule_errors(session: AsyncSession, change, household: Household | None) -> None:
    """The household rulebook, at creation: the maker learns now, naming the field, what the
    verifier's approval would refuse (the rules are judged again when the change applies)."""
    today = clock.today()
    errors = []
    if isinstance(change, RegisterHousehold):
        data = change.household
        errors = rules.household_errors(
            [m.model_dump() for m in data.members],
            None if data.poverty_status is None else data.poverty_status.model_dump(),
            on=today,
            path=["household"],
        )
    elif isinstance(change, AddMember) and household is not None:
        head = (
            await repository.member(session, household.head_member_id)
            if household.head_member_id
            else None
        )
        errors = rules.member_errors(
            change.member.model_dump(),
            ["member"],
            head=None if head is None else head.model_dump(),
            on=today,
        )
    elif isinstance(change, ChangePovertyStatus):
        errors = rules.poverty_errors(
            change.poverty_status.model_dump(), ["poverty_status"], on=today
        )
    if errors:
        fields = ", ".join(e.field for e in errors)
        raise Problem(422, f"Invalid fields: {fields}.", errors=errors)


async def create_change_request(
    session: AsyncSession, *, principal: Principal, change
) -> ChangeRequest:
    """A draft, by a registry officer of the household's commune (or, to register a new
    household, of the commune of its village)."""
    household: Household | None = None
    if isinstance(change, RegisterHousehold):
        village_code = change.household.village_code
        _require_maker(principal, village_code)
    else:
        household = await _household_for_request(session, principal, change.household_id)
        village_code = household.village_code
        await _check_references(session, change, household)
    await _rule_errors(session, change, household)
    request = ChangeRequest(
        change_type=change.change_type,
        household_id=household.id if household else None,
        village_code=village_code,
        destination_village_code=(
            change.to_village_code if isinstance(change, MoveHousehold) else None
        ),
        payload=stored_payload(change),
        justification=change.justification,
        member_id=getattr(change, "member_id", None),
        created_by=principal.sub,
        updated_by=principal.sub,
    )
    _await(request, SUBMIT, village_code[:6])
    session.add(request)
    await session.flush()
    _history(session, principal, request, "created")
    return request


async def request_for_action(
    session: AsyncSession, *, principal: Principal, change_request_id: uuid.UUID
) -> ChangeRequest:
    """The request someone is about to act on: 404 if none, 403 if neither its household's
    area nor (for a move) its destination is the caller's."""
    request = await repository.get(session, change_request_id)
    if request is None:
        raise Problem.not_found("The change request")
    _require_involved(principal, request)
    return request


async def get_change_request(
    session: AsyncSession, *, principal: Principal, change_request_id: uuid.UUID
) -> ChangeRequest:
    request = await repository.get_visible(session, principal, change_request_id)
    if request is None:
        raise Problem.not_found("The change request")
    return request


async def list_change_requests(
    session: AsyncSession,
    *,
    principal: Principal,
    filters: repository.ChangeRequestFilters,
    page,
) -> tuple[list[ChangeRequest], str | None]:
    return await repository.list_change_requests(session, principal, filters, page)


def _require_status(request: ChangeRequest, *allowed: str, action: str) -> None:
    if request.status not in allowed:
        if request.status == ChangeRequestStatus.DRAFT:
            raise Problem.conflict(
                f"The change request is a draft: the commune must submit it before it can be "
                f"{action}.",
                slug=NOT_SUBMITTED,
            )
        raise Problem.conflict(f"The change request is {request.status}; it cannot be {action}.")


async def _versions(session: AsyncSession, request: ChangeRequest) -> tuple[int | None, int | None]:
    household_version = member_version = None
    if request.household_id is not None:
        household = await repository.household(session, request.household_id)
        assert household is not None
        household_version = household.version
    if request.member_id is not None:
        member = await repository.member(session, request.member_id)
        member_version = member.version if member is not None else None
    return household_version, member_version


async def submit(
    session: AsyncSession, *, principal: Principal, request: ChangeRequest
) -> ChangeRequest:
    """draft -> submitted, recording the versions the maker saw."""
    _require_maker(principal, request.village_code)
    _require_status(request, ChangeRequestStatus.DRAFT, action="submitted")
    if request.household_id is not None:
        await _household_for_request(session, principal, request.household_id)
    request.base_version, request.member_base_version = await _versions(session, request)
    request.status = ChangeRequestStatus.SUBMITTED
    request.submitted_at = clock.now()
    request.submitted_by = principal.sub
    if _crosses_communes(request):
        assert request.destination_village_code is not None
        _await(request, ACCEPT_MOVE, request.destination_village_code[:6])
    else:
        _await(request, VERIFY, _remaining(request)[0])
    _touch(request, principal)
    await session.flush()
    _history(session, principal, request, "submitted", {"base_version": request.base_version})
    await _emit(session, ChangeRequestSubmitted, request)
    return request


async def accept_move(
    session: AsyncSession, *, principal: Principal, request: ChangeRequest
) -> ChangeRequest:
    """The destination commune agrees to receive the household."""
    if request.change_type != ChangeType.MOVE_HOUSEHOLD or not _crosses_communes(request):
        raise Problem.conflict("Only a move into another commune is accepted by its destination.")
    assert request.destination_village_code is not None
    if not roles.CHANGE_MAKER.allows(principal):
        raise Problem.forbidden("A registry officer of the destination commune accepts a move.")
    require_in_jurisdiction(principal, request.destination_village_code, what="The destination")
    _require_status(request, ChangeRequestStatus.SUBMITTED, action="accepted")
    if request.awaiting_action != ACCEPT_MOVE:
        raise Problem.conflict("The destination commune has accepted this move already.")
    request.destination_accepted_at = clock.now()
    request.destination_accepted_by = principal.sub
    _await(request, VERIFY, _remaining(request)[0])
    _touch(request, principal)
    await session.flush()
    _history(session, principal, request, "destination_accepted")
    return request


def _require_checker(principal: Principal, request: ChangeRequest) -> None:
    roles.CHANGE_CHECKER.check(principal)
    makers = {request.created_by, request.submitted_by, request.destination_accepted_by}
    if principal.sub in makers:
        raise Problem.forbidden("The maker of a change cannot also verify it (maker-checker).")


async def _reject(
    session: AsyncSession, principal: Principal, request: ChangeRequest, reason: str
) -> ChangeRequest:
    request.status = ChangeRequestStatus.REJECTED
    request.reason = reason
    request.decided_at = clock.now()
    request.decided_by = principal.sub
    _await(request, None, None)
    _touch(request, principal)
    await session.flush()
    _history(session, principal, request, "rejected", {"reason": reason})
    await _emit(session, ChangeRequestRejected, request, reason=reason)
    return request


async def verify(
    session: AsyncSession, *, principal: Principal, request: ChangeRequest
) -> tuple[ChangeRequest, Problem | None]:
    """Verify (and, once every district involved has, apply) a submitted request.

    Returns the request and, when verification finalised it as rejected (a version
    conflict, or an enrolment the programme's rules refuse), the 409 problem to answer with:
    the rejection itself must be kept, so it is returned rather than raised.
    """
    _require_checker(principal, request)
    _require_status(request, ChangeRequestStatus.SUBMITTED, action="verified")
    if request.awaiting_action == ACCEPT_MOVE:
        raise Problem.conflict(
            "The destination commune has not accepted the move yet.", slug=AWAITING_DESTINATION
        )
    remaining = _remaining(request)
    if not principal.covers(remaining[0]):
        raise Problem.conflict(
            f"The change awaits verification by district {remaining[0]} first.",
            slug=AWAITING_OTHER_DISTRICT,
        )
    taking = []
    for district in remaining:
        if not principal.covers(district):
            break
        taking.append(district)

    if await _versions(session, request) != (request.base_version, request.member_base_version):
        await _reject(session, principal, request, VERSION_CONFLICT)
        return request, Problem.conflict(
            "The household changed after this request was submitted: it was rejected as a "
            "version conflict and nothing was overwritten. Submit a new request.",
            slug=STALE_HOUSEHOLD,
        )

    request.verified_districts = [*request.verified_districts, *taking]
    _touch(request, principal)
    if len(taking) < len(remaining):
        _await(request, VERIFY, remaining[len(taking)])
        await session.flush()
        _history(session, principal, request, "verified", {"districts": taking})
        return request, None

    outcome = await _apply(session, principal, request)
    if outcome is not None:
        return await _reject(session, principal, request, outcome), Problem.conflict(
            f"The change could not be applied: {outcome}. The request was rejected.",
            slug=CHANGE_REFUSED,
        )
    request.status = ChangeRequestStatus.APPLIED
    request.decided_at = clock.now()
    request.decided_by = principal.sub
    _await(request, None, None)
    await session.flush()
    _history(
        session, principal, request, "applied", {"districts": taking, "result": request.result}
    )
    await _emit(session, ChangeRequestApplied, request)
    return request, None


async def reject(
    session: AsyncSession, *, principal: Principal, request: ChangeRequest, reason: str
) -> ChangeRequest:
    """A verifier refuses a submitted change; or the destination commune refuses a move
    it has not accepted."""
    _require_status(request, ChangeRequestStatus.SUBMITTED, action="rejected")
    refusing_move = (
        request.awaiting_action == ACCEPT_MOVE
        and roles.CHANGE_MAKER.allows(principal)
        and principal.covers(request.destination_village_code)
    )
    if not refusing_move:
        _require_checker(principal, request)
    return await _reject(session, principal, request, reason)


async def cancel(
    session: AsyncSession, *, principal: Principal, request: ChangeRequest, reason: str | None
) -> ChangeRequest:
    """The commune withdraws its draft or submitted request."""
    _require_maker(principal, request.village_code)
    _require_status(
        request, ChangeRequestStatus.DRAFT, ChangeRequestStatus.SUBMITTED, action="cancelled"
    )
    request.status = ChangeRequestStatus.CANCELLED
    request.reason = reason
    request.decided_at = clock.now()
    request.decided_by = principal.sub
    _await(request, None, None)
    _touch(request, principal)
    await session.flush()
    _history(session, principal, request, "cancelled", {"reason": reason})
    return request


# --- applying -------------------------------------------------------------------------------


async def _apply(session: AsyncSession, principal: Principal, request: ChangeRequest) -> str | None:
    """Apply the change with the households and enrolments services' own functions, as the
    verifier. Returns a reason when the change is refused by a rule that the request must
    record (an enrolment found not eligible); any other refusal raises its problem and
    nothing is written."""
    change = load_change(request.change_type, request.household_id, request.payload)
    if isinstance(change, RegisterHousehold):
        household = await workflows.register_household(
            session, principal=principal, data=change.household, origin="change_request"
        )
        # Verified by this very request: the district's check is done.
        await households.verify_household(session, principal=principal, household=household)
        request.household_id = household.id
        request.result = {"household_id": str(household.id), "household_code": household.code}
        return None

    household = await households.household_for_change(
        session, principal=principal, household_id=change.household_id
    )
    result: dict[str, Any] = {}
    if isinstance(change, UpdateHousehold):
        await households.update_household(
            session, principal=principal, household=household, changes=change.changes
        )
    elif isinstance(change, AddMember):
        member = await households.add_member(
            session, principal=principal, household=household, data=change.member
        )
        result["member_id"] = str(member.id)
    elif isinstance(change, UpdateMember):
        member = await households.member_for_change(
            session, household=household, member_id=change.member_id
        )
        await households.update_member(
            session, principal=principal, household=household, member=member, changes=change.changes
        )
    elif isinstance(change, RemoveMember):
        member = await households.member_for_change(
            session, household=household, member_id=change.member_id
        )
        await workflows.remove_member(
            session,
            principal=principal,
            household=household,
            member=member,
            reason=change.reason,
            note=change.note,
        )
    elif isinstance(change, ChangeHead):
        await households.change_head(
            session,
            principal=principal,
            household=household,
            new_head_member_id=change.member_id,
            former_head_relationship=change.former_head_relationship,
        )
    elif isinstance(change, MoveHousehold):
        await households.move_household(
            session,
            principal=principal,
            household=household,
            to_village_code=change.to_village_code,
        )
    elif isinstance(change, ChangePovertyStatus):
        await households.set_poverty_status(
            session, principal=principal, household=household, status=change.poverty_status
        )
    elif isinstance(change, Enrol):
        enrolment = await enrolments.propose_enrolment(
            session,
            principal=principal,
            household_id=household.id,
            programme_code=change.programme_code,
            member_id=change.member_id,
        )
        if enrolment.status == EnrolmentStatus.PROPOSED:
            enrolment = await enrolments.approve_enrolment(
                session, principal=principal, enrolment_id=enrolment.id
            )
        result = {"enrolment_id": str(enrolment.id), "enrolment_status": enrolment.status}
        request.result = result
        if enrolment.status == EnrolmentStatus.REJECTED:
            return enrolment.status_reason or "not eligible"
        return None
    elif isinstance(change, Exit):
        enrolment = await enrolments.exit_enrolment(
            session, principal=principal, enrolment_id=change.enrolment_id, reason=change.reason
        )
        result["enrolment_id"] = str(enrolment.id)
    result["household_version"] = household.version
    request.result = result
    return None
