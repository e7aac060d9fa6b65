"""The DCI social-registry API's rules: who may use it, how searches are answered, how async
work, subscriptions and notifications proceed.

Access: only machine clients holding the scope `registry.dci.search` (the gateway checks the
scope, and this module again). A client sees the whole country unless it also holds one or
more `registry.dci.area.<admin code>` scopes, which limit every search and notification to
those areas. Only active (verified) households are searched; a national ID leaves only on the
member whose NIN the client searched by, and phone numbers never do.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.dci import envelope as dci
from services.registry.dci import records
from services.registry.dci import repository as repo
from services.registry.dci.criteria import (
    Criteria,
    CriteriaError,
    parse_expression,
    parse_predicates,
    parse_search_criteria,
)
from services.registry.dci.models import DciDelivery, DciSubscription, DciTransaction
from services.registry.dci.schedule import FrequencyError, NotifySchedule
from shared import clock
from shared.principal import Principal
from shared.problems import Problem
from shared.tiers import Tier, tier_for_code

SCOPE = "registry.dci.search"
AREA_SCOPE_PREFIX = "registry.dci.area."

# What subscribers may subscribe to, and which registry events each stands for.
EVENT_TYPES = ("REGISTER", "UPDATE", "NewHouseHoldMember", "DEATH", "MOVE", "DISSOLVE")


# -- access ----------------------------------------------------------------------------------


def require_client(principal: Principal) -> list[str]:
    """The client's area codes ([] = nationwide); 403 for anyone but a client with the scope."""
    if not principal.client or not principal.has_scope(SCOPE):
        raise Problem.forbidden(
            f"The DCI API serves machine clients holding the scope {SCOPE} only."
        )
    codes = sorted(
        s.removeprefix(AREA_SCOPE_PREFIX)
        for s in principal.scopes
        if s.startswith(AREA_SCOPE_PREFIX)
    )
    for code in codes:
        if not code.isdigit() or tier_for_code(code) in (None, Tier.NATIONAL):
            raise Problem.forbidden(
                f"The client's area scope {AREA_SCOPE_PREFIX}{code} is not valid."
            )
    return codes


def area_principals(codes: list[str]) -> list[Principal]:
    """Stand-ins for the client's area, so that repositories filter through the one
    jurisdiction helper like everywhere else."""
    if not codes:
        return [Principal(sub="dci-area", tier=Tier.NATIONAL)]
    return [Principal(sub="dci-area", tier=tier_for_code(c), admin_code=c) for c in codes]


# -- search ----------------------------------------------------------------------------------


def _item_reference(item: Any) -> Any:
    return item.get("reference_id") if isinstance(item, dict) else None


def _rejected(item: Any, code: str, message: str) -> dict[str, Any]:
    reference = _item_reference(item)
    return {
        "reference_id": reference if isinstance(reference, str) else "",
        "timestamp": dci.now_iso(),
        "status": "rjct",
        "status_reason_code": code,
        "status_reason_message": message[:999],
    }


async def _answer_search_item(
    session: AsyncSession, item: Any, *, area: list[Principal], seen: set[str], today: date
) -> dict[str, Any]:
    if not isinstance(item, dict):
        return _rejected(item, "rjct.search_criteria.invalid", "each request must be an object")
    reference = item.get("reference_id")
    if not isinstance(reference, str) or not reference.strip() or len(reference) > 99:
        return _rejected(item, "rjct.reference_id.invalid", "reference_id must be 1 to 99 chars")
    if reference in seen:
        return _rejected(item, "rjct.reference_id.duplicate", "reference_id repeats in message")
    seen.add(reference)
    if dci.parse_timestamp(item.get("timestamp")) is None:
        return _rejected(
            item, "rjct.timestamp.invalid", "timestamp must be an ISO 8601 date-time with timezone"
        )
    try:
        criteria = parse_search_criteria(item.get("search_criteria"))
        total, found = await repo.search(session, criteria=criteria, area=area)
    except CriteriaError as error:
        return _rejected(item, error.code, error.message)
    if total > repo.MAX_MATCHES:
        return _rejected(
            item,
            "rjct.search.too_many_records_found",
            f"more than {repo.MAX_MATCHES} records match; narrow the query",
        )
    reg_records = await _records(session, criteria, found, today=today)
    return {
        "reference_id": reference,
        "timestamp": dci.now_iso(),
        "status": "succ",
        "data": {
            "version": dci.VERSION,
            "reg_type": records.REG_TYPE,
            "reg_record_type": criteria.entity,
            "reg_records": reg_records,
        },
        "pagination": {
            "page_size": criteria.page_size,
            "page_number": criteria.page_number,
            "total_count": total,
        },
        "locale": "eng",
    }


