"""Tables every service database has: the outbox, the consumer inbox, idempotency keys.

They are SQLAlchemy Core tables (not SQLModel classes) because the platform reads and writes
them with plain statements, and every service's first migration creates them with
`create_platform_tables()` so the four databases agree on their shape.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from shared.db.engine import new_metadata

metadata = new_metadata()


def _outbox_columns() -> list[sa.Column]:
    return [
        # Commit order is not seq order, but per aggregate it is: writes to one aggregate are
        # serialised by its row lock and version check, so its events get increasing seq.
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("aggregate_type", sa.Text, nullable=False),
        sa.Column("aggregate_id", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("dataschema", sa.Text, nullable=True),
        sa.Column("payload", pg.JSONB, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("jurisdiction", sa.Text, nullable=True),
        sa.Column("traceparent", sa.Text, nullable=True),
    ]


def _inbox_columns() -> list[sa.Column]:
    return [
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("source", sa.Text, primary_key=True),
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column(
            "processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    ]


def _idempotency_key_columns() -> list[sa.Column]:
    return [
        sa.Column("principal", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("headers", pg.JSONB, nullable=True),
        sa.Column("body", sa.LargeBinary, nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    ]


def _event_lineage_columns() -> list[sa.Column]:
    """Revision two of the outbox: what caused each event and the chain it belongs to (the
    CloudEvents `causationid` and `correlationid` extensions); null on rows written before."""
    return [
        sa.Column("causationid", sa.Text, nullable=True),
        sa.Column("correlationid", sa.Text, nullable=True),
    ]


outbox = sa.Table("outbox", metadata, *_outbox_columns(), *_event_lineage_columns())
inbox = sa.Table("inbox", metadata, *_inbox_columns())
idempotency_key = sa.Table("idempotency_key", metadata, *_idempotency_key_columns())

OUTBOX_CHANNEL = "outbox"


def create_platform_tables(op) -> None:
    """Called from each service's first migration.

    The column lists above are the first revision of these tables. A later change to them
    must come as a new function here, called from a new migration in every service, and
    must leave the revision-one columns as they were.
    """
    op.create_table("outbox", *_outbox_columns())
    op.create_index(
        "ix_outbox_unpublished", "outbox", ["seq"], postgresql_where=sa.text("published_at IS NULL")
    )
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"])
    op.create_table("inbox", *_inbox_columns())
    op.create_table("idempotency_key", *_idempotency_key_columns())
    op.create_index("ix_idempotency_key_created_at", "idempotency_key", ["created_at"])


def add_event_lineage_columns(op) -> None:
    """Called from each service's event-lineage migration (after its first one)."""
    for column in _event_lineage_columns():
        op.add_column("outbox", column)


def drop_event_lineage_columns(op) -> None:
    for column in reversed(_event_lineage_columns()):
        op.drop_column("outbox", column.name)


def drop_platform_tables(op) -> None:
    op.drop_table("idempotency_key")
    op.drop_table("inbox")
    op.drop_table("outbox")
