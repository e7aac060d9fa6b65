"""What the registry's routes depend on to know who calls and what they change.

- Role dependencies (`Annotated` aliases of the rules in `services.registry.roles`): a route
  that takes `principal: CaseWorker` runs only for a registry officer or verifier.
- Loader dependencies: the record a route changes, found in the caller's area (404 outside,
  403 where the area or the role does not allow it) and checked against `If-Match` (428
  without, 412 stale), in that order, in one place. The route then only calls the service and
  shapes the answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends

from services.registry import roles
from services.registry.benefits import service as benefits
from services.registry.benefits.models import BenefitRecord
from services.registry.cases import service as cases
from services.registry.cases.models import Case
from services.registry.change_requests import service as change_requests
from services.registry.change_requests.models import ChangeRequest
from services.registry.duplicates import service as duplicates
from services.registry.duplicates.models import DuplicateCandidate
from services.registry.enrolments import service as enrolments
from services.registry.enrolments.models import Enrolment
from services.registry.households import service as households
from services.registry.households.models import Household
from services.registry.programmes import service as programmes
from services.registry.programmes.models import Programme
from shared.db import SessionDep
from shared.http.concurrency import for_change
from shared.principal import Principal, PrincipalDep

# --- who calls ----------------------------------------------------------------------------------

CaseWorker = Annotated[Principal, Depends(roles.CASE_WORKER)]
ProgrammeAdmin = Annotated[Principal, Depends(roles.PROGRAMME_ADMIN)]
BenefitRecorder = Annotated[Principal, Depends(roles.BENEFIT_RECORDER)]


# --- what they change ---------------------------------------------------------------------------


async def _household(
    household_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Household:
    return await households.household_for_change(
        session, principal=principal, household_id=household_id
    )


async def _household_before_verification(
    household: Annotated[Household, Depends(_household)], principal: PrincipalDep
) -> Household:
    households.require_direct_edit(principal, household)  # 409 once verified
    return household


HouseholdForChange = Annotated[Household, Depends(for_change(_household))]
"""The household a verification step changes (verify, return, resubmit)."""
HouseholdForDirectEdit = Annotated[Household, Depends(for_change(_household_before_verification))]
"""The household a commune officer corrects directly, before it is verified."""


async def _case(case_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Case:
    case = await cases.case_for_update(session, principal=principal, case_id=case_id)
    roles.CASE_WORKER.check(principal)  # after the 404 and the area's 403
    return case


CaseForNote = Annotated[Case, Depends(_case)]
"""A case in the caller's area that a case worker adds to (no version check: notes append)."""
CaseForChange = Annotated[Case, Depends(for_change(_case))]


async def _benefit(
    benefit_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> BenefitRecord:
    record, _, _ = await benefits.get_benefit(session, principal=principal, benefit_id=benefit_id)
    roles.BENEFIT_RECORDER.check(principal)
    return record


BenefitForChange = Annotated[BenefitRecord, Depends(for_change(_benefit))]


def enrolment_for_decision(action: str) -> Callable[..., Awaitable[Enrolment]]:
    """The enrolment a decision (`action`) is about: 404 unseen, then 403 not a decider,
    then 428/412 for If-Match, in that order."""
    decider = roles.enrolment_decider(action)

    async def find(
        enrolment_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
    ) -> Enrolment:
        enrolment, _ = await enrolments.get_enrolment(
            session, principal=principal, enrolment_id=enrolment_id, log_access=False
        )
        decider.check(principal)
        return enrolment

    return for_change(find)


EnrolmentToApprove = Annotated[Enrolment, Depends(enrolment_for_decision("approve"))]
EnrolmentToReject = Annotated[Enrolment, Depends(enrolment_for_decision("reject"))]
EnrolmentToSuspend = Annotated[Enrolment, Depends(enrolment_for_decision("suspend"))]
EnrolmentToResume = Annotated[Enrolment, Depends(enrolment_for_decision("resume"))]
EnrolmentToExit = Annotated[Enrolment, Depends(enrolment_for_decision("exit"))]


async def _change_request(
    change_request_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> ChangeRequest:
    return await change_requests.request_for_action(
        session, principal=principal, change_request_id=change_request_id
    )


ChangeRequestForAction = Annotated[ChangeRequest, Depends(for_change(_change_request))]
"""A change request the caller's area is involved in (its household's, or a move's
destination), checked against If-Match; who may take which step is the service's rule."""


async def _duplicate(
    candidate_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> DuplicateCandidate:
    return await duplicates.candidate_for_decision(
        session, principal=principal, candidate_id=candidate_id
    )


DuplicateForDecision = Annotated[DuplicateCandidate, Depends(for_change(_duplicate))]
"""A suspected duplicate pair to confirm or dismiss: 404 unseen, 403 not a reviewer of both
households' area, then If-Match."""


async def _programme(code: str, session: SessionDep, _admin: ProgrammeAdmin) -> Programme:
    return await programmes.get_programme(session, code=code)


ProgrammeForChange = Annotated[Programme, Depends(for_change(_programme))]
"""A programme a national registry verifier changes, checked against If-Match."""