async def _records(
    session: AsyncSession, criteria: Criteria, found: list, *, today: date
) -> list[dict[str, Any]]:
    if criteria.entity == "Member":
        return [
            records.member_record(m, h, national_id=criteria.by_national_id, today=today)
            for m, h in found
        ]
    members = await repo.members_of(session, [h.id for h in found])
    return [
        records.group_record(h, members[h.id], national_id=criteria.by_national_id, today=today)
        for h in found
    ]


async def _answer_search(
    session: AsyncSession, message: dict[str, Any], *, area_codes: list[str], correlation_id: str
) -> dict[str, Any]:
    area = area_principals(area_codes)
    seen: set[str] = set()
    today = clock.today()
    responses = [
        await _answer_search_item(session, item, area=area, seen=seen, today=today)
        for item in message["search_request"]
    ]
    return {
        "transaction_id": message["transaction_id"],
        "correlation_id": correlation_id,
        "search_response": responses,
    }


def _rejected_message(
    message: dict[str, Any], items: list[Any], rejected: dci.HeaderRejected
) -> dict[str, Any]:
    """The SearchResponse of a message rejected as a whole: a correlation id of its own (the
    standard requires one) and each request answered `rjct` with the reason."""
    return {
        "transaction_id": str(message.get("transaction_id", "")),
        "correlation_id": str(uuid.uuid4()),
        "search_response": [
            {
                "reference_id": str(_item_reference(item) or ""),
                "timestamp": dci.now_iso(),
                "status": "rjct",
                "status_reason_message": f"{rejected.code}: {rejected.message}"[:999],
            }
            for item in items
        ],
    }


async def _claim_message(
    session: AsyncSession,
    *,
    principal: Principal,
    header: dict[str, Any],
    message: dict[str, Any],
    action: str,
    mode: str,
    status: str,
    area_codes: list[str],
    references: list[str],
    sender_uri: str | None,
    body: dict[str, Any],
) -> DciTransaction:
    transaction = DciTransaction(
        id=uuid.uuid4(),
        client_sub=principal.sub,
        sender_id=header["sender_id"],
        message_id=header["message_id"],
        transaction_id=message["transaction_id"],
        action=action,
        mode=mode,
        status=status,
        sender_uri=sender_uri,
        request=body,
        reference_ids=references,
        area_codes=area_codes,
    )
    if not await repo.add_transaction(session, transaction):
        raise dci.HeaderRejected(
            "rjct.message_id.duplicate", "this message_id was already received from you"
        )
    return await repo.get_transaction(session, transaction.id)


def _references(items: list[Any]) -> list[str]:
    return [r for r in (_item_reference(i) for i in items) if isinstance(r, str) and r]


async def sync_search(session: AsyncSession, *, principal: Principal, body: Any) -> dict[str, Any]:
    """POST /registry/sync/search: the search response envelope (action on-search)."""
    area_codes = require_client(principal)
    header, message = dci.read(body, list_field="search_request")
    items = message["search_request"]
    try:
        dci.check_header(header, action="search", item_count=len(items))
        transaction = await _claim_message(
            session,
            principal=principal,
            header=header,
            message=message,
            action="search",
            mode="sync",
            status="pdng",
            area_codes=area_codes,
            references=_references(items),
            sender_uri=None,
            body=body,
        )
    except dci.HeaderRejected as rejected:
        return dci.envelope(
            dci.callback_header(
                header,
                action="on-search",
                status="rjct",
                total_count=len(items),
                completed_count=0,
                reason_code=rejected.code,
                reason_message=rejected.message,
            ),
            _rejected_message(message, items, rejected),
        )
    answer = await _answer_search(
        session, message, area_codes=area_codes, correlation_id=str(transaction.id)
    )
    response = dci.envelope(
        dci.callback_header(
            header,
            action="on-search",
            status="succ",
            total_count=len(items),
            completed_count=len(items),
        ),
        answer,
    )
    transaction.status = "succ"
    transaction.response = response
    transaction.completed_at = clock.now()
    await session.flush()
    return response


