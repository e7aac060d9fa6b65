"""A question or issue raised at a public forum (an activity of type public_forum)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field

from services.isaf.database import IsafModel
from shared.db.versioning import Versioned


class ForumItem(IsafModel, Versioned, table=True):
    __tablename__ = "forum_item"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    activity_id: uuid.UUID = Field(
        sa_column=Column(pg.UUID(as_uuid=True), sa.ForeignKey("activity.id"), nullable=False)
    )
    cycle_id: uuid.UUID = Field(sa_column=Column(pg.UUID(as_uuid=True), nullable=False))
    location_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    # Where the issue is (village or commune inside the cycle's area); the cycle's by default.
    place_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    kind: str = Field(sa_column=Column(sa.Text, nullable=False))
    text: str = Field(sa_column=Column(sa.Text, nullable=False))
    answer: str | None = Field(default=None, sa_column=Column(sa.Text))
    answered_by: str | None = Field(default=None, sa_column=Column(sa.Text))
    category: str | None = Field(default=None, sa_column=Column(sa.Text))
    sent_to_grievance_at: datetime | None = Field(
        default=None, sa_column=Column(sa.DateTime(timezone=True))
    )
    grievance_tracking_code: str | None = Field(default=None, sa_column=Column(sa.Text))
    grievance_logged_at: datetime | None = Field(
        default=None, sa_column=Column(sa.DateTime(timezone=True))
    )
    raised_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    recorded_by: str = Field(sa_column=Column(sa.Text, nullable=False))
