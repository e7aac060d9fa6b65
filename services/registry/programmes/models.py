"""Social protection programmes: who owns them, whom they target, their eligibility rules and
the benefit they pay. Seed programmes are loaded by migration 0003; the national tier edits
them through the API."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field

from services.registry.database import RegistryModel
from shared import clock
from shared.db.versioning import Versioned


class ProgrammeTarget(enum.StrEnum):
    HOUSEHOLD = "household"
    INDIVIDUAL = "individual"


class BenefitPeriod(enum.StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
    ONE_OFF = "one_off"


class Programme(RegistryModel, Versioned, table=True):
    __tablename__ = "programme"
    __table_args__ = (
        sa.CheckConstraint("target IN ('household', 'individual')", name="target"),
        sa.CheckConstraint(
            "benefit_period IN ('monthly', 'quarterly', 'yearly', 'one_off')",
            name="benefit_period",
        ),
        sa.CheckConstraint(
            "(benefit_amount_khr IS NULL) <> (benefit_in_kind_item IS NULL)", name="benefit_kind"
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(unique=True, max_length=40)
    name_km: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    description_en: str = Field(default="", max_length=2000)
    owner_ministry: str = Field(max_length=200)
    target: str
    eligibility: dict[str, Any] = Field(sa_column=Column(pg.JSONB, nullable=False))
    benefit_amount_khr: int | None = Field(default=None, sa_type=sa.BigInteger)
    benefit_in_kind_item: str | None = Field(default=None, max_length=200)
    benefit_period: str
    active: bool = True

    created_at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
    created_by: str = ""
    updated_at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
    updated_by: str = ""