# -- async search ----------------------------------------------------------------------------


async def accept_async_search(
    session: AsyncSession, *, principal: Principal, body: Any, callbacks: dci.CallbackAllowList
) -> tuple[dict[str, Any], uuid.UUID | None]:
    """POST /registry/search: an acknowledgement; the answer goes to `sender_uri` later."""
    area_codes = require_client(principal)
    header, message = dci.read(body, list_field="search_request")
    items = message["search_request"]
    try:
        dci.check_header(header, action="search", item_count=len(items))
        sender_uri = dci.check_callback_uri(header.get("sender_uri"), callbacks)
        transaction = await _claim_message(
            session,
            principal=principal,
            header=header,
            message=message,
            action="search",
            mode="async",
            status="pdng",
            area_codes=area_codes,
            references=_references(items),
            sender_uri=sender_uri,
            body=body,
        )
    except dci.HeaderRejected as rejected:
        return dci.nack_error(rejected), None
    return dci.ack(str(transaction.id)), transaction.id


async def run_async_search(session: AsyncSession, *, transaction_id: uuid.UUID) -> None:
    """Answer a pending async search and queue its on-search callback (the delivery worker
    calls this with a claimed transaction)."""
    transaction = await repo.get_transaction(session, transaction_id)
    if transaction.status != "pdng":
        return
    body = transaction.request
    header, message = body["header"], body["message"]
    items = message["search_request"]
    answer = await _answer_search(
        session, message, area_codes=transaction.area_codes, correlation_id=str(transaction.id)
    )
    response = dci.envelope(
        dci.callback_header(
            header,
            action="on-search",
            status="succ",
            total_count=len(items),
            completed_count=len(items),
        ),
        answer,
    )
    transaction.status = "succ"
    transaction.response = response
    transaction.completed_at = clock.now()
    transaction.claimed_until = None
    await repo.add_delivery(
        session,
        DciDelivery(
            kind="on-search",
            transaction_id=transaction.id,
            url=transaction.sender_uri,
            payload=response,
        ),
    )
    await session.flush()


# -- transaction status --------------------------------------------------------------------


# What a status request may ask about (the core registry API's names, and the social registry
# API's spelling `subscibe`), and the `txn_type` the answer names: the social registry API
# allows `search`, `subscibe`/`subscribe` and `receipt`, so a subscription's and an
# unsubscription's status are both `subscribe` (their `txn_status` tells them apart).
_TXN_TYPES = {
    "search": "search",
    "subscribe": "subscribe",
    "subscibe": "subscribe",
    "unsubscribe": "subscribe",
}
_TXN_ACTIONS = {"subscibe": "subscribe"}


def _pending_status(transaction: DciTransaction) -> dict[str, Any]:
    return {
        "transaction_id": transaction.transaction_id,
        "correlation_id": str(transaction.id),
        "search_response": [
            {"reference_id": r, "timestamp": dci.now_iso(), "status": "pdng"}
            for r in transaction.reference_ids
        ],
    }


def _status_not_found(
    message: dict[str, Any], request: dict[str, Any], *, code: str, reason: str
) -> dict[str, Any]:
    """A TxnStatusResponse for a status request that finds nothing (or is rejected): the
    standard's shape all the same, with a correlation id of its own and the request's
    reference answered `rjct`."""
    correlation_id = str(uuid.uuid4())
    txn_type = request.get("txn_type")
    return {
        "transaction_id": str(message.get("transaction_id", "")),
        "correlation_id": correlation_id,
        "txnstatus_response": {
            "txn_type": _TXN_TYPES.get(txn_type, "search")
            if isinstance(txn_type, str)
            else "search",
            "txn_status": {
                "transaction_id": str(message.get("transaction_id", "")),
                "correlation_id": correlation_id,
                "search_response": [
                    {
                        "reference_id": str(request.get("reference_id") or ""),
                        "timestamp": dci.now_iso(),
                        "status": "rjct",
                        "status_reason_code": code,
                        "status_reason_message": reason[:999],
                    }
                ],
            },
        },
    }


