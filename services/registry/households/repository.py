"""Every query about households, members, their IDPoor history and their change history.

Reads for a principal go through `jurisdiction_filter`, so a record outside the caller's area
is simply not found. The `*_for_change` lookups are unfiltered on purpose: a write outside
the caller's area must be refused with 403 by the service (`require_in_jurisdiction`), not
answered as if the record did not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    case,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.households.codes import SEQUENCE
from services.registry.households.models import (
    Household,
    Member,
    PovertyLevel,
    PovertyStatusRecord,
    RecordChange,
)
from shared.http.pagination import PageParams, paginate
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal
from shared.tiers import tier_for_code

SEARCH_LIMIT_MAX = 100


@dataclass(frozen=True)
class HouseholdFilters:
    location: str | None = None  # any gazetteer code: the subtree below it
    status: str | None = None
    poverty_level: str | None = None
    poverty_valid_until_before: date | None = None
    poverty_valid_until_after: date | None = None
    code: str | None = None


def within(location: str, column: Any) -> ColumnElement[bool]:
    """Narrowing to a subtree inside the caller's area: the jurisdiction prefix rule, applied
    through the shared helper with a stand-in principal for that area."""
    tier = tier_for_code(location)
    if tier is None:  # a village: exact match
        return column == location
    return jurisdiction_filter(
        Principal(sub=f"area:{location}", tier=tier, admin_code=location), column
    )


async def next_household_number(session: AsyncSession) -> int:
    return (await session.execute(text(f"SELECT nextval('{SEQUENCE}')"))).scalar_one()


# --- households -----------------------------------------------------------------------------


async def household_for_change(session: AsyncSession, household_id: uuid.UUID) -> Household | None:
    return await session.get(Household, household_id)


async def visible_household(
    session: AsyncSession, principal: Principal, household_id: uuid.UUID
) -> Household | None:
    return (
        await session.execute(
            select(Household).where(
                Household.id == household_id,
                jurisdiction_filter(principal, Household.village_code),
            )
        )
    ).scalar_one_or_none()


async def visible_household_by_code(
    session: AsyncSession, principal: Principal, code: str
) -> Household | None:
    return (
        await session.execute(
            select(Household).where(
                Household.code == code, jurisdiction_filter(principal, Household.village_code)
            )
        )
    ).scalar_one_or_none()


async def list_households(
    session: AsyncSession, principal: Principal, filters: HouseholdFilters, page: PageParams
) -> tuple[list[Household], str | None]:
    statement = select(Household).where(jurisdiction_filter(principal, Household.village_code))
    if filters.location:
        statement = statement.where(within(filters.location, Household.village_code))
    if filters.status:
        statement = statement.where(Household.status == filters.status)
    if filters.poverty_level:
        statement = statement.where(Household.poverty_level == filters.poverty_level)
    if filters.poverty_valid_until_before or filters.poverty_valid_until_after:
        # Validity only means something for a poor household (the partial index's predicate).
        statement = statement.where(
            Household.poverty_level.in_([PovertyLevel.POOR_1, PovertyLevel.POOR_2])
        )
    if filters.poverty_valid_until_before:
        statement = statement.where(
            Household.poverty_valid_until < filters.poverty_valid_until_before
        )
    if filters.poverty_valid_until_after:
        statement = statement.where(
            Household.poverty_valid_until >= filters.poverty_valid_until_after
        )
    if filters.code:
        statement = statement.where(Household.code == filters.code)
    return await paginate(session, statement, order_by=[Household.code], page=page)


# --- members --------------------------------------------------------------------------------


async def members_of(session: AsyncSession, household_id: uuid.UUID) -> list[Member]:
    """The household's members, head first, then eldest first."""
    return list(
        (
            await session.execute(
                select(Member)
                .where(Member.household_id == household_id)
                .order_by(
                    case((Member.relationship == "head", 0), else_=1),
                    Member.birth_date,
                    Member.id,
                )
            )
        )
        .scalars()
        .all()
    )


async def member_for_change(session: AsyncSession, member_id: uuid.UUID) -> Member | None:
    return await session.get(Member, member_id)


async def visible_member(
    session: AsyncSession, principal: Principal, member_id: uuid.UUID
) -> Member | None:
    return (
        await session.execute(
            select(Member).where(
                Member.id == member_id, jurisdiction_filter(principal, Member.village_code)
            )
        )
    ).scalar_one_or_none()


