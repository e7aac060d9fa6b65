"""HTTP routes for households, members, IDPoor status and their history.

Routes only translate HTTP: the record to change comes loaded and checked against If-Match
(`services.registry.access`), the route calls the service and shapes the answer (ETag,
masking of sensitive fields by role). The rules are in `service`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import workflows
from services.registry.access import HouseholdForChange, HouseholdForDirectEdit
from services.registry.households import service
from services.registry.households.models import (
    Household,
    HouseholdStatus,
    Member,
    PovertyLevel,
)
from services.registry.households.repository import MEMBER_PREFIX, HouseholdFilters
from services.registry.households.schemas import (
    HOUSEHOLD_CODE_SCHEMA,
    HeadChange,
    HouseholdCreate,
    HouseholdListItem,
    HouseholdPublic,
    HouseholdReturn,
    HouseholdSummary,
    HouseholdUpdate,
    MemberCreate,
    MemberPublic,
    MemberRemoval,
    MemberSearchHit,
    MemberSearchResult,
    MemberUpdate,
    PovertyStatusInput,
    PovertyStatusPublic,
    PovertyStatusRecordPublic,
    RecordChangePublic,
    mask_changes,
    mask_member,
    sees_sensitive,
)
from shared.db.engine import Database
from shared.db.session import DatabaseDep, SessionDep
from shared.gazetteer import DistrictCode, LocationCode, get_gazetteer
from shared.http.concurrency import etag, set_etag
from shared.http.idempotency import IdempotencyDep
from shared.http.language import LanguageDep
from shared.http.pagination import Page, PageDep
from shared.http.responses import json_response
from shared.masking import SENSITIVE_FIELDS, mask_value
from shared.principal import Principal, PrincipalDep
from shared.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(tags=["households"])

_WRITE = {k: PROBLEM_RESPONSES[k] for k in (403, 404, 409, 412, 422, 428)}
_READ = {k: PROBLEM_RESPONSES[k] for k in (404, 422)}


# --- shaping ------------------------------------------------------------------------------------


def _poverty(household: Household) -> PovertyStatusPublic:
    return PovertyStatusPublic(
        level=household.poverty_level,
        score=household.poverty_score,
        method=household.poverty_method,
        round_number=household.poverty_round,
        assessed_on=household.poverty_assessed_on,
        valid_until=household.poverty_valid_until,
        equity_card_number=household.equity_card_number,
        vulnerability_categories=list(household.vulnerability_categories),
    )


def _member(member: Member, principal: Principal) -> MemberPublic:
    public = MemberPublic.model_validate(member)
    return public if sees_sensitive(principal.roles) else mask_member(public)


def _summary(household: Household) -> HouseholdSummary:
    return HouseholdSummary.model_validate(
        {**_columns(household), "poverty_status": _poverty(household)}
    )


def _columns(household: Household) -> dict:
    return {
        name: getattr(household, name)
        for name in HouseholdPublic.model_fields
        if hasattr(household, name)
    }


def _public(household: Household, members: list[Member], principal: Principal) -> HouseholdPublic:
    return HouseholdPublic.model_validate(
        {
            **_columns(household),
            "poverty_status": _poverty(household),
            "members": [_member(m, principal) for m in members],
        }
    )


_MEMBER_FIELDS = tuple(MemberPublic.model_fields)
_POVERTY_COLUMNS = (
    ("level", "poverty_level"), ("score", "poverty_score"), ("method", "poverty_method"),
    ("round_number", "poverty_round"), ("assessed_on", "poverty_assessed_on"),
    ("valid_until", "poverty_valid_until"), ("equity_card_number", "equity_card_number"),
    ("vulnerability_categories", "vulnerability_categories"),
)  # fmt: skip


def _public_from_rows(rows: list[asyncpg.Record], principal: Principal) -> dict:
    """`HouseholdPublic`, field for field, from `repository.household_read_statement`'s rows
    (one per member), without building models: the hot lookups answer with this."""
    first = rows[0]
    body: dict = {}
    for name in HouseholdPublic.model_fields:
        if name == "poverty_status":
            body[name] = {key: first[column] for key, column in _POVERTY_COLUMNS}
        elif name != "members":
            body[name] = first[name]
    masked = not sees_sensitive(principal.roles)
    members = []
    for row in rows:
        if row[MEMBER_PREFIX + "id"] is None:
            continue  # a household without members: the outer join's one empty row
        member = {name: row[MEMBER_PREFIX + name] for name in _MEMBER_FIELDS}
        if masked:
            for name in SENSITIVE_FIELDS:
                member[name] = mask_value(name, member[name])
        members.append(member)
    body["members"] = members
    return body


async def _hot_read(
    database: Database,
    principal: Principal,
    *,
    purpose: str,
    code: str | None = None,
    household_id: uuid.UUID | None = None,
) -> Response:
    rows = await service.read_household_rows(
        database, principal=principal, code=code, household_id=household_id, purpose=purpose
    )
    return json_response(
        _public_from_rows(rows, principal), headers={"ETag": etag(rows[0]["version"])}
    )


class _Change:
    """A change to one household (loaded by the subclass's dependency), by the caller, in the
    request's transaction; `apply` runs the service's action and answers with the household
    (ETag set, sensitive fields masked by role)."""

    def __init__(
        self, household: Household, session: AsyncSession, principal: Principal, response: Response
    ) -> None:
        self.household = household
        self.session = session
        self.principal = principal
        self.response = response

    async def member(self, member_id: uuid.UUID) -> Member:
        return await service.member_for_change(
            self.session, household=self.household, member_id=member_id
        )

    async def apply(
        self, action: Callable[..., Awaitable[object]], **fields: Any
    ) -> HouseholdPublic:
        await action(self.session, principal=self.principal, household=self.household, **fields)
        members = await service.members_of(self.session, household=self.household)
        set_etag(self.response, self.household.version)
        return _public(self.household, members, self.principal)


class _VerificationStep(_Change):
    def __init__(
        self,
        household: HouseholdForChange,
        session: SessionDep,
        principal: PrincipalDep,
        response: Response,
    ) -> None:
        super().__init__(household, session, principal, response)


class _DirectEdit(_Change):
    def __init__(
        self,
        household: HouseholdForDirectEdit,
        session: SessionDep,
        principal: PrincipalDep,
        response: Response,
    ) -> None:
        super().__init__(household, session, principal, response)


VerificationStep = Annotated[_Change, Depends(_VerificationStep)]
"""Verify, return, resubmit: the household loaded and checked against If-Match."""
DirectEdit = Annotated[_Change, Depends(_DirectEdit)]
"""A commune officer's correction before verification (409 once verified), with If-Match."""


# --- registration and verification ------------------------------------------------------------


@router.post(
    "/households",
    status_code=201,
    response_model=HouseholdPublic,
    summary="Register a household with its members",
    description="A commune (CS) registry officer registers a household in a village of the "
    "commune, with exactly one head among its members and optionally its IDPoor status. It "
    "starts pending verification by the district. Send `Idempotency-Key`: a retry returns the "
    "first answer. Impossible values are refused with the field named "
    "(`#/members/2/birth_date`).",
    responses={**_WRITE},
)
async def register_household(
    body: HouseholdCreate,
    session: SessionDep,
    principal: PrincipalDep,
    idempotency: IdempotencyDep,
) -> Response:
    if idempotency.replay:
        return idempotency.replay
    household = await workflows.register_household(session, principal=principal, data=body)
    members = await service.members_of(session, household=household)
    return await idempotency.respond(
        201,
        _public(household, members, principal),
        headers={"Location": f"/households/{household.id}", "ETag": f'"{household.version}"'},
    )


@router.post(
    "/households/{household_id}/verify",
    response_model=HouseholdPublic,
    summary="Verify a household (district or above)",
    description="A registry verifier of the household's district (DMK), province (CP) or "
    "national level confirms a household pending verification; it becomes active. Requires "
    "`If-Match`.",
    responses={**_WRITE},
)
async def verify_household(step: VerificationStep) -> HouseholdPublic:
    return await step.apply(service.verify_household)


@router.post(
    "/households/{household_id}/return",
    response_model=HouseholdPublic,
    summary="Return a household to the commune with reasons",
    description="A verifier sends a household pending verification back to the commune with "
    "the reasons to correct; the commune edits it and resubmits. Requires `If-Match`.",
    responses={**_WRITE},
)
async def return_household(body: HouseholdReturn, step: VerificationStep) -> HouseholdPublic:
    return await step.apply(service.return_household, reasons=body.reasons)


@router.post(
    "/households/{household_id}/resubmit",
    response_model=HouseholdPublic,
    summary="Resubmit a returned household for verification",
    description="The commune officer, having corrected a returned household, sends it back "
    "for verification. Requires `If-Match`.",
    responses={**_WRITE},
)
async def resubmit_household(step: VerificationStep) -> HouseholdPublic:
    return await step.apply(service.resubmit_household)


# --- direct edits before verification --------------------------------------------------------

_DIRECT = (
    " Direct edits are for households pending verification or returned, by the commune "
    "officer; an active household answers 409 (use a change request). Requires `If-Match` "
    "with the household's ETag."
)


@router.patch(
    "/households/{household_id}",
    response_model=HouseholdPublic,
    summary="Correct a household before verification",
    description="Change the address or the village within the same commune." + _DIRECT,
    responses={**_WRITE},
)
async def update_household(body: HouseholdUpdate, edit: DirectEdit) -> HouseholdPublic:
    return await edit.apply(service.update_household, changes=body)


@router.post(
    "/households/{household_id}/members",
    status_code=201,
    response_model=HouseholdPublic,
    summary="Add a member before verification",
    description="Add a member to a household (not a second head)." + _DIRECT,
    responses={**_WRITE},
)
async def add_household_member(body: MemberCreate, edit: DirectEdit) -> HouseholdPublic:
    return await edit.apply(service.add_member, data=body)


@router.patch(
    "/households/{household_id}/members/{member_id}",
    response_model=HouseholdPublic,
    summary="Correct a member before verification",
    description="Change a member's details; `null` clears an optional field." + _DIRECT,
    responses={**_WRITE},
)
async def update_household_member(
    member_id: uuid.UUID, body: MemberUpdate, edit: DirectEdit
) -> HouseholdPublic:
    return await edit.apply(
        service.update_member, member=await edit.member(member_id), changes=body
    )


@router.post(
    "/households/{household_id}/members/{member_id}/remove",
    response_model=HouseholdPublic,
    summary="Remove a member before verification",
    description="A member died, moved out, or was recorded in error; the record stays with "
    "that status. The head cannot be removed (change the head first)." + _DIRECT,
    responses={**_WRITE},
)
async def remove_household_member(
    member_id: uuid.UUID, body: MemberRemoval, edit: DirectEdit
) -> HouseholdPublic:
    # A member who leaves takes their live enrolments along (a cross-aggregate step).
    return await edit.apply(
        workflows.remove_member,
        member=await edit.member(member_id),
        reason=body.reason,
        note=body.note,
    )


@router.post(
    "/households/{household_id}/head",
    response_model=HouseholdPublic,
    summary="Change the head of a household before verification",
    description="Make another active member the head." + _DIRECT,
    responses={**_WRITE},
)
async def change_household_head(body: HeadChange, edit: DirectEdit) -> HouseholdPublic:
    return await edit.apply(
        service.change_head,
        new_head_member_id=body.member_id,
        former_head_relationship=body.former_head_relationship,
    )


@router.put(
    "/households/{household_id}/poverty-status",
    response_model=HouseholdPublic,
    summary="Set the IDPoor status before verification",
    description="Record the household's IDPoor assessment (the history keeps every "
    "change)." + _DIRECT,
    responses={**_WRITE},
)
async def set_household_poverty_status(
    body: PovertyStatusInput, edit: DirectEdit
) -> HouseholdPublic:
    return await edit.apply(service.set_poverty_status, status=body)


# --- reads ---------------------------------------------------------------------------------------


@router.get(
    "/households",
    response_model=Page[HouseholdListItem],
    summary="List households in your area",
    description="Households whose village lies in your jurisdiction, by code, one cursor page "
    "at a time. Filters: `location` (any gazetteer code overlapping your area), `status`, "
    "`poverty_level`, `poverty_valid_until_before`/`_after` (poor households whose equity "
    "card expires in a window, e.g. the next 90 days), `code`. Each item carries what a list "
    "screen shows: the head's name, the number of active members and the village's name (in "
    "the Accept-Language language); `total` counts the matches (up to 10,000).",
    responses={**PROBLEM_RESPONSES},
)
async def list_households(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    language: LanguageDep,
    location: Annotated[LocationCode | None, Query()] = None,
    status: Annotated[HouseholdStatus | None, Query()] = None,
    poverty_level: Annotated[PovertyLevel | None, Query()] = None,
    poverty_valid_until_before: Annotated[
        date | None, Query(description="Poor households whose card expires before this date.")
    ] = None,
    poverty_valid_until_after: Annotated[
        date | None, Query(description="Poor households whose card is valid on or after this.")
    ] = None,
    code: Annotated[str | None, Query(max_length=20, **HOUSEHOLD_CODE_SCHEMA)] = None,
) -> Page[HouseholdListItem]:
    rows, next_cursor, display = await service.list_households(
        session,
        principal=principal,
        filters=HouseholdFilters(
            location=location,
            status=status,
            poverty_level=poverty_level,
            poverty_valid_until_before=poverty_valid_until_before,
            poverty_valid_until_after=poverty_valid_until_after,
            code=code,
        ),
        page=page,
    )
    gazetteer = get_gazetteer()
    items = []
    for household in rows:
        village = gazetteer.get(household.village_code)
        name = (village.name_km if language == "km" else village.name_en) if village else None
        items.append(
            HouseholdListItem.model_validate(
                {
                    **_summary(household).model_dump(),
                    **display[household.id],
                    "village_name": name,
                }
            )
        )
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/households/by-code/{code}",
    response_model=HouseholdPublic,
    summary="Find a household by its code",
    description="The household with this code (`HH` + 9 digits) in your area, with members. "
    "A mistyped code (wrong check digit) is 422; the read is logged.",
    responses={**_READ},
)
async def get_household_by_code(
    code: Annotated[str, Path(**HOUSEHOLD_CODE_SCHEMA)],
    database: DatabaseDep,
    principal: PrincipalDep,
) -> HouseholdPublic:
    normalised = service.normalise_household_code(code, field="path.code")
    return await _hot_read(
        database, principal, code=normalised, purpose="registry_get_household_by_code"
    )


