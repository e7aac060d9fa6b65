"""The registry's audit trail (its tables in .models): who changed which record, how, and
when; and who read whose personal data. Every service function that changes a registry
record calls `record_change` in the same session as the change, so history can never
disagree with the data."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.audit.models import PersonalDataAccess, RecordChange
from shared.context import request_id_var
from shared.personal_data import access_record
from shared.principal import Principal


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """`{field: {"from": old, "to": new}}` for the fields that differ."""
    return {
        key: {"from": before.get(key), "to": value}
        for key, value in after.items()
        if before.get(key) != value
    }


def record_change(
    session: AsyncSession,
    *,
    principal: Principal,
    entity: str,
    entity_id: uuid.UUID,
    action: str,
    changes: dict[str, Any] | None = None,
    household_id: uuid.UUID | None = None,
    village_code: str | None = None,
) -> RecordChange:
    """Add a history entry to the session (values must be JSON-serialisable)."""
    entry = RecordChange(
        entity=entity,
        entity_id=entity_id,
        household_id=household_id,
        village_code=village_code,
        action=action,
        changes=changes or {},
        actor_sub=principal.sub,
        actor_name=principal.name,
        actor_tier=principal.tier.value if principal.tier else None,
        actor_admin_code=principal.admin_code,
        request_id=request_id_var.get(),
    )
    session.add(entry)
    return entry


def record_access(
    session: AsyncSession,
    *,
    principal: Principal,
    entity: str,
    entity_id: uuid.UUID,
    household_id: uuid.UUID | None,
    sensitive_fields: bool,
    purpose: str,
) -> None:
    """Log a person's read of a personal record (machine clients are logged by the gateway
    and by their own DCI transaction records)."""
    session.add(
        access_record(
            PersonalDataAccess,
            principal=principal,
            entity=entity,
            entity_id=entity_id,
            household_id=household_id,
            sensitive_fields=sensitive_fields,
            purpose=purpose,
        )
    )
