"""Enrolment and eligibility routes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.registry.access import (
    EnrolmentToApprove,
    EnrolmentToExit,
    EnrolmentToReject,
    EnrolmentToResume,
    EnrolmentToSuspend,
)
from services.registry.enrolments import service
from services.registry.enrolments.models import Enrolment
from services.registry.enrolments.schemas import (
    EnrolmentCreate,
    EnrolmentDetail,
    EnrolmentPublic,
    EnrolmentReason,
    EnrolmentStatusName,
    HouseholdEligibilityPublic,
    MemberEligibilityPublic,
    ProgrammeEligibilityPublic,
    RuleOutcome,
)
from services.registry.households.models import Household
from services.registry.programmes import service as programmes
from services.registry.programmes.api import programme_name
from services.registry.programmes.eligibility import Eligibility
from services.registry.programmes.models import Programme
from services.registry.programmes.schemas import ProgrammeCode
from shared.db import SessionDep
from shared.gazetteer import LocationCode
from shared.http.concurrency import set_etag
from shared.http.idempotency import IdempotencyDep
from shared.http.language import Language, LanguageDep
from shared.http.pagination import Page, PageDep
from shared.http.params import IsoDate
from shared.principal import PrincipalDep
from shared.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["enrolments"])

DECISION_RESPONSES = {k: PROBLEM_RESPONSES[k] for k in (403, 404, 409, 412, 428)}


async def _names(session, language: Language) -> dict[str, str]:
    return {p.code: programme_name(p, language) for p in await programmes.all_programmes(session)}


def to_public(
    enrolment: Enrolment, household: Household, names: dict[str, str], *, detail: bool = False
) -> EnrolmentPublic:
    fields = {
        "id": enrolment.id,
        "programme_code": enrolment.programme_code,
        "programme_name": names.get(enrolment.programme_code, enrolment.programme_code),
        "household_id": enrolment.household_id,
        "household_code": household.code,
        "member_id": enrolment.member_id,
        "village_code": household.village_code,
        "status": enrolment.status,
        "status_reason": enrolment.status_reason,
        "failing_rules": enrolment.failing_rules,
        "proposed_by": enrolment.proposed_by,
        "created_at": enrolment.created_at,
        "decided_at": enrolment.decided_at,
        "decided_by": enrolment.decided_by,
        "enrolled_on": enrolment.enrolled_on,
        "exited_on": enrolment.exited_on,
        "version": enrolment.version,
    }
    if detail:
        return EnrolmentDetail(**fields, eligibility=enrolment.eligibility)
    return EnrolmentPublic(**fields)


def _eligibility_public(
    programme: Programme, result: Eligibility, language: Language
) -> ProgrammeEligibilityPublic:
    return ProgrammeEligibilityPublic(
        programme_code=programme.code,
        programme_name=programme_name(programme, language),
        target=programme.target,
        eligible=result.eligible,
        outcome=RuleOutcome.model_validate(result.outcome.as_dict()),
        failing=[RuleOutcome.model_validate(o.as_dict()) for o in result.failing()],
        qualifying_member_ids=list(result.qualifying_member_ids),
        members=[
            MemberEligibilityPublic(
                member_id=m.member_id,
                eligible=m.eligible,
                failing=[RuleOutcome.model_validate(o.as_dict()) for o in m.outcome.failing()],
            )
            for m in result.members
        ],
    )


@router.get(
    "/households/{household_id}/eligibility",
    response_model=HouseholdEligibilityPublic,
    summary="Check a household's eligibility for every programme",
    description="For every active programme: eligible or not, each rule's result with a "
    "stable reason code and an English reason, and which members qualify for programmes "
    "that target individuals. `on` evaluates at another date (default: today in Cambodia). "
    "404 outside the caller's jurisdiction.",
    responses={404: PROBLEM_RESPONSES[404]},
)
async def get_household_eligibility(
    household_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    language: LanguageDep,
    on: Annotated[IsoDate | None, Query(description="Evaluation date (YYYY-MM-DD).")] = None,
) -> HouseholdEligibilityPublic:
    household, evaluated_on, results = await service.household_eligibility(
        session, principal=principal, household_id=household_id, on=on
    )
    return HouseholdEligibilityPublic(
        household_id=household.id,
        household_code=household.code,
        household_status=household.status,
        enrollable=household.status == "active",
        evaluated_on=evaluated_on,
        programmes=[_eligibility_public(p, r, language) for p, r in results],
    )


@router.get(
    "/households/{household_id}/enrolments",
    response_model=list[EnrolmentPublic],
    summary="List a household's enrolments",
    description="Every enrolment of the household (and of its members), in any status. "
    "404 outside the caller's jurisdiction.",
    responses={404: PROBLEM_RESPONSES[404]},
)
async def list_household_enrolments(
    household_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, language: LanguageDep
) -> list[EnrolmentPublic]:
    household, enrolments = await service.household_enrolments(
        session, principal=principal, household_id=household_id
    )
    names = await _names(session, language)
    return [to_public(e, household, names) for e in enrolments]


@router.post(
    "/enrolments",
    status_code=201,
    response_model=EnrolmentDetail,
    summary="Propose an enrolment",
    description="A commune officer proposes an active household (or, for a programme that "
    "targets individuals, one of its members) for a programme. The programme's rules are "
    "checked at once: the enrolment is `proposed`, or `rejected` with the failing rules; "
    "both are stored with an eligibility snapshot. 409 when the household is not active or "
    "already has a live enrolment in the programme. Accepts `Idempotency-Key`.",
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 409)},
)
async def propose_enrolment(
    body: EnrolmentCreate,
    session: SessionDep,
    principal: PrincipalDep,
    idempotency: IdempotencyDep,
    language: LanguageDep,
) -> Response:
    if idempotency.replay:
        return idempotency.replay
    enrolment = await service.propose_enrolment(
        session,
        principal=principal,
        household_id=body.household_id,
        programme_code=body.programme_code,
        member_id=body.member_id,
    )
    enrolment, household = await service.get_enrolment(
        session, principal=principal, enrolment_id=enrolment.id, log_access=False
    )
    public = to_public(enrolment, household, await _names(session, language), detail=True)
    return await idempotency.respond(
        201,
        public,
        headers={
            "Location": f"/enrolments/{enrolment.id}",
            "ETag": f'"{enrolment.version}"',
            "Content-Language": language,
        },
    )


@router.get(
    "/enrolments",
    response_model=Page[EnrolmentPublic],
    summary="List enrolments",
    description="Enrolments in the caller's jurisdiction, oldest first, filtered by "
    "programme, status and location subtree (any gazetteer code).",
)
async def list_enrolments(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    language: LanguageDep,
    programme: Annotated[ProgrammeCode | None, Query(description="Programme code.")] = None,
    status: Annotated[EnrolmentStatusName | None, Query()] = None,
    location: Annotated[LocationCode | None, Query(description="Gazetteer code subtree.")] = None,
) -> Page[EnrolmentPublic]:
    rows, next_cursor = await service.list_enrolments(
        session,
        principal=principal,
        programme_code=programme,
        status=status,
        location_code=location,
        page=page,
    )
    names = await _names(session, language)
    return Page(items=[to_public(e, h, names) for e, h in rows], next_cursor=next_cursor)


@router.get(
    "/enrolments/{enrolment_id}",
    response_model=EnrolmentDetail,
    summary="Get an enrolment",
    description="One enrolment with its eligibility snapshot and an ETag. 404 outside the "
    "caller's jurisdiction.",
    responses={404: PROBLEM_RESPONSES[404]},
)
async def get_enrolment(
    enrolment_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
    language: LanguageDep,
) -> EnrolmentPublic:
    enrolment, household = await service.get_enrolment(
        session, principal=principal, enrolment_id=enrolment_id, log_access=True
    )
    set_etag(response, enrolment.version)
    return to_public(enrolment, household, await _names(session, language), detail=True)


async def _decided(
    session, principal, enrolment_id: uuid.UUID, response: Response, language: Language
) -> EnrolmentPublic:
    enrolment, household = await service.get_enrolment(
        session, principal=principal, enrolment_id=enrolment_id, log_access=False
    )
    set_etag(response, enrolment.version)
    return to_public(enrolment, household, await _names(session, language), detail=True)


@router.post(
    "/enrolments/{enrolment_id}/approve",
    response_model=EnrolmentDetail,
    summary="Approve a proposed enrolment",
    description="A registry verifier at the district or above approves a proposed enrolment "
    "of a household in their area: the rules are checked again today (409 with the failing "
    "rules if they no longer pass) and the enrolment becomes `enrolled`. Needs `If-Match`.",
    responses=DECISION_RESPONSES,
)
async def approve_enrolment(
    enrolment: EnrolmentToApprove,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
    language: LanguageDep,
) -> EnrolmentPublic:
    await service.approve_enrolment(
        session, principal=principal, enrolment_id=enrolment.id, expected_version=enrolment.version
    )
    return await _decided(session, principal, enrolment.id, response, language)


@router.post(
    "/enrolments/{enrolment_id}/reject",
    response_model=EnrolmentDetail,
    summary="Reject a proposed enrolment",
    description="A registry verifier at the district or above rejects a proposal, with a "
    "reason. Needs `If-Match`.",
    responses=DECISION_RESPONSES,
)
async def reject_enrolment(
    body: EnrolmentReason,
    enrolment: EnrolmentToReject,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
    language: LanguageDep,
) -> EnrolmentPublic:
    await service.reject_enrolment(
        session,
        principal=principal,
        enrolment_id=enrolment.id,
        reason=body.reason,
        expected_version=enrolment.version,
    )
    return await _decided(session, principal, enrolment.id, response, language)


@router.post(
    "/enrolments/{enrolment_id}/suspend",
    response_model=EnrolmentDetail,
    summary="Suspend an enrolment",
    description="enrolled -> suspended, with a reason (no benefits are recorded while "
    "suspended). Verifier at the district or above; needs `If-Match`.",
    responses=DECISION_RESPONSES,
)
async def suspend_enrolment(
    body: EnrolmentReason,
    enrolment: EnrolmentToSuspend,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
    language: LanguageDep,
) -> EnrolmentPublic:
    await service.suspend_enrolment(
        session,
        principal=principal,
        enrolment_id=enrolment.id,
        reason=body.reason,
        expected_version=enrolment.version,
    )
    return await _decided(session, principal, enrolment.id, response, language)


@router.post(
    "/enrolments/{enrolment_id}/resume",
    response_model=EnrolmentDetail,
    summary="Resume a suspended enrolment",
    description="suspended -> enrolled. Verifier at the district or above; needs `If-Match`.",
    responses=DECISION_RESPONSES,
)
async def resume_enrolment(
    enrolment: EnrolmentToResume,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
    language: LanguageDep,
) -> EnrolmentPublic:
    await service.resume_enrolment(
        session, principal=principal, enrolment_id=enrolment.id, expected_version=enrolment.version
    )
    return await _decided(session, principal, enrolment.id, response, language)


@router.post(
    "/enrolments/{enrolment_id}/exit",
    response_model=EnrolmentDetail,
    summary="Exit an enrolment",
    description="enrolled or suspended -> exited, with a reason. Verifier at the district or "
    "above; needs `If-Match`.",
    responses=DECISION_RESPONSES,
)
async def exit_enrolment(
    body: EnrolmentReason,
    enrolment: EnrolmentToExit,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
    language: LanguageDep,
) -> EnrolmentPublic:
    await service.exit_enrolment(
        session,
        principal=principal,
        enrolment_id=enrolment.id,
        reason=body.reason,
        expected_version=enrolment.version,
    )
    return await _decided(session, principal, enrolment.id, response, language)
