"""Programme routes: read by anyone authenticated (people and scoped clients), defined by the
national tier."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.registry.access import ProgrammeAdmin, ProgrammeForChange
from services.registry.programmes import service
from services.registry.programmes.eligibility import describe
from services.registry.programmes.models import Programme
from services.registry.programmes.rules import parse_rules
from services.registry.programmes.schemas import (
    PERIOD_LABELS,
    TARGET_LABELS,
    Label,
    ProgrammeBenefit,
    ProgrammeCreate,
    ProgrammePublic,
    ProgrammeUpdate,
)
from shared.db import SessionDep
from shared.http.concurrency import set_etag
from shared.http.idempotency import IdempotencyDep
from shared.http.language import Language, LanguageDep
from shared.http.pagination import Page, PageDep
from shared.principal import PrincipalDep
from shared.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["programmes"])


def label(labels: dict[str, dict[str, str]], code: str, language: Language) -> Label:
    return Label(code=code, label=labels.get(code, {}).get(language, code))


def programme_name(programme: Programme, language: Language) -> str:
    return programme.name_km if language == "km" else programme.name_en


def to_public(programme: Programme, language: Language) -> ProgrammePublic:
    return ProgrammePublic(
        id=programme.id,
        code=programme.code,
        name=programme_name(programme, language),
        name_km=programme.name_km,
        name_en=programme.name_en,
        description_en=programme.description_en,
        owner_ministry=programme.owner_ministry,
        target=label(TARGET_LABELS, programme.target, language),
        eligibility=programme.eligibility,
        eligibility_summary=describe(parse_rules(programme.eligibility)),
        benefit=ProgrammeBenefit(
            amount_khr=programme.benefit_amount_khr,
            in_kind_item=programme.benefit_in_kind_item,
            period=label(PERIOD_LABELS, programme.benefit_period, language),
        ),
        active=programme.active,
        version=programme.version,
    )


@router.get(
    "/programmes",
    response_model=Page[ProgrammePublic],
    summary="List programmes",
    description="The social protection programmes, by code, with their eligibility rules and "
    "benefit; names and labels in Khmer or English per `Accept-Language`.",
)
async def list_programmes(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    language: LanguageDep,
    active: Annotated[bool | None, Query(description="Only active (or inactive) ones.")] = None,
) -> Page[ProgrammePublic]:
    rows, next_cursor = await service.list_programmes(session, active=active, page=page)
    return Page(items=[to_public(p, language) for p in rows], next_cursor=next_cursor)


@router.get(
    "/programmes/{code}",
    response_model=ProgrammePublic,
    summary="Get a programme",
    description="One programme by its code, with an ETag for updates.",
    responses={404: PROBLEM_RESPONSES[404]},
)
async def get_programme(
    code: str,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
    language: LanguageDep,
) -> ProgrammePublic:
    programme = await service.get_programme(session, code=code)
    set_etag(response, programme.version)
    return to_public(programme, language)


@router.post(
    "/programmes",
    status_code=201,
    response_model=ProgrammePublic,
    summary="Define a programme",
    description="National tier only (role `registry.verifier`). The eligibility rules are "
    "validated: unknown rule kinds, impossible bounds, member rules outside `has_member` in a "
    "household programme and unknown location codes are refused with the field named. "
    "Accepts `Idempotency-Key`.",
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 409)},
)
async def create_programme(
    body: ProgrammeCreate,
    session: SessionDep,
    principal: ProgrammeAdmin,
    idempotency: IdempotencyDep,
    language: LanguageDep,
) -> Response:
    if idempotency.replay:
        return idempotency.replay
    programme = await service.create_programme(session, principal=principal, data=body)
    return await idempotency.respond(
        201,
        to_public(programme, language),
        headers={
            "Location": f"/programmes/{programme.code}",
            "ETag": f'"{programme.version}"',
            "Content-Language": language,
        },
    )


@router.patch(
    "/programmes/{code}",
    response_model=ProgrammePublic,
    summary="Change a programme",
    description="National tier only. Needs `If-Match` with the programme's ETag. Deactivate a "
    'programme with `{"active": false}`; its enrolments stay as they are.',
    responses={k: PROBLEM_RESPONSES[k] for k in (403, 404, 412, 428)},
)
async def update_programme(
    body: ProgrammeUpdate,
    current: ProgrammeForChange,
    session: SessionDep,
    principal: ProgrammeAdmin,
    response: Response,
    language: LanguageDep,
) -> ProgrammePublic:
    programme = await service.update_programme(
        session,
        principal=principal,
        code=current.code,
        changes=body,
        expected_version=current.version,
    )
    set_etag(response, programme.version)
    return to_public(programme, language)
