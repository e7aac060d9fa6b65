"""The household read model: where each registry household lives, from registry events.

Only what routing needs: the village (hence commune) and the household's state. The
registry stays the owner; this copy follows its events and is never edited here.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field

from services.grievance.database import GrievanceModel


class HouseholdLocation(GrievanceModel, table=True):
    __tablename__ = "household_location"

    household_id: uuid.UUID = Field(sa_column=Column(pg.UUID(as_uuid=True), primary_key=True))
    household_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    village_code: str = Field(sa_column=Column(sa.Text, nullable=False))
    status: str = Field(sa_column=Column(sa.Text, nullable=False))
    record_version: int = Field(sa_column=Column(sa.Integer, nullable=False))
    updated_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))


class HouseholdMember(GrievanceModel, table=True):
    """Which household each registry member belongs to, so a grievance about a member can be
    checked to name a member of its household (and of no household elsewhere)."""

    __tablename__ = "household_member"

    member_id: uuid.UUID = Field(sa_column=Column(pg.UUID(as_uuid=True), primary_key=True))
    household_id: uuid.UUID = Field(sa_column=Column(pg.UUID(as_uuid=True), nullable=False))
    status: str = Field(sa_column=Column(sa.Text, nullable=False))  # active or removed
    record_version: int = Field(sa_column=Column(sa.Integer, nullable=False))
    updated_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
