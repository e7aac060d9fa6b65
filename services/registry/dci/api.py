"""The DCI social-registry API over HTTP (paths as the standard names them, under /dci).

Through the gateway: `/registry/dci/registry/sync/search` and so on, for machine clients
holding the scope `registry.dci.search`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, FastAPI, Query, Request

from services.registry.dci import repository as repo
from services.registry.dci import service
from services.registry.dci.delivery import DeliveryWorker
from services.registry.dci.envelope import CallbackAllowList
from services.registry.dci.models import DciSubscription
from services.registry.dci.schemas import DciAck, DciResponse, SubscriptionInfo
from services.registry.dci.transport import DciRoute, SignedEnvelope
from shared.db.session import SessionDep
from shared.http import dci
from shared.http.pagination import Page, PageDep, paginate
from shared.principal import Principal, PrincipalDep


@contextlib.asynccontextmanager
async def delivery_worker(app: FastAPI) -> AsyncIterator[None]:
    worker = DeliveryWorker(app.state.database, clock=app.state.clock)
    app.state.dci_worker = worker
    worker.start()
    try:
        yield
    finally:
        await worker.stop()


router = APIRouter(
    prefix="/dci/registry",
    tags=["DCI social registry"],
    lifespan=delivery_worker,
    route_class=DciRoute,
)

# Every error of a DCI route reads as the standard's HttpErrorResponse (transport.DciRoute).
_ERRORS = dci.error_responses(400, 401, 403, 422)


def _wake(request: Request) -> None:
    worker = getattr(request.app.state, "dci_worker", None)
    if worker is not None:
        worker.wake.set()


def _callbacks(request: Request, principal: Principal) -> CallbackAllowList:
    """Where this client may be called back (REGISTRY_DCI_CALLBACK_URLS)."""
    return request.app.state.settings.dci_callbacks_for(principal)


@router.post(
    "/sync/search",
    summary="DCI sync search",
    description=(
        "Search the social registry (DCI `POST /registry/sync/search`): `idtype-value` by "
        "`HOUSEHOLD_ID` (household code), `NIN` (national ID) or `MEMBER_ID`; `expression` "
        "(`{$and: [{poverty_level: {$eq: POOR_1}}]}`) or `predicate` lists on poverty_level, "
        "poverty_score, location_code, group_size, vulnerability_category, age, sex, "
        "birth_date, is_disabled, pregnant and more. Answers the `on-search` envelope: "
        "`search_response[]` with status `succ`/`rjct` and the standard's reason codes, "
        "`reg_records` as social-registry Group (or Member) records. Only active households; "
        "a NIN appears only on the member found by it; phones never."
    ),
    response_model=DciResponse,
    response_model_exclude_none=True,
    responses=_ERRORS,
)
async def dci_sync_search(
    body: SignedEnvelope, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    return await service.sync_search(session, principal=principal, body=body.model_dump())


@router.post(
    "/search",
    summary="DCI async search",
    description=(
        "DCI `POST /registry/search`: acknowledged at once (`ack_status` ACK with the "
        "correlation id, or ERR with the standard's error code); the `on-search` answer is "
        "POSTed to `header.sender_uri` with retries and backoff. The URL must be under a "
        "callback prefix registered for the client (REGISTRY_DCI_CALLBACK_URLS), else "
        "`err.sender_uri.invalid`."
    ),
    response_model=DciAck,
    response_model_exclude_none=True,
    responses=_ERRORS,
)
async def dci_async_search(
    body: SignedEnvelope,
    session: SessionDep,
    principal: PrincipalDep,
    request: Request,
    background: BackgroundTasks,
) -> dict[str, Any]:
    acknowledgement, _ = await service.accept_async_search(
        session,
        principal=principal,
        body=body.model_dump(),
        callbacks=_callbacks(request, principal),
    )
    background.add_task(_wake, request)
    return acknowledgement


@router.post(
    "/sync/txn/status",
    summary="DCI transaction status (sync)",
    description=(
        "DCI `POST /registry/sync/txn/status`: the status of one of the caller's own earlier "
        "searches or subscriptions, by transaction_id, correlation_id or reference_id_list; "
        "pending items show `pdng`, completed ones the stored answer."
    ),
    response_model=DciResponse,
    response_model_exclude_none=True,
    responses=_ERRORS,
)
async def dci_sync_txn_status(
    body: SignedEnvelope, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    return await service.sync_transaction_status(
        session, principal=principal, body=body.model_dump()
    )


@router.post(
    "/txn/status",
    summary="DCI transaction status (async)",
    description="DCI `POST /registry/txn/status`: acknowledged; the answer goes to sender_uri.",
    response_model=DciAck,
    response_model_exclude_none=True,
    responses=_ERRORS,
)
async def dci_async_txn_status(
    body: SignedEnvelope,
    session: SessionDep,
    principal: PrincipalDep,
    request: Request,
    background: BackgroundTasks,
) -> dict[str, Any]:
    acknowledgement = await service.async_transaction_status(
        session,
        principal=principal,
        body=body.model_dump(),
        callbacks=_callbacks(request, principal),
    )
    background.add_task(_wake, request)
    return acknowledgement


@router.post(
    "/subscribe",
    summary="DCI subscribe to registry events",
    description=(
        "DCI `POST /registry/subscribe`: `reg_event_type` one of REGISTER (a household "
        "verified), UPDATE, NewHouseHoldMember, DEATH, MOVE, DISSOLVE; an optional "
        "`filter` (expression or predicate, as in search) limits which households notify. "
        "Acknowledged; subscription codes go to `sender_uri` (on-subscribe) and are in the "
        "transaction status. Notify messages go to `header.meta.notify_uri`, else "
        "`header.sender_uri`: one per event at once, or, with a `frequency` (`start_time`, "
        "`end_time` and a Quartz cron expression such as `0 0 0 5,15 * ? *`, in Cambodia "
        "time), held and sent together at the expression's fire times, only for events "
        "between start_time and end_time. A frequency that does not read is "
        "`rjct.notify_details.invalid` naming the field (`frequency.frequency: ...`)."
    ),
    response_model=DciAck,
    response_model_exclude_none=True,
    responses=_ERRORS,
)
async def dci_subscribe(
    body: SignedEnvelope,
    session: SessionDep,
    principal: PrincipalDep,
    request: Request,
    background: BackgroundTasks,
) -> dict[str, Any]:
    acknowledgement = await service.subscribe(
        session,
        principal=principal,
        body=body.model_dump(),
        callbacks=_callbacks(request, principal),
    )
    background.add_task(_wake, request)
    return acknowledgement


@router.post(
    "/unsubscribe",
    summary="DCI unsubscribe",
    description="DCI `POST /registry/unsubscribe` by subscription codes (the caller's own).",
    response_model=DciAck,
    response_model_exclude_none=True,
    responses=_ERRORS,
)
async def dci_unsubscribe(
    body: SignedEnvelope,
    session: SessionDep,
    principal: PrincipalDep,
    request: Request,
    background: BackgroundTasks,
) -> dict[str, Any]:
    acknowledgement = await service.unsubscribe(
        session,
        principal=principal,
        body=body.model_dump(),
        callbacks=_callbacks(request, principal),
    )
    background.add_task(_wake, request)
    return acknowledgement


@router.get(
    "/subscriptions",
    summary="The caller's DCI subscriptions",
    description="Not part of the DCI standard: a plain list of the calling client's subscriptions.",
    response_model=Page[SubscriptionInfo],
    responses=_ERRORS,
)
async def dci_list_subscriptions(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    status: Annotated[Literal["subscribe", "unsubscribe"] | None, Query()] = None,
) -> Page[SubscriptionInfo]:
    service.require_client(principal)
    rows, next_cursor = await paginate(
        session,
        repo.client_subscriptions(principal.sub, status),
        order_by=[DciSubscription.created_at, DciSubscription.id],
        page=page,
    )
    return Page(
        items=[SubscriptionInfo(**service.subscription_info(s)) for s in rows],
        next_cursor=next_cursor,
    )
