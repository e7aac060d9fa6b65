"""Every query about households, members, their IDPoor history and their change history.

Reads for a principal go through `jurisdiction_filter`, so a record outside the caller's area
is simply not found. The `*_for_change` lookups are unfiltered on purpose: a write outside
the caller's area must be refused with 403 by the service (`require_in_jurisdiction`), not
answered as if the record did not exist.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import asyncpg
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    Integer,
    Select,
    String,
    Uuid,
    bindparam,
    case,
    func,
    insert,
    literal,
    select,
    text,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.audit.models import PersonalDataAccess, RecordChange
from services.registry.households.codes import SEQUENCE
from services.registry.households.models import (
    Household,
    Member,
    MemberName,
    MemberStatus,
    PovertyLevel,
    PovertyStatusRecord,
)
from shared import clock
from shared.context import request_id_var
from shared.db.compiled import CompiledStatement
from shared.http.pagination import PageParams, paginate
from shared.jurisdiction import (
    JurisdictionShape,
    jurisdiction_filter,
    jurisdiction_parameters,
    jurisdiction_shape,
    stand_in,
)
from shared.personal_data import ACCESS_COLUMNS
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


async def list_display(
    session: AsyncSession, households: list[Household]
) -> dict[uuid.UUID, dict[str, Any]]:
    """What a list screen shows of each household beside its codes: the head's names and the
    number of active members, in one query for the page."""
    if not households:
        return {}
    ids = [h.id for h in households]
    active = func.count(Member.id).filter(Member.status == MemberStatus.ACTIVE)
    counts = dict(
        (
            await session.execute(
                select(Member.household_id, active)
                .where(Member.household_id.in_(ids))
                .group_by(Member.household_id)
            )
        ).all()
    )
    heads = {
        row.household_id: row
        for row in (
            await session.execute(
                select(
                    Member.household_id,
                    Member.family_name_km,
                    Member.given_name_km,
                    Member.family_name_latin,
                    Member.given_name_latin,
                ).where(Member.id.in_([h.head_member_id for h in households if h.head_member_id]))
            )
        ).all()
    }
    display = {}
    for household in households:
        head = heads.get(household.id)
        display[household.id] = {
            "member_count": counts.get(household.id, 0),
            "head_name_km": f"{head.family_name_km} {head.given_name_km}" if head else None,
            "head_name_latin": (
                f"{head.family_name_latin} {head.given_name_latin}" if head else None
            ),
        }
    return display


# --- a household with its members, in one round trip ------------------------------------------


@dataclass(frozen=True)
class ReadLog:
    """Who reads and why: the personal-data access row the read writes in the same statement."""

    principal: Principal
    purpose: str
    sensitive_fields: bool
    request_id: str | None
    at: datetime = field(default_factory=clock.now)  # by the app's clock, not SQL now()

    @classmethod
    def of(cls, principal: Principal, *, purpose: str, sensitive_fields: bool) -> ReadLog | None:
        """The log entry of this request's read; None for machine clients and anonymous
        callers (the gateway and their own transaction records log those)."""
        if principal.client or principal.is_anonymous:
            return None
        return cls(principal, purpose, sensitive_fields, request_id_var.get())


MEMBER_PREFIX = "m_"


def access_log_insert(source, *, entity, entity_id, household_id):
    """`INSERT INTO personal_data_access ... SELECT ... FROM source` as a CTE: one access row
    per row of `source`, with the reader as bind parameters (`reader_*`). `entity` is a name
    or an expression of `source`."""
    access = PersonalDataAccess.__table__
    return (
        insert(access)
        .from_select(
            ACCESS_COLUMNS,
            select(
                bindparam("reader_sub", type_=String),
                bindparam("reader_name", type_=String),
                bindparam("reader_tier", type_=String),
                bindparam("reader_admin_code", type_=String),
                literal(entity, String) if isinstance(entity, str) else entity,
                entity_id,
                household_id,
                bindparam("reader_sensitive_fields", type_=Boolean),
                bindparam("reader_purpose", type_=String),
                bindparam("reader_request_id", type_=String),
                bindparam("reader_at", type_=DateTime(timezone=True)),
            ).select_from(source),
        )
        .cte("logged")
    )


def access_log_parameters(log: ReadLog | None) -> dict[str, Any]:
    if log is None:
        return {}
    return {
        "reader_sub": log.principal.sub,
        "reader_name": log.principal.name,
        "reader_tier": log.principal.tier.value if log.principal.tier else None,
        "reader_admin_code": log.principal.admin_code,
        "reader_sensitive_fields": log.sensitive_fields,
        "reader_purpose": log.purpose,
        "reader_request_id": log.request_id,
        "reader_at": log.at,
    }


@functools.cache
def household_read_statement(
    shape: JurisdictionShape, by: Literal["code", "id"], logged: bool
) -> CompiledStatement:
    """The household (by code or id, within the jurisdiction) left-joined to its members,
    head first, then eldest first; member columns are prefixed `m_`. With `logged`, the same
    statement writes the access row (a data-modifying CTE: it commits with the read)."""
    key = (
        Household.code == bindparam("key", type_=String)
        if by == "code"
        else Household.id == bindparam("key", type_=Uuid)
    )
    found = (
        select(Household.__table__)
        .where(key, jurisdiction_filter(stand_in(shape), Household.village_code))
        .cte("found")
    )
    member = Member.__table__
    statement = (
        select(found, *[c.label(MEMBER_PREFIX + c.name) for c in member.c])
        .select_from(found.outerjoin(member, member.c.household_id == found.c.id))
        .order_by(
            case((member.c.relationship == "head", 0), else_=1), member.c.birth_date, member.c.id
        )
    )
    if logged:
        statement = statement.add_cte(
            access_log_insert(
                found, entity="household", entity_id=found.c.id, household_id=found.c.id
            )
        )
    return CompiledStatement(statement)


async def read_household_rows(
    connection: asyncpg.Connection,
    principal: Principal,
    *,
    code: str | None = None,
    household_id: uuid.UUID | None = None,
    log: ReadLog | None,
) -> list[asyncpg.Record]:
    """One row per member (one row with null members for a household without any); no rows
    when the household is not in the principal's area."""
    statement = household_read_statement(
        jurisdiction_shape(principal), "code" if code is not None else "id", log is not None
    )
    return await statement.fetch(
        connection,
        key=code if code is not None else household_id,
        **jurisdiction_parameters(principal),
        **access_log_parameters(log),
    )


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


