"""Queries of the DCI API: search criteria compiled to SQL over households and members, and
the rows of transactions, subscriptions and deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, and_, delete, exists, func, not_, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.dci.criteria import Combination, Criteria, CriteriaError, Node, Predicate
from services.registry.dci.models import DciDelivery, DciSubscription, DciTransaction
from services.registry.households.models import Household, Member
from shared import clock
from shared.jurisdiction import jurisdiction_filter
from shared.principal import Principal
from shared.tiers import tier_for_code

H = Household.__table__.c
M = Member.__table__.c

# Searches matching more than this are refused (rjct.search.too_many_records_found): the API
# answers questions about households, it is not a bulk export.
MAX_MATCHES = 10_000


def _group_size() -> ColumnElement:
    # An alias, so that the count is never correlated with the member row being tested.
    others = Member.__table__.alias("group_member")
    return (
        select(func.count())
        .select_from(others)
        .where(others.c.household_id == H.id, others.c.status == "active")
        .correlate(Household.__table__)
        .scalar_subquery()
    )


def _column(attribute: str) -> ColumnElement:
    return {
        "household_id": H.code,
        "poverty_level": H.poverty_level,
        "poverty_score": H.poverty_score,
        "poverty_valid_until": H.poverty_valid_until,
        "group_size": _group_size(),
        "registration_date": sa.cast(H.created_at, sa.Date),
        "birth_date": M.birth_date,
        "birth_year": func.date_part("year", M.birth_date),
        "sex": M.sex,
        "relationship": M.relationship,
        "disability_severity": M.disability_severity,
        "pregnant": M.pregnant,
        "national_id": M.national_id,
        "member_id": sa.cast(M.id, sa.Text),
    }[attribute]


def _compare(column: ColumnElement, operator: str, value: Any) -> ColumnElement[bool]:
    match operator:
        case "eq":
            return column == value
        case "ne":
            return column.is_distinct_from(value)
        case "gt":
            return column > value
        case "lt":
            return column < value
        case "ge":
            return column >= value
        case "le":
            return column <= value
        case "in":
            return column.in_(list(value))
    raise CriteriaError("rjct.filter.invalid", f"operator {operator!r} is not supported")


def _within(code: str) -> ColumnElement[bool]:
    """Households in the area of a gazetteer code: a village by equality, a larger unit
    through the jurisdiction helper (its prefix match uses the village-code index)."""
    tier = tier_for_code(code)
    if tier is None:
        return H.village_code == code
    return jurisdiction_filter(
        Principal(sub="dci-query", tier=tier, admin_code=code), H.village_code
    )


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _age(node: Predicate) -> ColumnElement[bool]:
    """An age condition as a birth-date range (indexable, and exact): age >= n means born
    on or before today n years ago."""
    today = clock.today()

    def at_least(n: int) -> ColumnElement[bool]:
        return M.birth_date <= _years_before(today, n)

    def at_most(n: int) -> ColumnElement[bool]:
        return M.birth_date > _years_before(today, n + 1)

    match node.operator:
        case "ge":
            return at_least(node.value)
        case "gt":
            return at_least(node.value + 1)
        case "le":
            return at_most(node.value)
        case "lt":
            return at_most(node.value - 1)
        case "eq":
            return and_(at_least(node.value), at_most(node.value))
        case "ne":
            return not_(and_(at_least(node.value), at_most(node.value)))
        case "in":
            return or_(*(and_(at_least(v), at_most(v)) for v in node.value))
    raise CriteriaError("rjct.filter.invalid", f"operator {node.operator!r} is not supported")


HOUSEHOLD_ATTRIBUTES = frozenset(
    {
        "household_id",
        "location_code",
        "poverty_level",
        "poverty_score",
        "poverty_valid_until",
        "vulnerability_category",
        "group_size",
        "registration_date",
    }
)


def _household_only(node: Node) -> bool:
    if isinstance(node, Predicate):
        return node.attribute in HOUSEHOLD_ATTRIBUTES
    return all(_household_only(item) for item in node.items)


def split_query(node: Node | None) -> tuple[list[Node], list[Node]]:
    """(conditions on the household alone, conditions needing a member) of a query whose top
    is an AND: the first are applied to the household directly (its indexes), the rest
    inside the member EXISTS. Same meaning, since household columns are equal for every
    member of it."""
    if node is None:
        return [], []
    items = node.items if isinstance(node, Combination) and node.op == "and" else (node,)
    household = [i for i in items if _household_only(i)]
    member = [i for i in items if not _household_only(i)]
    return household, member


def _predicate(node: Predicate) -> ColumnElement[bool]:
    if node.attribute == "age":
        return _age(node)
    if node.attribute == "location_code":
        codes = node.value if node.operator == "in" else (node.value,)
        return or_(*(_within(code) for code in codes))
    if node.attribute == "vulnerability_category":
        values = list(node.value) if node.operator == "in" else [node.value]
        return H.vulnerability_categories.overlap(sa.cast(values, H.vulnerability_categories.type))
    if node.attribute == "is_disabled":
        disabled = M.disability_severity.is_not(None)
        return disabled if (node.value == (node.operator == "eq")) else not_(disabled)
    if node.attribute == "national_id" and node.operator != "eq":
        raise CriteriaError("rjct.filter.invalid", "national IDs can only be matched exactly")
    return _compare(_column(node.attribute), node.operator, node.value)


def compile_query(node: Node | None) -> ColumnElement[bool]:
    if node is None:
        return sa.true()
    if isinstance(node, Predicate):
        return _predicate(node)
    parts = [compile_query(item) for item in node.items]
    if node.op == "and":
        return and_(*parts)
    if node.op == "or":
        return or_(*parts)
    return not_(and_(*parts))


def _area(area: Sequence[Principal]) -> ColumnElement[bool]:
    """The client's area, through the one jurisdiction helper (each principal stands for one
    area code the client is limited to, or the whole country)."""
    return or_(*(jurisdiction_filter(p, H.village_code) for p in area))


_GROUP_SORT = {
    "household_id": H.code,
    "poverty_level": H.poverty_level,
    "poverty_score": H.poverty_score,
    "poverty_valid_until": H.poverty_valid_until,
    "registration_date": H.created_at,
    "group_size": None,  # computed below
}
_MEMBER_SORT = {**_GROUP_SORT, "age": M.birth_date, "birth_date": M.birth_date}


def _order(criteria: Criteria) -> list[ColumnElement]:
    table = _GROUP_SORT if criteria.entity == "Group" else _MEMBER_SORT
    order = []
    for name, direction in criteria.sort:
        if name not in table:
            raise CriteriaError(
                "rjct.sort.invalid", f"{criteria.entity} records cannot be sorted by {name}"
            )
        column = table[name] if table[name] is not None else _group_size()
        if name == "age":  # older first = earlier birth date first
            direction = "desc" if direction == "asc" else "asc"
        order.append(column.desc().nulls_last() if direction == "desc" else column.asc())
    order.append(H.code.asc())
    if criteria.entity == "Member":
        order.append(M.id.asc())
    return order


async def search(
    session: AsyncSession,
    *,
    criteria: Criteria,
    area: Sequence[Principal],
    household_statuses: Sequence[str] = ("active",),
    household_id: uuid.UUID | None = None,
) -> tuple[int, list[Household] | list[tuple[Member, Household]]]:
    """(number of matches up to MAX_MATCHES + 1, the requested page of them)."""
    condition = compile_query(criteria.query)
    base = [H.status.in_(list(household_statuses)), _area(area)]
    if household_id is not None:
        base.append(H.id == household_id)
    if criteria.entity == "Group":
        on_household, on_member = split_query(criteria.query)
        base.extend(compile_query(item) for item in on_household)
        matching_member = exists().where(
            M.household_id == H.id,
            M.status == "active",
            *(compile_query(item) for item in on_member),
        )
        ids = select(H.id).where(*base, matching_member)
        total = await session.scalar(
            select(func.count()).select_from(ids.limit(MAX_MATCHES + 1).subquery())
        )
        if total > MAX_MATCHES:
            return total, []
        statement = (
            select(Household)
            .where(*base, matching_member)
            .order_by(*_order(criteria))
            .offset((criteria.page_number - 1) * criteria.page_size)
            .limit(criteria.page_size)
        )
        return total, list((await session.scalars(statement)).all())
    joined = [M.household_id == H.id, M.status == "active", *base, condition]
    ids = select(M.id).select_from(Member.__table__.join(Household.__table__)).where(*joined)
    total = await session.scalar(
        select(func.count()).select_from(ids.limit(MAX_MATCHES + 1).subquery())
    )
    if total > MAX_MATCHES:
        return total, []
    statement = (
        select(Member, Household)
        .join(Household, Household.id == Member.household_id)
        .where(*joined)
        .order_by(*_order(criteria))
        .offset((criteria.page_number - 1) * criteria.page_size)
        .limit(criteria.page_size)
    )
    return total, [(m, h) for m, h in (await session.execute(statement)).all()]


async def members_of(
    session: AsyncSession, household_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Member]]:
    if not household_ids:
        return {}
    rows = await session.scalars(
        select(Member)
        .where(Member.household_id.in_(list(household_ids)), Member.status != "removed")
        .order_by(Member.household_id, Member.birth_date, Member.id)
    )
    grouped: dict[uuid.UUID, list[Member]] = {h: [] for h in household_ids}
    for member in rows:
        grouped[member.household_id].append(member)
    return grouped


async def household_by_id(session: AsyncSession, household_id: uuid.UUID) -> Household | None:
    return await session.get(Household, household_id)


# -- transactions ----------------------------------------------------------------------------


async def add_transaction(session: AsyncSession, transaction: DciTransaction) -> bool:
    """False when this client already sent a message with this message_id."""
    values = {
        c.key: getattr(transaction, c.key)
        for c in DciTransaction.__table__.columns
        if getattr(transaction, c.key) is not None
    }
    inserted = await session.execute(
        insert(DciTransaction.__table__)
        .values(**values)
        .on_conflict_do_nothing(constraint="uq_dci_transaction_message")
        .returning(DciTransaction.__table__.c.id)
    )
    return inserted.first() is not None


async def get_transaction(session: AsyncSession, transaction_id: uuid.UUID) -> DciTransaction:
    return await session.get_one(DciTransaction, transaction_id, populate_existing=True)


async def find_transactions(
    session: AsyncSession,
    *,
    client_sub: str,
    action: str,
    transaction_id: str | None = None,
    correlation_id: uuid.UUID | None = None,
    reference_ids: Sequence[str] | None = None,
) -> list[DciTransaction]:
    statement = select(DciTransaction).where(
        DciTransaction.client_sub == client_sub, DciTransaction.action == action
    )
    if transaction_id is not None:
        statement = statement.where(DciTransaction.transaction_id == transaction_id)
    if correlation_id is not None:
        statement = statement.where(DciTransaction.id == correlation_id)
    if reference_ids is not None:
        statement = statement.where(
            DciTransaction.__table__.c.reference_ids.overlap(
                sa.cast(list(reference_ids), DciTransaction.__table__.c.reference_ids.type)
            )
        )
    return list(
        (await session.scalars(statement.order_by(DciTransaction.received_at).limit(20))).all()
    )


async def claim_pending_transactions(
    session: AsyncSession, *, now: datetime, lease: timedelta
) -> list[uuid.UUID]:
    """Async searches waiting to be run, claimed for `lease` so one worker runs each."""
    table = DciTransaction.__table__
    waiting = (
        select(table.c.id)
        .where(
            table.c.status == "pdng",
            or_(table.c.claimed_until.is_(None), table.c.claimed_until < now),
        )
        .order_by(table.c.received_at)
        .limit(10)
        .with_for_update(skip_locked=True)
    )
    claimed = await session.execute(
        update(table)
        .where(table.c.id.in_(waiting))
        .values(claimed_until=now + lease)
        .returning(table.c.id)
    )
    return [row[0] for row in claimed]


# -- subscriptions ---------------------------------------------------------------------------


async def active_subscriptions(
    session: AsyncSession, *, reg_event_types: Sequence[str]
) -> list[DciSubscription]:
    return list(
        (
            await session.scalars(
                select(DciSubscription).where(
                    DciSubscription.status == "subscribe",
                    DciSubscription.reg_event_type.in_(list(reg_event_types)),
                )
            )
        ).all()
    )


async def same_active_subscription(
    session: AsyncSession, subscription: DciSubscription
) -> DciSubscription | None:
    return await session.scalar(
        select(DciSubscription).where(
            DciSubscription.client_sub == subscription.client_sub,
            DciSubscription.status == "subscribe",
            DciSubscription.reg_event_type == subscription.reg_event_type,
            DciSubscription.notify_uri == subscription.notify_uri,
            DciSubscription.notify_record_type == subscription.notify_record_type,
            DciSubscription.__table__.c.filter.is_not_distinct_from(
                sa.cast(subscription.filter, DciSubscription.__table__.c.filter.type)
            ),
        )
    )


async def subscriptions_by_code(
    session: AsyncSession, *, client_sub: str, codes: Sequence[str]
) -> list[DciSubscription]:
    return list(
        (
            await session.scalars(
                select(DciSubscription).where(
                    DciSubscription.client_sub == client_sub, DciSubscription.code.in_(list(codes))
                )
            )
        ).all()
    )


def client_subscriptions(client_sub: str, status: str | None) -> sa.Select:
    statement = select(DciSubscription).where(DciSubscription.client_sub == client_sub)
    if status is not None:
        statement = statement.where(DciSubscription.status == status)
    return statement


# -- deliveries ------------------------------------------------------------------------------


async def add_delivery(session: AsyncSession, delivery: DciDelivery) -> bool:
    """False when this event was already queued for this subscription."""
    values = {
        c.key: getattr(delivery, c.key)
        for c in DciDelivery.__table__.columns
        if c.key != "id" and getattr(delivery, c.key) is not None
    }
    inserted = await session.execute(
        insert(DciDelivery.__table__)
        .values(**values)
        .on_conflict_do_nothing(constraint="uq_dci_delivery_event")
        .returning(DciDelivery.__table__.c.id)
    )
    return inserted.first() is not None


async def claim_due_deliveries(
    session: AsyncSession, *, now: datetime, lease: timedelta, limit: int = 100
) -> list[dict[str, Any]]:
    """Deliveries due now, pushed `lease` into the future while this worker sends them; those
    of one batch come together (same due time, then id order)."""
    table = DciDelivery.__table__
    due = (
        select(table.c.id)
        .where(table.c.status == "pending", table.c.next_attempt_at <= now)
        .order_by(table.c.next_attempt_at, table.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = await session.execute(
        update(table)
        .where(table.c.id.in_(due))
        .values(next_attempt_at=now + lease)
        .returning(table.c.id, table.c.url, table.c.payload, table.c.attempts, table.c.batch_key)
    )
    return sorted((dict(row._mapping) for row in rows), key=lambda row: row["id"])


async def record_delivery_attempt(
    session: AsyncSession,
    *,
    delivery_id: int,
    delivered: bool,
    attempts: int,
    status_code: int | None,
    error: str | None,
    next_attempt_at: datetime | None,
    now: datetime,
) -> None:
    table = DciDelivery.__table__
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_status_code": status_code,
        "last_error": error,
    }
    if delivered:
        values.update(status="delivered", delivered_at=now)
    elif next_attempt_at is None:
        values.update(status="failed")
    else:
        values.update(next_attempt_at=next_attempt_at)
    await session.execute(update(table).where(table.c.id == delivery_id).values(**values))


# -- retention -------------------------------------------------------------------------------

RESULTS_PURGED = "results no longer kept (REGISTRY_DCI_RESULT_RETENTION_DAYS)"


async def purge_finished_deliveries(
    session: AsyncSession, *, older_than: datetime, limit: int
) -> int:
    """Delete delivered or failed deliveries queued before `older_than` (their payloads are
    copies of registry records); pending ones stay whatever their age."""
    table = DciDelivery.__table__
    old = (
        select(table.c.id)
        .where(table.c.status != "pending", table.c.created_at < older_than)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = await session.execute(delete(table).where(table.c.id.in_(old)))
    return result.rowcount


_STRIP_RESULTS = sa.text(
    """
    WITH due AS (
        SELECT id FROM dci_transaction
        WHERE action = 'search' AND results_purged_at IS NULL AND completed_at < :older_than
        ORDER BY completed_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE dci_transaction AS t
    SET results_purged_at = now(),
        response = CASE
            WHEN jsonb_typeof(t.response #> '{message,search_response}') = 'array' THEN
                jsonb_set(t.response, '{message,search_response}', (
                    SELECT coalesce(jsonb_agg(
                        CASE WHEN item ? 'data'
                             THEN (item - 'data') || jsonb_build_object(
                                 'status_reason_message', CAST(:reason AS text))
                             ELSE item END
                        ORDER BY n), '[]'::jsonb)
                    FROM jsonb_array_elements(t.response #> '{message,search_response}')
                         WITH ORDINALITY AS e(item, n)))
            ELSE t.response
        END
    FROM due
    WHERE t.id = due.id
    """
)


async def purge_search_results(session: AsyncSession, *, older_than: datetime, limit: int) -> int:
    """Drop the records out of the stored answers of searches completed before `older_than`:
    what was asked, by whom and each answer's status stay (the record of which client read
    what), the records themselves go."""
    result = await session.execute(
        _STRIP_RESULTS, {"older_than": older_than, "limit": limit, "reason": RESULTS_PURGED}
    )
    return result.rowcount
