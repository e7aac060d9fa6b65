"""Who read whose personal data: one record, the same in every service.

The architecture asks that every read of a personal record by a person be audit-logged.
Each service keeps the log in its own database, in a `personal_data_access` table with the
columns below (its migrations create them; its model is `PersonalDataAccessColumns` plus the
service's own base):

    class PersonalDataAccess(PersonalDataAccessColumns, RegistryModel, table=True):
        __tablename__ = "personal_data_access"

A row says who read (`actor_*`, as the principal was at the time), what (`entity`,
`entity_id`, and the household it belongs to where there is one), whether national IDs or
phone numbers were in the answer (`sensitive_fields`), why (`purpose`: the operation) and
when. Rows are only ever added, in the transaction of the read.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from shared import clock
from shared.context import request_id_var
from shared.principal import Principal

TABLE = "personal_data_access"

# The columns a row is written with (the id is generated), in the table's order.
ACCESS_COLUMNS: tuple[str, ...] = (
    "actor_sub",
    "actor_name",
    "actor_tier",
    "actor_admin_code",
    "entity",
    "entity_id",
    "household_id",
    "sensitive_fields",
    "purpose",
    "request_id",
    "at",
)


class PersonalDataAccessColumns(SQLModel):
    """The columns of every service's `personal_data_access` table."""

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    actor_sub: str = Field(sa_type=sa.Text)
    actor_name: str = Field(default="", sa_type=sa.Text)
    actor_tier: str | None = Field(default=None, sa_type=sa.Text)
    actor_admin_code: str = Field(default="", sa_type=sa.Text)
    entity: str = Field(sa_type=sa.Text)  # what was read: household, member, grievance, ...
    entity_id: uuid.UUID
    household_id: uuid.UUID | None = None  # the household the record belongs to, if any
    sensitive_fields: bool = False  # whether national IDs / phone numbers were returned
    purpose: str = Field(default="", sa_type=sa.Text)  # the operation, e.g. get_grievance
    request_id: str | None = Field(default=None, sa_type=sa.Text)
    at: datetime = Field(default_factory=clock.now, sa_type=sa.DateTime(timezone=True))


Row = TypeVar("Row", bound=PersonalDataAccessColumns)


def reader_columns(principal: Principal) -> dict[str, Any]:
    """The `actor_*` columns for `principal`, and the request it reads in."""
    return {
        "actor_sub": principal.sub,
        "actor_name": principal.name,
        "actor_tier": principal.tier.value if principal.tier else None,
        "actor_admin_code": principal.admin_code,
        "request_id": request_id_var.get(),
    }


def access_record(
    model: type[Row],
    *,
    principal: Principal,
    entity: str,
    entity_id: uuid.UUID,
    purpose: str,
    household_id: uuid.UUID | None = None,
    sensitive_fields: bool = False,
    at: datetime | None = None,
) -> Row:
    """One row of the service's `model`: `principal` read `entity` `entity_id` for
    `purpose` (at `at`, by default now by the current clock)."""
    return model(
        **reader_columns(principal),
        entity=entity,
        entity_id=entity_id,
        household_id=household_id,
        sensitive_fields=sensitive_fields,
        purpose=purpose,
        at=at or clock.now(),
    )