SEARCH_HIT_COLUMNS = (
    "household_id", "village_code", "family_name_km", "given_name_km", "family_name_latin",
    "given_name_latin", "sex", "birth_date", "birth_date_estimated", "relationship", "status",
)  # fmt: skip


def member_search_statement(
    principal: Principal,
    *,
    district_code: str,
    query: str,
    khmer: bool,
    birth_year: int | None,
    limit: int,
    logged: bool = False,
) -> Select:
    """Members of one district whose name is similar to the query, most similar first (then
    by id), within the principal's area: one row per hit (`MemberSearchHit`'s columns).

    1. `names`: the district's distinct names in the query's script with pg_trgm similarity
       at least `pg_trgm.similarity_threshold` (`name % term`; `search_members` sets it),
       from migration 0011's dictionary and its trigram index: a few thousand rows where
       the district's members are hundreds of thousands.
    2. `hits`: per name, its first `limit` members in the area (and birth year) in id order,
       from the btree (district_code, name, id) INCLUDE (village_code, birth_date): no more
       than `limit` can come from one name, however common.
    3. `best`: the best `limit` of those by (similarity desc, id), and only then their rows.
    The result is exactly "every member of the district whose name is that similar, best
    first", without reading all the members of a common name. With `logged`, each hit is
    written to the access log by the same statement.

    Values are bind parameters (`district_code`, `term`, `limit`, `born_from`, `born_to`)
    holding this call's values, so the statement compiles once per shape
    (`member_search_compiled`) and also renders with its values (tests EXPLAIN it).
    """
    limit = min(limit, SEARCH_LIMIT_MAX)
    script = "km" if khmer else "latin"
    district = bindparam("district_code", district_code, type_=String)
    term = bindparam("term", query if khmer else query.lower(), type_=String)
    name_column = Member.full_name_km if khmer else Member.full_name_latin
    names = (
        select(MemberName.name, func.similarity(MemberName.name, term).label("similarity"))
        .where(
            MemberName.district_code == district,
            MemberName.script == script,
            MemberName.name.op("%")(term),
        )
        .cte("names")
        .prefix_with("MATERIALIZED")
    )
    per_name = (
        select(Member.id)
        .where(
            Member.district_code == district,
            name_column == names.c.name,
            jurisdiction_filter(principal, Member.village_code),
        )
        .order_by(Member.id)
        .limit(bindparam("limit", limit, type_=Integer))
    )
    if birth_year is not None:
        per_name = per_name.where(
            Member.birth_date >= bindparam("born_from", date(birth_year, 1, 1), type_=Date),
            Member.birth_date <= bindparam("born_to", date(birth_year, 12, 31), type_=Date),
        )
    hits = per_name.lateral("hits")
    best = (
        select(hits.c.id.label("member_id"), names.c.similarity)
        .select_from(names)
        .join(hits, true())
        .order_by(names.c.similarity.desc(), hits.c.id)
        .limit(bindparam("limit", limit, type_=Integer))
        .cte("best")
    )
    member = Member.__table__
    found = (
        select(
            best.c.member_id,
            *[member.c[name] for name in SEARCH_HIT_COLUMNS],
            Household.code.label("household_code"),
            best.c.similarity,
        )
        .select_from(best)
        .join(member, member.c.id == best.c.member_id)
        .join(Household, Household.id == member.c.household_id)
        .cte("found")
    )
    statement = select(found).order_by(found.c.similarity.desc(), found.c.member_id)
    if logged:
        statement = statement.add_cte(
            access_log_insert(
                found,
                entity="member",
                entity_id=found.c.member_id,
                household_id=found.c.household_id,
            )
        )
    return statement


