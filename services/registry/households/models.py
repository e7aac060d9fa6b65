"""Households, their members and their IDPoor poverty status (the audit trail of every
change is services.registry.audit).

A household lives in a village (8-digit NCDD code); the village code is the location every
jurisdiction check uses, so members carry a copy of it (kept equal by the service) and can be
filtered and searched without a join.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field

from services.registry.database import RegistryModel
from shared import clock
from shared.db.versioning import Versioned


class HouseholdStatus(enum.StrEnum):
    PENDING_VERIFICATION = "pending_verification"
    RETURNED = "returned"  # sent back to the commune by the district, with reasons
    ACTIVE = "active"
    MOVED = "moved"  # left the registry's area of record (kept for history)
    DISSOLVED = "dissolved"


class PovertyLevel(enum.StrEnum):
    POOR_1 = "POOR_1"
    POOR_2 = "POOR_2"
    NOT_POOR = "NOT_POOR"
    UNASSESSED = "UNASSESSED"


class AssessmentMethod(enum.StrEnum):
    ROUND = "ROUND"
    ON_DEMAND = "ON_DEMAND"


class VulnerabilityCategory(enum.StrEnum):
    """The on-demand IDPoor vulnerability categories."""

    DISABILITY = "disability"
    ELDERLY = "elderly"
    UNDER_18 = "under_18"
    UNDER_2 = "under_2"
    FEMALE_HEADED = "female_headed"


class Sex(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"


class Relationship(enum.StrEnum):
    HEAD = "head"
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    GRANDCHILD = "grandchild"
    SIBLING = "sibling"
    OTHER_RELATIVE = "other_relative"
    NON_RELATIVE = "non_relative"


class DisabilitySeverity(enum.StrEnum):
    SEVERE = "severe"
    MEDIUM = "medium"
    MILD = "mild"


class SchoolEnrolment(enum.StrEnum):
    NOT_ENROLLED = "not_enrolled"
    PRE_SCHOOL = "pre_school"
    PRIMARY = "primary"
    LOWER_SECONDARY = "lower_secondary"
    UPPER_SECONDARY = "upper_secondary"
    TERTIARY = "tertiary"


class MemberStatus(enum.StrEnum):
    ACTIVE = "active"
    DECEASED = "deceased"
    MOVED_OUT = "moved_out"
    REMOVED = "removed"  # recorded in error


def _check(column: str, enum_type: type[enum.StrEnum], name: str) -> sa.CheckConstraint:
    values = ", ".join(f"'{v.value}'" for v in enum_type)
    return sa.CheckConstraint(f"{column} IN ({values})", name=name)


class Household(RegistryModel, Versioned, table=True):
    __tablename__ = "household"
    __table_args__ = (
        _check("status", HouseholdStatus, "status"),
        _check("poverty_level", PovertyLevel, "poverty_level"),
        sa.CheckConstraint(
            "poverty_method IS NULL OR poverty_method IN ('ROUND', 'ON_DEMAND')",
            name="poverty_method",
        ),
        sa.CheckConstraint("village_code ~ '^[0-9]{8}$'", name="village_code"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(unique=True, max_length=11)
    village_code: str = Field(max_length=8)
    address: str = Field(default="", max_length=500)
    head_member_id: uuid.UUID | None = Field(default=None)
    status: str = Field(default=HouseholdStatus.PENDING_VERIFICATION)
    returned_reasons: list[str] = Field(
        default_factory=list, sa_column=Column(pg.ARRAY(sa.Text), nullable=False, default=list)
    )
    verified_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    verified_by: str | None = None

    # The current IDPoor status; every change is also kept in poverty_status_history.
    poverty_level: str = Field(default=PovertyLevel.UNASSESSED)
    poverty_score: int | None = None
    poverty_method: str | None = None
    poverty_round: int | None = None
    poverty_assessed_on: date | None = None
    poverty_valid_until: date | None = None
    equity_card_number: str | None = Field(default=None, max_length=40)
    vulnerability_categories: list[str] = Field(
        default_factory=list, sa_column=Column(pg.ARRAY(sa.Text), nullable=False, default=list)
    )

    # What a bulk import keyed this household by (file's household id + village): importing
    # the same file again finds it instead of creating it twice.
    source_ref: str | None = Field(default=None, unique=True, max_length=200)

    created_at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
    created_by: str = ""
    updated_at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
    updated_by: str = ""


class Member(RegistryModel, Versioned, table=True):
    __tablename__ = "member"
    __table_args__ = (
        _check("sex", Sex, "sex"),
        _check("relationship", Relationship, "relationship"),
        _check("status", MemberStatus, "status"),
        sa.CheckConstraint(
            "disability_severity IS NULL OR disability_severity IN ('severe', 'medium', 'mild')",
            name="disability_severity",
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    household_id: uuid.UUID = Field(foreign_key="household.id", index=True)
    village_code: str = Field(max_length=8)

    family_name_km: str = Field(max_length=100)
    given_name_km: str = Field(max_length=100)
    family_name_latin: str = Field(max_length=100)
    given_name_latin: str = Field(max_length=100)
    # Generated by PostgreSQL (see the migration): the names as searched and compared.
    full_name_km: str | None = Field(
        default=None,
        sa_column=Column(
            sa.Text, sa.Computed("family_name_km || ' ' || given_name_km", persisted=True)
        ),
    )
    full_name_latin: str | None = Field(
        default=None,
        sa_column=Column(
            sa.Text,
            sa.Computed("lower(family_name_latin || ' ' || given_name_latin)", persisted=True),
        ),
    )
    district_code: str | None = Field(
        default=None,
        sa_column=Column(sa.Text, sa.Computed("left(village_code, 4)", persisted=True)),
    )

    sex: str
    birth_date: date
    birth_date_estimated: bool = False
    relationship: str
    national_id: str | None = Field(default=None, max_length=20)  # sensitive
    phone: str | None = Field(default=None, max_length=20)  # sensitive
    disability_severity: str | None = None
    disability_card_number: str | None = Field(default=None, max_length=40)
    pregnant: bool = False
    pregnancy_expected_on: date | None = None
    school_enrolment: str | None = None
    status: str = Field(default=MemberStatus.ACTIVE)
    status_reason: str | None = None

    created_at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
    created_by: str = ""
    updated_at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
    updated_by: str = ""


class MemberName(RegistryModel, table=True):
    """Each distinct full name of a district, per script: what the fuzzy search matches
    (migration 0011's trigram index), filled by triggers on member (never written here)."""

    __tablename__ = "member_name"

    district_code: str = Field(primary_key=True)
    script: str = Field(primary_key=True)  # km | latin
    name: str = Field(primary_key=True)


class PovertyStatusRecord(RegistryModel, table=True):
    """One entry of a household's IDPoor history (the household row holds the current one)."""

    __tablename__ = "poverty_status_history"

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    household_id: uuid.UUID = Field(foreign_key="household.id", index=True)
    level: str
    score: int | None = None
    method: str | None = None
    round_number: int | None = None
    assessed_on: date | None = None
    valid_until: date | None = None
    equity_card_number: str | None = None
    vulnerability_categories: list[str] = Field(
        default_factory=list, sa_column=Column(pg.ARRAY(sa.Text), nullable=False, default=list)
    )
    recorded_at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))
    recorded_by: str = ""