def search_names() -> ColumnElement[str]:
    """Both full names in one string, exactly as migration 0009's trigram index spells it
    (`full_name_km || ' ' || full_name_latin`, the space inlined, not a bound parameter, so
    that the planner matches the index expression)."""
    return Member.full_name_km.op("||")(literal_column("' '")).op("||")(Member.full_name_latin)


def member_search_statement(
    principal: Principal,
    *,
    district_code: str,
    query: str,
    khmer: bool,
    birth_year: int | None,
    limit: int,
    similarity_threshold: float,
) -> Select:
    """Members of one district whose name is similar to `query`, most similar first, within
    the principal's area.

    Candidates come from migration 0009's index (district_code, names gin_trgm_ops): the
    district and `query <% names` (word similarity of the query to the best extent of the
    Khmer + Latin names, at least `pg_trgm.word_similarity_threshold`, set by
    `search_members` to the same threshold). A name whose pg_trgm similarity to the query
    reaches the threshold always passes that test (its extent shares at least as many of
    the query's trigrams), so the final filter, `similarity(name in the query's script,
    query) >= threshold`, keeps exactly the matches of a search of that script's name.
    It runs in a MATERIALIZED CTE so that the jurisdiction filter is applied to its matches
    afterwards: otherwise the planner may walk the village-code prefix index over every
    member of the district (Khmer family names are few, so trigram selectivity is often
    underestimated).
    """
    name = Member.full_name_km if khmer else Member.full_name_latin
    term = query if khmer else query.lower()
    matches = (
        select(
            Member.id.label("member_id"),
            Member.village_code.label("village_code"),
            Member.birth_date.label("birth_date"),
            func.similarity(name, term).label("similarity"),
        )
        .where(
            Member.district_code == district_code,
            literal(term).op("<%")(search_names()),
            func.similarity(name, term) >= similarity_threshold,
        )
        .cte("name_matches")
        .prefix_with("MATERIALIZED")
    )
    statement = (
        select(Member, Household.code, matches.c.similarity)
        .select_from(matches)
        .join(Member, Member.id == matches.c.member_id)
        .join(Household, Household.id == Member.household_id)
        .where(jurisdiction_filter(principal, matches.c.village_code))
        .order_by(matches.c.similarity.desc(), matches.c.member_id)
        .limit(min(limit, SEARCH_LIMIT_MAX))
    )
    if birth_year is not None:
        statement = statement.where(
            matches.c.birth_date >= date(birth_year, 1, 1),
            matches.c.birth_date <= date(birth_year, 12, 31),
        )
    return statement


async def search_members(
    session: AsyncSession,
    principal: Principal,
    *,
    district_code: str,
    query: str,
    khmer: bool,
    birth_year: int | None,
    limit: int,
    similarity_threshold: float,
) -> list[tuple[Member, str, float]]:
    # Only for this transaction: the `<%` operator (and its index scan) reads it.
    await session.execute(
        select(
            func.set_config("pg_trgm.word_similarity_threshold", str(similarity_threshold), True)
        )
    )
    statement = member_search_statement(
        principal,
        district_code=district_code,
        query=query,
        khmer=khmer,
        birth_year=birth_year,
        limit=limit,
        similarity_threshold=similarity_threshold,
    )
    return [tuple(row) for row in (await session.execute(statement)).all()]


# --- history --------------------------------------------------------------------------------


async def poverty_history(
    session: AsyncSession, household_id: uuid.UUID, page: PageParams
) -> tuple[list[PovertyStatusRecord], str | None]:
    return await paginate(
        session,
        select(PovertyStatusRecord).where(PovertyStatusRecord.household_id == household_id),
        order_by=[PovertyStatusRecord.id],
        page=page,
    )


async def household_changes(
    session: AsyncSession, household_id: uuid.UUID, page: PageParams
) -> tuple[list[RecordChange], str | None]:
    """Every change to the household and to its members, oldest first."""
    return await paginate(
        session,
        select(RecordChange).where(RecordChange.household_id == household_id),
        order_by=[RecordChange.id],
        page=page,
    )


async def member_changes(
    session: AsyncSession, member_id: uuid.UUID, page: PageParams
) -> tuple[list[RecordChange], str | None]:
    return await paginate(
        session,
        select(RecordChange).where(
            RecordChange.entity == "member", RecordChange.entity_id == member_id
        ),
        order_by=[RecordChange.id],
        page=page,
    )