@functools.cache
def member_search_compiled(
    shape: JurisdictionShape, khmer: bool, by_birth_year: bool, logged: bool
) -> CompiledStatement:
    return CompiledStatement(
        member_search_statement(
            stand_in(shape),
            district_code="0000",
            query="",
            khmer=khmer,
            birth_year=2000 if by_birth_year else None,
            limit=SEARCH_LIMIT_MAX,
            logged=logged,
        )
    )


async def search_members(
    connection: asyncpg.Connection,
    principal: Principal,
    *,
    district_code: str,
    query: str,
    khmer: bool,
    birth_year: int | None,
    limit: int,
    similarity_threshold: float,
    log: ReadLog | None,
) -> list[asyncpg.Record]:
    statement = member_search_compiled(
        jurisdiction_shape(principal), khmer, birth_year is not None, log is not None
    )
    params: dict[str, Any] = {
        "district_code": district_code,
        "term": query if khmer else query.lower(),
        "limit": min(limit, SEARCH_LIMIT_MAX),
        **jurisdiction_parameters(principal),
        **access_log_parameters(log),
    }
    if birth_year is not None:
        params["born_from"] = date(birth_year, 1, 1)
        params["born_to"] = date(birth_year, 12, 31)
    async with connection.transaction():
        # Only for this transaction: the `%` operator (and its index scan) reads it.
        await connection.execute(
            "SELECT set_config('pg_trgm.similarity_threshold', $1, true)",
            str(similarity_threshold),
        )
        return await statement.fetch(connection, **params)


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
