"""Reads of households and members: the record to change, reads in one's area (each read of
personal data logged), lists, history and the fuzzy name search."""

from __future__ import annotations

import uuid
from dataclasses import replace

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.audit import record_access
from services.registry.households import repository
from services.registry.households.codes import is_valid_household_code
from services.registry.households.models import (
    Household,
    Member,
)
from services.registry.households.repository import HouseholdFilters
from services.registry.households.schemas import (
    sees_sensitive,
)
from shared.db.engine import Database
from shared.http.pagination import PageParams
from shared.jurisdiction import require_in_jurisdiction
from shared.principal import Principal
from shared.problems import Problem, field_error

SEARCH_THRESHOLD = 0.3  # pg_trgm's default; names shorter than ~6 letters need it this low


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
) -> tuple[list[Household], str | None, dict]:
    """Households in the principal's area (a `location` filter must overlap that area): the
    page, the next cursor and each one's display fields."""
    if filters.location and not _overlaps(principal, filters.location):
        raise Problem(
            403,
            f"Location {filters.location} is outside your jurisdiction.",
            errors=[field_error(["query", "location"], "outside your jurisdiction")],
        )
    if filters.code:
        filters = replace(filters, code=normalise_household_code(filters.code, field="query.code"))
    rows, next_cursor = await repository.list_households(session, principal, filters, page)
    return rows, next_cursor, await repository.list_display(session, rows)


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
