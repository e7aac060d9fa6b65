"""Benefit records (provision): what an enrolment received for a period, how, and whether it
arrived. One record per enrolment and period; `period_start` orders them so the last one is
one index probe away (verification asks "when last?")."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field

from services.registry.database import RegistryModel
from shared import clock
from shared.db.versioning import Versioned


class BenefitStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    PAID = "paid"
    FAILED = "failed"
    RETURNED = "returned"


class BenefitChannel(enum.StrEnum):
    CASH_WING = "cash_wing"  # Wing agent cash-out (the main cash channel today)
    MOBILE_MONEY = "mobile_money"  # other e-wallets
    BANK = "bank"
    CASH_IN_HAND = "cash_in_hand"  # paid by commune staff in person
    IN_KIND = "in_kind"


class BenefitRecord(RegistryModel, Versioned, table=True):
    __tablename__ = "benefit_record"
    __table_args__ = (
        sa.UniqueConstraint("enrolment_id", "period", name="enrolment_period"),
        sa.CheckConstraint("status IN ('scheduled', 'paid', 'failed', 'returned')", name="status"),
        sa.CheckConstraint(
            "channel IN ('cash_wing', 'mobile_money', 'bank', 'cash_in_hand', 'in_kind')",
            name="channel",
        ),
        sa.CheckConstraint("(amount_khr IS NULL) <> (in_kind_item IS NULL)", name="benefit_kind"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    enrolment_id: uuid.UUID = Field(foreign_key="enrolment.id")
    period: str = Field(max_length=7)
    period_start: date
    amount_khr: int | None = Field(default=None, sa_type=sa.BigInteger)
    in_kind_item: str | None = Field(default=None, max_length=200)
    channel: str
    delivered_on: date | None = None
    status: str = Field(default=BenefitStatus.SCHEDULED)
    status_reason: str | None = Field(default=None, max_length=500)

    created_at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
    created_by: str = ""
    updated_at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
    updated_by: str = ""