@router.get(
    "/households/{household_id}",
    response_model=HouseholdPublic,
    summary="Read a household",
    description="A household in your area with its members and current IDPoor status; "
    "national ID and phone numbers are masked unless you are a registry officer or verifier. "
    "The ETag is what updates send as `If-Match`; the read is logged.",
    responses={**_READ},
)
async def get_household(
    household_id: uuid.UUID, database: DatabaseDep, principal: PrincipalDep
) -> HouseholdPublic:
    return await _hot_read(
        database, principal, household_id=household_id, purpose="registry_get_household"
    )


@router.get(
    "/households/{household_id}/poverty-status/history",
    response_model=Page[PovertyStatusRecordPublic],
    summary="A household's IDPoor history",
    description="Every IDPoor status the household has had, oldest first.",
    responses={**_READ},
)
async def household_poverty_history(
    household_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Page[PovertyStatusRecordPublic]:
    rows, next_cursor = await service.poverty_history(
        session, principal=principal, household_id=household_id, page=page
    )
    return Page(
        items=[PovertyStatusRecordPublic.model_validate(r, from_attributes=True) for r in rows],
        next_cursor=next_cursor,
    )


def _changes_page(rows, next_cursor, principal: Principal) -> Page[RecordChangePublic]:
    items = []
    for row in rows:
        item = RecordChangePublic.model_validate(row)
        if not sees_sensitive(principal.roles):
            item = item.model_copy(update={"changes": mask_changes(item.changes)})
        items.append(item)
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/households/{household_id}/history",
    response_model=Page[RecordChangePublic],
    summary="Who changed a household and its members, and when",
    description="Every change to the household and its members, oldest first, with the "
    "person, their tier and area, the request id and the values before and after.",
    responses={**_READ},
)
async def household_history(
    household_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Page[RecordChangePublic]:
    rows, next_cursor = await service.household_history(
        session, principal=principal, household_id=household_id, page=page
    )
    return _changes_page(rows, next_cursor, principal)


@router.get(
    "/members/search",
    response_model=MemberSearchResult,
    summary="Find members by name in a district",
    description="Fuzzy search on Khmer or Latin names (the script is detected from `q`) in "
    "one district, most similar first, optionally for one birth year. The district must "
    "overlap your area (a district or commune officer may omit it: their own is searched); a "
    "commune officer finds only its commune's members. No sensitive "
    "fields; each hit is logged as a read.",
    responses={**PROBLEM_RESPONSES},
)
async def search_members(
    database: DatabaseDep,
    principal: PrincipalDep,
    q: Annotated[str, Query(min_length=2, max_length=100, description="A name or part of it.")],
    district: Annotated[
        DistrictCode | None,
        Query(
            description="The district to search. A district or commune officer may leave it "
            "out: their own district is searched (a commune officer's results stay in the "
            "commune). Required from national and provincial callers."
        ),
    ] = None,
    birth_year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> MemberSearchResult:
    if district is None:
        own = principal.admin_code or ""
        if len(own) < 4:
            raise Problem.invalid(
                "query.district", "required: name the district to search in your area"
            )
        district = own[:4]
    hits = await service.search_members(
        database,
        principal=principal,
        district_code=district,
        query=q,
        birth_year=birth_year,
        limit=limit,
    )
    items = []
    for row in hits:
        item = {name: row[name] for name in _SEARCH_HIT_FIELDS}
        item["similarity"] = round(item["similarity"], 4)
        items.append(item)
    return json_response({"items": items})


_SEARCH_HIT_FIELDS = tuple(MemberSearchHit.model_fields)


@router.get(
    "/members/{member_id}",
    response_model=MemberPublic,
    summary="Read a member",
    description="A member in your area; national ID and phone masked unless you are a "
    "registry officer or verifier. The read is logged.",
    responses={**_READ},
)
async def get_member(
    member_id: uuid.UUID, response: Response, session: SessionDep, principal: PrincipalDep
) -> MemberPublic:
    member = await service.read_member(
        session, principal=principal, member_id=member_id, purpose="registry_get_member"
    )
    set_etag(response, member.version)
    return _member(member, principal)


@router.get(
    "/members/{member_id}/history",
    response_model=Page[RecordChangePublic],
    summary="Who changed a member, and when",
    description="Every change to the member, oldest first.",
    responses={**_READ},
)
async def member_history(
    member_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Page[RecordChangePublic]:
    rows, next_cursor = await service.member_history(
        session, principal=principal, member_id=member_id, page=page
    )
    return _changes_page(rows, next_cursor, principal)
