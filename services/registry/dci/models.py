"""What the DCI API keeps: each message a machine client sent (and what we answered), the
clients' event subscriptions, and every callback or notification still to be delivered."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field

from services.registry.database import RegistryModel
from shared import clock


class DciTransaction(RegistryModel, table=True):
    """One DCI message from a client: a search (sync or async) or a subscription request.

    Its id is the `correlation_id` we answer with. Sync searches are stored too: they are the
    record of which machine client read which households (persons' reads go to
    personal_data_access instead)."""

    __tablename__ = "dci_transaction"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    client_sub: str
    sender_id: str
    message_id: str
    transaction_id: str
    action: str  # search | subscribe | unsubscribe
    mode: str  # sync | async
    status: str  # rcvd | pdng | succ | rjct
    sender_uri: str | None = None
    request: dict[str, Any] = Field(sa_column=Column(pg.JSONB, nullable=False))
    response: dict[str, Any] | None = Field(default=None, sa_column=Column(pg.JSONB))
    reference_ids: list[str] = Field(
        default_factory=list, sa_column=Column(pg.ARRAY(sa.Text), nullable=False, default=list)
    )
    # The areas the client was limited to when it asked (empty: nationwide).
    area_codes: list[str] = Field(
        default_factory=list, sa_column=Column(pg.ARRAY(sa.Text), nullable=False, default=list)
    )
    received_at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
    completed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    # When the records were dropped from `response` (REGISTRY_DCI_RESULT_RETENTION_DAYS).
    results_purged_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    claimed_until: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class DciSubscription(RegistryModel, table=True):
    __tablename__ = "dci_subscription"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(unique=True)
    client_sub: str
    sender_id: str
    notify_uri: str
    reference_id: str
    transaction_id: str
    reg_event_type: str
    filter_type: str | None = None
    filter: Any = Field(default=None, sa_column=Column(pg.JSONB))
    notify_record_type: str
    frequency: dict[str, Any] | None = Field(default=None, sa_column=Column(pg.JSONB))
    area_codes: list[str] = Field(
        default_factory=list, sa_column=Column(pg.ARRAY(sa.Text), nullable=False, default=list)
    )
    status: str = "subscribe"  # subscribe | unsubscribe
    created_at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
    unsubscribed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class DciDelivery(RegistryModel, table=True):
    """A message we owe a client's endpoint (on-search / on-subscribe / txn-on-status
    callback, or notify), retried with backoff until it is accepted or we give up."""

    __tablename__ = "dci_delivery"

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    kind: str
    transaction_id: uuid.UUID | None = Field(default=None, foreign_key="dci_transaction.id")
    subscription_id: uuid.UUID | None = Field(default=None, foreign_key="dci_subscription.id")
    event_id: str | None = None
    url: str
    payload: dict[str, Any] = Field(sa_column=Column(pg.JSONB, nullable=False))
    status: str = "pending"  # pending | delivered | failed
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
    # Notifications of a subscription with a frequency, due at one fire time, share a key and
    # are sent as one message (one notify_event each).
    batch_key: str | None = None
    last_error: str | None = None
    last_status_code: int | None = None
    created_at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
    delivered_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