def _status_request(message: dict[str, Any]) -> dict[str, Any]:
    request = message.get("txnstatus_request")
    if not isinstance(request, dict):
        raise Problem.invalid("message.txnstatus_request", "required: an object")
    if request.get("txn_type") not in _TXN_TYPES:
        raise Problem.invalid(
            "message.txnstatus_request.txn_type", "search, subscribe or unsubscribe"
        )
    return request


async def _transaction_status(
    session: AsyncSession, *, principal: Principal, header: dict[str, Any], message: dict[str, Any]
) -> dict[str, Any]:
    request = _status_request(message)
    txn_type = request["txn_type"]
    attribute_type = request.get("attribute_type")
    value = request.get("attribute_value")
    lookup: dict[str, Any] = {
        "client_sub": principal.sub,
        "action": _TXN_ACTIONS.get(txn_type, txn_type),
    }
    if attribute_type == "transaction_id" and isinstance(value, str):
        lookup["transaction_id"] = value
    elif attribute_type == "correlation_id" and isinstance(value, str):
        try:
            lookup["correlation_id"] = uuid.UUID(value)
        except ValueError:
            lookup["correlation_id"] = uuid.UUID(int=0)
    elif attribute_type == "reference_id_list" and isinstance(value, list) and value:
        lookup["reference_ids"] = [str(v) for v in value]
    else:
        raise Problem.invalid(
            "message.txnstatus_request.attribute_value",
            "transaction_id or correlation_id (a string), or reference_id_list (a list)",
        )
    found = await repo.find_transactions(session, **lookup)
    header_out = dci.callback_header(
        header, action="txn-on-status", status="succ", total_count=1, completed_count=1
    )
    if not found:
        header_out.update(status="rjct", status_reason_message="no transaction of yours matches")
        return dci.envelope(
            header_out,
            _status_not_found(
                message,
                request,
                code="rjct.reference_id.invalid",
                reason="no transaction of yours matches",
            ),
        )
    transaction = found[-1]
    if transaction.response is not None:
        status = transaction.response["message"]
    else:
        status = _pending_status(transaction)
    return dci.envelope(
        header_out,
        {
            "transaction_id": message["transaction_id"],
            "correlation_id": str(transaction.id),
            "txnstatus_response": {"txn_type": _TXN_TYPES[txn_type], "txn_status": status},
        },
    )


async def sync_transaction_status(
    session: AsyncSession, *, principal: Principal, body: Any
) -> dict[str, Any]:
    """POST /registry/sync/txn/status."""
    require_client(principal)
    header, message = dci.read(body, list_field=None)
    request = _status_request(message)
    try:
        dci.check_header(header, action="txn-status", item_count=None)
    except dci.HeaderRejected as rejected:
        return dci.envelope(
            dci.callback_header(
                header,
                action="txn-on-status",
                status="rjct",
                total_count=1,
                completed_count=0,
                reason_code=rejected.code,
                reason_message=rejected.message,
            ),
            _status_not_found(
                message, request, code="rjct.reference_id.invalid", reason=rejected.message
            ),
        )
    return await _transaction_status(session, principal=principal, header=header, message=message)


async def async_transaction_status(
    session: AsyncSession, *, principal: Principal, body: Any, callbacks: dci.CallbackAllowList
) -> dict[str, Any]:
    """POST /registry/txn/status: acknowledged; the answer goes to sender_uri (txn-on-status)."""
    require_client(principal)
    header, message = dci.read(body, list_field=None)
    try:
        dci.check_header(header, action="txn-status", item_count=None)
        sender_uri = dci.check_callback_uri(header.get("sender_uri"), callbacks)
    except dci.HeaderRejected as rejected:
        return dci.nack_error(rejected)
    answer = await _transaction_status(session, principal=principal, header=header, message=message)
    await repo.add_delivery(
        session, DciDelivery(kind="txn-on-status", url=sender_uri, payload=answer)
    )
    # The answer's correlation id: the transaction found, or the status request's own.
    return dci.ack(answer["message"]["correlation_id"])


