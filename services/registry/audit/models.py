"""The registry's audit tables: the history of every change to a registry record, and every
read of personal data by a person. Registry-wide (households, members, enrolments, benefits,
cases, change requests, duplicates all write to them), so they sit below every aggregate."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field

from services.registry.database import RegistryModel
from shared import clock
from shared.personal_data import PersonalDataAccessColumns


class RecordChange(RegistryModel, table=True):
    """Who changed what and when, for every registry record (readable per record)."""

    __tablename__ = "record_change"

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    entity: str = Field(max_length=40)  # household, member, enrolment, benefit, case, ...
    entity_id: uuid.UUID = Field(index=True)
    household_id: uuid.UUID | None = Field(default=None, index=True)
    village_code: str | None = Field(default=None, max_length=8)
    action: str = Field(max_length=60)
    changes: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(pg.JSONB, nullable=False, default=dict)
    )
    actor_sub: str = ""
    actor_name: str = ""
    actor_tier: str | None = None
    actor_admin_code: str = ""
    request_id: str | None = None
    at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))


class PersonalDataAccess(PersonalDataAccessColumns, RegistryModel, table=True):
    """Every read of a personal record by a person (architecture: audit-logged reads); the
    platform's one column set (shared/personal_data.py)."""

    __tablename__ = "personal_data_access"
