"""Queries of duplicate detection and review."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Select, or_, select, text
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.duplicates.models import DuplicateCandidate
from services.registry.enrolments.models import LIVE_STATUSES, Enrolment
from services.registry.households.models import Household, Member
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal

# Khmer names of one person written twice differ by a vowel sign or a spelling: trigram
# similarity of the full Khmer name at or above this, in the same district and birth year
# +-1, makes two members suspects. Lower floods reviewers with namesakes.
KHMER_SIMILARITY_THRESHOLD = 0.6
KHMER_MATCHES_PER_MEMBER = 5

# Set-based: every active member of the given households against the whole registry, one
# statement, each branch served by an index: national_id, phone and (full_name_latin,
# birth_date) of migration 0002, (district_code, sex, birth_date) of migration 0006.
_MATCHES = text(
    """
    WITH new AS (
        SELECT m.id, m.household_id, m.village_code, m.national_id, m.phone,
               m.full_name_latin, m.full_name_km, m.birth_date, m.district_code, m.sex
        FROM member m
        WHERE m.household_id = ANY(:household_ids) AND m.status = 'active'
    ),
    matched AS (
        SELECT n.household_id, o.household_id AS other_household_id, n.id AS member_id,
               o.id AS other_member_id, 'national_id' AS reason, NULL::real AS score
        FROM new n JOIN member o ON o.national_id = n.national_id
        WHERE n.national_id IS NOT NULL AND o.household_id <> n.household_id
          AND o.status = 'active'
        UNION ALL
        SELECT n.household_id, o.household_id, n.id, o.id, 'phone', NULL
        FROM new n JOIN member o ON o.phone = n.phone
        WHERE n.phone IS NOT NULL AND o.household_id <> n.household_id AND o.status = 'active'
        UNION ALL
        SELECT n.household_id, o.household_id, n.id, o.id, 'latin_name_birth_commune', NULL
        FROM new n JOIN member o
          ON o.full_name_latin = n.full_name_latin AND o.birth_date = n.birth_date
        WHERE left(o.village_code, 6) = left(n.village_code, 6)
          AND o.household_id <> n.household_id AND o.status = 'active'
        UNION ALL
        SELECT n.household_id, o.household_id, n.id, o.id, 'khmer_name_similarity', o.score
        FROM new n CROSS JOIN LATERAL (
            -- The people of the same district, sex and birth year +-1 (a btree range of
            -- migration 0006, a few thousand rows even in a large district), compared by
            -- trigram similarity; only the few most similar are kept, so common names do not
            -- turn one registration into hundreds of candidates.
            SELECT o.id, o.household_id, similarity(o.full_name_km, n.full_name_km) AS score
            FROM member o
            WHERE o.district_code = n.district_code AND o.sex = n.sex
              AND o.birth_date >= make_date(extract(year FROM n.birth_date)::int - 1, 1, 1)
              AND o.birth_date < make_date(extract(year FROM n.birth_date)::int + 2, 1, 1)
              AND o.status = 'active' AND o.household_id <> n.household_id
              AND CAST(:khmer_similarity AS boolean)
              AND similarity(o.full_name_km, n.full_name_km) >= :threshold
            ORDER BY score DESC, o.id
            LIMIT :per_member
        ) o
    )
    SELECT x.household_id, x.other_household_id, x.member_id, x.other_member_id, x.reason,
           x.score, h.village_code, oh.village_code AS other_village_code,
           h.created_at, oh.created_at AS other_created_at
    FROM matched x
    JOIN household h ON h.id = x.household_id
    JOIN household oh ON oh.id = x.other_household_id
    WHERE h.status <> 'dissolved' AND oh.status <> 'dissolved'
    ORDER BY x.household_id, x.other_household_id, x.reason, x.member_id
    """
)


async def find_matches(
    session: AsyncSession,
    *,
    household_ids: Sequence[uuid.UUID],
    threshold: float,
    khmer_similarity: bool,
) -> list[dict[str, Any]]:
    rows = await session.execute(
        _MATCHES,
        {
            "household_ids": list(household_ids),
            "threshold": threshold,
            "khmer_similarity": khmer_similarity,
            "per_member": KHMER_MATCHES_PER_MEMBER,
        },
    )
    return [dict(r._mapping) for r in rows]


async def add_candidates(
    session: AsyncSession, candidates: Sequence[dict[str, Any]]
) -> list[DuplicateCandidate]:
    """Insert new candidates; a pair already known (in any state) is left as it is."""
    if not candidates:
        return []
    table = DuplicateCandidate.__table__
    ids = []
    for start in range(0, len(candidates), 1000):  # under the protocol's parameter limit
        inserted = await session.execute(
            insert(table)
            .values(list(candidates[start : start + 1000]))
            .on_conflict_do_nothing()
            .returning(table.c.id)
        )
        ids.extend(row[0] for row in inserted)
    if not ids:
        return []
    result = await session.scalars(
        select(DuplicateCandidate)
        .where(DuplicateCandidate.id == sa.any_(sa.literal(ids, type_=pg.ARRAY(sa.Uuid))))
        .order_by(DuplicateCandidate.flagged_at, DuplicateCandidate.id)
    )
    return list(result.all())


def visible(principal: Principal) -> Any:
    """A candidate is visible to those whose area holds either of its households."""
    return or_(
        jurisdiction_filter(principal, DuplicateCandidate.village_code),
        jurisdiction_filter(principal, DuplicateCandidate.other_village_code),
    )


def worklist(
    principal: Principal,
    *,
    status: str | None,
    reason: str | None,
    household_id: uuid.UUID | None = None,
) -> Select:
    statement = select(DuplicateCandidate).where(visible(principal))
    if status is not None:
        statement = statement.where(DuplicateCandidate.status == status)
    if reason is not None:
        statement = statement.where(DuplicateCandidate.__table__.c.reasons.any_() == reason)
    if household_id is not None:
        statement = statement.where(
            or_(
                DuplicateCandidate.household_id == household_id,
                DuplicateCandidate.other_household_id == household_id,
            )
        )
    return statement


async def visible_candidate(
    session: AsyncSession, principal: Principal, candidate_id: uuid.UUID
) -> DuplicateCandidate | None:
    return await session.scalar(
        select(DuplicateCandidate).where(DuplicateCandidate.id == candidate_id, visible(principal))
    )


async def candidate_for_update(
    session: AsyncSession, candidate_id: uuid.UUID
) -> DuplicateCandidate | None:
    return await session.scalar(
        select(DuplicateCandidate)
        .where(DuplicateCandidate.id == candidate_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def households(
    session: AsyncSession, household_ids: Sequence[uuid.UUID], *, lock: bool = False
) -> dict[uuid.UUID, Household]:
    statement = select(Household).where(Household.id.in_(list(household_ids)))
    if lock:
        statement = statement.order_by(Household.id).with_for_update()
    result = await session.scalars(statement.execution_options(populate_existing=True))
    return {h.id: h for h in result.all()}


async def members(session: AsyncSession, household_ids: Sequence[uuid.UUID]) -> list[Member]:
    result = await session.scalars(
        select(Member)
        .where(Member.household_id.in_(list(household_ids)))
        .order_by(Member.household_id, Member.birth_date, Member.id)
        .execution_options(populate_existing=True)
    )
    return list(result.all())


async def enrolments_of(session: AsyncSession, household_id: uuid.UUID) -> list[Enrolment]:
    result = await session.scalars(
        select(Enrolment)
        .where(Enrolment.household_id == household_id)
        .order_by(Enrolment.created_at, Enrolment.id)
        .with_for_update()
    )
    return list(result.all())


async def live_enrolment_keys(
    session: AsyncSession, household_id: uuid.UUID
) -> set[tuple[str, uuid.UUID | None]]:
    rows = await session.execute(
        select(Enrolment.programme_code, Enrolment.member_id).where(
            Enrolment.household_id == household_id,
            Enrolment.status.in_([s.value for s in LIVE_STATUSES]),
        )
    )
    return {(code, member_id) for code, member_id in rows}
