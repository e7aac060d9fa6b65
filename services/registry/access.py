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

from fastapi import Depends, Request

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
from shared.http.concurrency import require_if_match
from shared.principal import Principal, PrincipalDep

# --- who calls ----------------------------------------------------------------------------------

CaseWorker = Annotated[Principal, Depends(roles.CASE_WORKER)]
ProgrammeAdmin = Annotated[Principal, Depends(roles.PROGRAMME_ADMIN)]
BenefitRecorder = Annotated[Principal, Depends(roles.BENEFIT_RECORDER)]


# --- what they change ---------------------------------------------------------------------------


async def _household_for_change(
    household_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Household:
    household = await households.household_for_change(
        session, principal=principal, household_id=household_id
    )
    require_if_match(request, household.version)
    return household


async def _household_for_direct_edit(
    household_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Household:
    household = await households.household_for_change(
        session, principal=principal, household_id=household_id
    )
    households.require_direct_edit(principal, household)  # 409 once verified
    require_if_match(request, household.version)
    return household


HouseholdForChange = Annotated[Household, Depends(_household_for_change)]
"""The household a verification step changes (verify, return, resubmit)."""
HouseholdForDirectEdit = Annotated[Household, Depends(_household_for_direct_edit)]
"""The household a commune officer corrects directly, before it is verified."""


async def _case(case_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Case:
    case = await cases.case_for_update(session, principal=principal, case_id=case_id)
    roles.CASE_WORKER.check(principal)
    return case


async def _case_for_change(case: Annotated[Case, Depends(_case)], request: Request) -> Case:
    require_if_match(request, case.version)
    return case


CaseForNote = Annotated[Case, Depends(_case)]
"""A case in the caller's area that a case worker adds to (no version check: notes append)."""
CaseForChange = Annotated[Case, Depends(_case_for_change)]


async def _benefit_for_change(
    benefit_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> BenefitRecord:
    record, _, _ = await benefits.get_benefit(session, principal=principal, benefit_id=benefit_id)
    roles.BENEFIT_RECORDER.check(principal)
    require_if_match(request, record.version)
    return record


BenefitForChange = Annotated[BenefitRecord, Depends(_benefit_for_change)]


def enrolment_for_decision(action: str) -> Callable[..., Awaitable[Enrolment]]:
    """The enrolment a decision (`action`) is about: 404 unseen, then 403 not a decider,
    then 428/412 for If-Match, in that order."""
    decider = roles.enrolment_decider(action)

    async def load(
        enrolment_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
    ) -> Enrolment:
        enrolment, _ = await enrolments.get_enrolment(
            session, principal=principal, enrolment_id=enrolment_id, log_access=False
        )
        decider.check(principal)
        require_if_match(request, enrolment.version)
        return enrolment

    return load


EnrolmentToApprove = Annotated[Enrolment, Depends(enrolment_for_decision("approve"))]
EnrolmentToReject = Annotated[Enrolment, Depends(enrolment_for_decision("reject"))]
EnrolmentToSuspend = Annotated[Enrolment, Depends(enrolment_for_decision("suspend"))]
EnrolmentToResume = Annotated[Enrolment, Depends(enrolment_for_decision("resume"))]
EnrolmentToExit = Annotated[Enrolment, Depends(enrolment_for_decision("exit"))]


async def _change_request_for_action(
    change_request_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> ChangeRequest:
    change_request = await change_requests.request_for_action(
        session, principal=principal, change_request_id=change_request_id
    )
    require_if_match(request, change_request.version)
    return change_request


ChangeRequestForAction = Annotated[ChangeRequest, Depends(_change_request_for_action)]
"""A change request the caller's area is involved in (its household's, or a move's
destination), checked against If-Match; who may take which step is the service's rule."""


async def _duplicate_for_decision(
    candidate_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> DuplicateCandidate:
    candidate = await duplicates.candidate_for_decision(
        session, principal=principal, candidate_id=candidate_id
    )
    require_if_match(request, candidate.version)
    return candidate


DuplicateForDecision = Annotated[DuplicateCandidate, Depends(_duplicate_for_decision)]
"""A suspected duplicate pair to confirm or dismiss: 404 unseen, 403 not a reviewer of both
households' area, then If-Match."""


async def _programme_for_change(
    code: str, request: Request, session: SessionDep, principal: ProgrammeAdmin
) -> Programme:
    programme = await programmes.get_programme(session, code=code)
    require_if_match(request, programme.version)
    return programme


ProgrammeForChange = Annotated[Programme, Depends(_programme_for_change)]
"""A programme a national registry verifier changes, checked against If-Match."""