# -- subscriptions ---------------------------------------------------------------------------


def _event_type(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    name = raw.strip().split(":")[-1]
    for known in EVENT_TYPES:
        if name.lower() == known.lower():
            return known
    return None


def subscription_info(subscription: DciSubscription) -> dict[str, Any]:
    return {
        "version": dci.VERSION,
        "code": subscription.code,
        "status": subscription.status,
        "timestamp": records.iso(subscription.created_at),
        "reg_type": records.REG_TYPE,
        "reg_event_type": subscription.reg_event_type,
        "frequency": subscription.frequency,
        "filter_type": subscription.filter_type,
        "filter": subscription.filter,
        "notify_record_type": subscription.notify_record_type,
        "notify_uri": subscription.notify_uri,
    }


def _filter_criteria(filter_type: str | None, raw: Any, record_type: str) -> Criteria:
    criteria = Criteria(entity=record_type)
    if raw in (None, {}, []):
        return criteria
    if filter_type == "predicate" or (filter_type is None and isinstance(raw, list)):
        criteria.query = parse_predicates(raw)
    elif filter_type in ("expression", None):
        criteria.query, _ = parse_expression(raw)
    else:
        raise CriteriaError(
            "rjct.notify_details.invalid", "filter_type must be expression or predicate"
        )
    return criteria


async def _subscribe_item(
    session: AsyncSession,
    item: Any,
    *,
    principal: Principal,
    header: dict[str, Any],
    message: dict[str, Any],
    notify_uri: str | None,
    area_codes: list[str],
    seen: set[str],
) -> dict[str, Any]:
    if not isinstance(item, dict):
        return _rejected(item, "rjct.notify_details.invalid", "each request must be an object")
    reference = item.get("reference_id")
    if not isinstance(reference, str) or not reference.strip() or len(reference) > 99:
        return _rejected(item, "rjct.reference_id.invalid", "reference_id must be 1 to 99 chars")
    if reference in seen:
        return _rejected(item, "rjct.reference_id.duplicate", "reference_id repeats in message")
    seen.add(reference)
    if dci.parse_timestamp(item.get("timestamp")) is None:
        return _rejected(item, "rjct.timestamp.invalid", "timestamp must be ISO 8601 with zone")
    criteria = item.get("subscribe_criteria")
    if not isinstance(criteria, dict):
        return _rejected(item, "rjct.notify_details.invalid", "subscribe_criteria is required")
    event_type = _event_type(criteria.get("reg_event_type"))
    if event_type is None:
        return _rejected(
            item,
            "rjct.notify_types.invalid",
            f"reg_event_type must be one of {', '.join(EVENT_TYPES)}",
        )
    record_type = criteria.get("notify_record_type") or "Group"
    record_type = {"group": "Group", "household": "Group", "member": "Member"}.get(
        str(record_type).split(":")[-1].lower()
    )
    if record_type is None:
        return _rejected(item, "rjct.notify_details.invalid", "notify_record_type: Group or Member")
    if notify_uri is None:
        return _rejected(
            item, "rjct.notify_details.invalid", "a notify URI (header.sender_uri) is required"
        )
    try:
        _filter_criteria(criteria.get("filter_type"), criteria.get("filter"), record_type)
    except CriteriaError as error:
        return _rejected(item, "rjct.notify_details.invalid", error.message)
    frequency = None
    if criteria.get("frequency") is not None:
        try:
            frequency = NotifySchedule.parse(criteria["frequency"]).as_json()
        except FrequencyError as error:
            return _rejected(item, "rjct.notify_details.invalid", str(error))
    subscription = DciSubscription(
        id=uuid.uuid4(),
        code=f"SUB-{uuid.uuid4().hex[:16].upper()}",
        client_sub=principal.sub,
        sender_id=header["sender_id"],
        notify_uri=notify_uri,
        reference_id=reference,
        transaction_id=message["transaction_id"],
        reg_event_type=event_type,
        filter_type=criteria.get("filter_type"),
        filter=criteria.get("filter") or {},
        notify_record_type=record_type,
        frequency=frequency,
        area_codes=area_codes,
    )
    if await repo.same_active_subscription(session, subscription) is not None:
        return _rejected(item, "rjct.event.already_subscribed", "the same subscription exists")
    session.add(subscription)
    await session.flush()
    return {
        "reference_id": reference,
        "timestamp": dci.now_iso(),
        "status": "succ",
        "subscriptions": [subscription_info(subscription)],
    }


async def subscribe(
    session: AsyncSession, *, principal: Principal, body: Any, callbacks: dci.CallbackAllowList
) -> dict[str, Any]:
    """POST /registry/subscribe: acknowledged; the subscription codes are in the on-subscribe
    callback to sender_uri and in the transaction status. Notifications go to
    `header.meta.notify_uri` when given, else to `header.sender_uri`."""
    area_codes = require_client(principal)
    header, message = dci.read(body, list_field="subscribe_request")
    items = message["subscribe_request"]
    meta = header.get("meta") if isinstance(header.get("meta"), dict) else {}
    try:
        dci.check_header(header, action="subscribe", item_count=len(items))
        callback = dci.check_callback_uri(header.get("sender_uri"), callbacks)
        notify_uri = dci.check_callback_uri(meta.get("notify_uri") or callback, callbacks)
        transaction = await _claim_message(
            session,
            principal=principal,
            header=header,
            message=message,
            action="subscribe",
            mode="async",
            status="pdng",
            area_codes=area_codes,
            references=_references(items),
            sender_uri=callback,
            body=body,
        )
    except dci.HeaderRejected as rejected:
        return dci.nack_error(rejected)
    seen: set[str] = set()
    answers = [
        await _subscribe_item(
            session,
            item,
            principal=principal,
            header=header,
            message=message,
            notify_uri=notify_uri,
            area_codes=area_codes,
            seen=seen,
        )
        for item in items
    ]
    response = dci.envelope(
        dci.callback_header(
            header,
            action="on-subscribe",
            status="succ",
            total_count=len(items),
            completed_count=len(items),
        ),
        {
            "transaction_id": message["transaction_id"],
            "correlation_id": str(transaction.id),
            "subscribe_response": answers,
        },
    )
    transaction.status = "succ"
    transaction.response = response
    transaction.completed_at = clock.now()
    await repo.add_delivery(
        session,
        DciDelivery(
            kind="on-subscribe", transaction_id=transaction.id, url=callback, payload=response
        ),
    )
    await session.flush()
    return dci.ack(str(transaction.id))


async def unsubscribe(
    session: AsyncSession, *, principal: Principal, body: Any, callbacks: dci.CallbackAllowList
) -> dict[str, Any]:
    """POST /registry/unsubscribe: acknowledged; the outcome per code goes to sender_uri
    (on-unsubscribe) when given and is in the transaction status."""
    require_client(principal)
    header, message = dci.read(body, list_field=None)
    codes = message.get("subscription_codes")
    if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
        raise Problem.invalid("message.subscription_codes", "required: a list of codes")
    if not isinstance(message.get("transaction_id"), str):
        raise Problem.invalid("message.transaction_id", "required: a string")
    callback = None
    try:
        dci.check_header(header, action="unsubscribe", item_count=None)
        if header.get("sender_uri"):
            callback = dci.check_callback_uri(header["sender_uri"], callbacks)
        transaction = await _claim_message(
            session,
            principal=principal,
            header=header,
            message=message,
            action="unsubscribe",
            mode="async",
            status="pdng",
            area_codes=[],
            references=[],
            sender_uri=callback,
            body=body,
        )
    except dci.HeaderRejected as rejected:
        return dci.nack_error(rejected)
    found = {
        s.code: s
        for s in await repo.subscriptions_by_code(session, client_sub=principal.sub, codes=codes)
    }
    statuses, reason = [], None
    for code in codes:
        subscription = found.get(code)
        if subscription is None:
            reason = reason or "rjct.subscription_code.invalid"
            continue
        if subscription.status == "unsubscribe":
            reason = reason or "rjct.event.already_unsubscribed"
        subscription.status = "unsubscribe"
        subscription.unsubscribed_at = subscription.unsubscribed_at or clock.now()
        statuses.append({"code": code, "status": "unsubscribe"})
    result: dict[str, Any] = {
        "transaction_id": message["transaction_id"],
        "correlation_id": str(transaction.id),
        "timestamp": dci.now_iso(),
        "status": "rjct" if reason and not statuses else "succ",
        "subscription_status": statuses,
    }
    if reason:
        result["status_reason_code"] = reason
    response = dci.envelope(
        dci.callback_header(
            header, action="on-unsubscribe", status="succ", total_count=1, completed_count=1
        ),
        result,
    )
    transaction.status = "succ"
    transaction.response = response
    transaction.completed_at = clock.now()
    if callback:
        await repo.add_delivery(
            session,
            DciDelivery(
                kind="on-unsubscribe", transaction_id=transaction.id, url=callback, payload=response
            ),
        )
    await session.flush()
    return dci.ack(str(transaction.id))


# -- notifications ---------------------------------------------------------------------------


async def notify_subscribers(
    session: AsyncSession,
    *,
    reg_event_type: str,
    household_id: uuid.UUID,
    member_id: uuid.UUID | None,
    event_id: str,
    occurred_at: datetime,
) -> int:
    """Queue a notify message for every active subscription this registry event matches
    (its type, the client's area, its filter and, when it has a frequency, its window).
    Returns how many were queued. With a frequency the message waits for the schedule's next
    fire time and is sent there together with the others due then (the delivery worker joins
    those of one `batch_key`)."""
    subscriptions = await repo.active_subscriptions(session, reg_event_types=[reg_event_type])
    if not subscriptions:
        return 0
    household = await repo.household_by_id(session, household_id)
    if household is None:
        return 0
    today = clock.today()
    statuses = ("pending_verification", "returned", "active", "moved", "dissolved")
    queued = 0
    for subscription in subscriptions:
        schedule = None
        if subscription.frequency is not None:
            schedule = NotifySchedule.parse(subscription.frequency)  # checked when subscribing
            if not schedule.covers(occurred_at):
                continue
        try:
            criteria = _filter_criteria(
                subscription.filter_type, subscription.filter, subscription.notify_record_type
            )
        except CriteriaError:
            continue  # checked at subscription; a filter that no longer reads matches nothing
        criteria.entity = "Group"
        total, _ = await repo.search(
            session,
            criteria=criteria,
            area=area_principals(subscription.area_codes),
            household_statuses=statuses,
            household_id=household_id,
        )
        if not total:
            continue
        members = (await repo.members_of(session, [household_id]))[household_id]
        if subscription.notify_record_type == "Member":
            chosen = [m for m in members if member_id is None or m.id == member_id]
            reg_records = [
                records.member_record(m, household, national_id=None, today=today) for m in chosen
            ]
        else:
            reg_records = [records.group_record(household, members, national_id=None, today=today)]
        payload = dci.envelope(
            dci.callback_header(
                {"sender_id": subscription.sender_id},
                action="notify",
                status="succ",
                total_count=1,
                completed_count=1,
                meta={"subscription_code": subscription.code, "event_id": event_id},
            ),
            {
                "transaction_id": subscription.transaction_id,
                # What a notify correlates with: the subscription it answers (its code).
                "correlation_id": subscription.code,
                "notify_event": [
                    {
                        "reference_id": subscription.reference_id,
                        "timestamp": records.iso(occurred_at),
                        "data": {
                            "version": dci.VERSION,
                            "reg_type": records.REG_TYPE,
                            "reg_event_type": reg_event_type,
                            "reg_record_type": subscription.notify_record_type,
                            "reg_records": reg_records,
                        },
                        "locale": "eng",
                    }
                ],
            },
        )
        delivery = DciDelivery(
            kind="notify",
            subscription_id=subscription.id,
            event_id=event_id,
            url=subscription.notify_uri,
            payload=payload,
        )
        if schedule is not None:
            delivery.next_attempt_at = schedule.send_at(occurred_at)
            delivery.batch_key = f"{subscription.id}@{delivery.next_attempt_at.isoformat()}"
        if await repo.add_delivery(session, delivery):
            queued += 1
    return queued
