"""The verification query's SQL: one statement, precompiled, every step served by indexes.

1. The household(s): by code (unique index), by national ID (partial index on member), or by
   a member's normalised names + birth date (composite indexes on the generated full names).
2. Their enrolments with, per enrolment, the latest benefit and the latest paid one: two
   LATERAL probes of (enrolment_id, period_start DESC) indexes, so the cost does not grow
   with the number of benefits recorded.
3. For a person's read, the access rows, in a data-modifying CTE that commits with the read.

It runs on the read pool (`shared.db.compiled`): the round trip and the ORM were most of the
query's cost at the national volume (bench/registry_reads.py).
"""

from __future__ import annotations

import functools
from typing import Any

import asyncpg
from sqlalchemy import (
    Date,
    String,
    Uuid,
    bindparam,
    case,
    func,
    literal,
    select,
    true,
)

from services.registry.benefits.models import BenefitRecord
from services.registry.enrolments.models import Enrolment, EnrolmentStatus
from services.registry.households.models import Household, Member, MemberStatus
from services.registry.households.repository import (
    ReadLog,
    access_log_insert,
    access_log_parameters,
)
from services.registry.programmes.models import Programme
from services.registry.verification.schemas import VerificationQuery
from shared.db.compiled import CompiledStatement
from shared.jurisdiction import JurisdictionShape, jurisdiction_filter, stand_in

MAX_MATCHES = 20


def _benefit_probe(paid_only: bool):
    probe = select(
        BenefitRecord.period,
        BenefitRecord.delivered_on,
        BenefitRecord.amount_khr,
        BenefitRecord.in_kind_item,
        BenefitRecord.channel,
        BenefitRecord.status,
    ).where(BenefitRecord.enrolment_id == Enrolment.id)
    if paid_only:
        probe = probe.where(BenefitRecord.status == "paid")
    return probe.order_by(BenefitRecord.period_start.desc()).limit(1).lateral()


@functools.cache
def verification_statement(by: str, shape: JurisdictionShape, logged: bool) -> CompiledStatement:
    """The households matching the query, their programme states and (with `logged`) the
    access rows of a person's read, in one statement compiled once per way of asking and
    jurisdiction shape.

    `matches` holds the households found (`h_*`) with the member named (`m_*`, null for a
    household code); each match is then left-joined to its programme states (every enrolment
    but rejected proposals, household ones and those of the member named), with the two
    LATERAL benefit probes. Rows come ordered by match, then programme."""
    household, member = Household.__table__, Member.__table__
    columns = [c.label(f"h_{c.name}") for c in household.c if c.name in HOUSEHOLD_COLUMNS]
    if by == "household_code":
        found = select(*columns, literal(None, Uuid).label("m_id")).where(
            household.c.code == bindparam("household_code", type_=String)
        )
    else:
        condition = {
            "national_id": member.c.national_id == bindparam("national_id", type_=String),
            "latin_name": (member.c.full_name_latin == bindparam("full_name", type_=String))
            & (member.c.birth_date == bindparam("birth_date", type_=Date)),
            "khmer_name": (member.c.full_name_km == bindparam("full_name", type_=String))
            & (member.c.birth_date == bindparam("birth_date", type_=Date)),
        }[by]
        found = (
            select(
                *columns, *[c.label(f"m_{c.name}") for c in member.c if c.name in MEMBER_COLUMNS]
            )
            .select_from(household.join(member, member.c.household_id == household.c.id))
            .where(condition, member.c.status != MemberStatus.REMOVED.value)
        )
    found = found.where(jurisdiction_filter(stand_in(shape), household.c.village_code))
    matches = (
        found.order_by(household.c.code, *([] if by == "household_code" else [member.c.id]))
        .limit(MAX_MATCHES)
        .cte("matches")
    )
    enrolment, programme = Enrolment.__table__, Programme.__table__
    last, paid = _benefit_probe(paid_only=False), _benefit_probe(paid_only=True)
    states = (
        select(
            enrolment.c.id.label("enrolment_id"),
            enrolment.c.household_id,
            enrolment.c.member_id,
            enrolment.c.programme_code,
            enrolment.c.status,
            enrolment.c.enrolled_on,
            enrolment.c.exited_on,
            enrolment.c.created_at,
            programme.c.name_en,
            programme.c.name_km,
            programme.c.target,
            *[c.label(f"last_{c.name}") for c in last.c],
            *[c.label(f"paid_{c.name}") for c in paid.c],
        )
        .join(programme, programme.c.code == enrolment.c.programme_code)
        .outerjoin(last, true())
        .outerjoin(paid, true())
        .where(
            enrolment.c.household_id == matches.c.h_id,
            enrolment.c.status != EnrolmentStatus.REJECTED.value,
            (matches.c.m_id.is_(None))
            | enrolment.c.member_id.is_(None)
            | (enrolment.c.member_id == matches.c.m_id),
        )
        .lateral("states")
    )
    statement = (
        select(matches, states)
        .select_from(matches.outerjoin(states, true()))
        .order_by(matches.c.h_code, matches.c.m_id, states.c.programme_code, states.c.created_at)
    )
    if logged:
        statement = statement.add_cte(
            access_log_insert(
                matches,
                entity=case((matches.c.m_id.is_(None), "household"), else_="member"),
                entity_id=func.coalesce(matches.c.m_id, matches.c.h_id),
                household_id=matches.c.h_id,
            )
        )
    return CompiledStatement(statement)


HOUSEHOLD_COLUMNS = (
    "id", "code", "village_code", "status", "poverty_level", "poverty_valid_until",
    "equity_card_number",
)  # fmt: skip
MEMBER_COLUMNS = (
    "id", "relationship", "sex", "birth_date", "status", "family_name_km", "given_name_km",
    "family_name_latin", "given_name_latin",
)  # fmt: skip


async def verify_rows(
    connection: asyncpg.Connection,
    *,
    query: VerificationQuery,
    shape: JurisdictionShape,
    parameters: dict[str, Any],
    log: ReadLog | None,
) -> list[asyncpg.Record]:
    statement = verification_statement(query.by, shape, log is not None)
    return await statement.fetch(
        connection,
        household_code=query.household_code,
        national_id=query.national_id,
        full_name=query.full_name,
        birth_date=query.birth_date,
        **parameters,
        **access_log_parameters(log),
    )
