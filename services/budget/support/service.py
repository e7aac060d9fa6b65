"""Support requests: a commune (or district) asks its parent or grandparent; only the
addressed unit reviews, decides and fulfils. States: submitted -> under_review -> approved /
partly_approved / rejected -> fulfilled (approved or partly approved only)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.budget.support.models import SupportRequest
from shared import clock
from shared.events.catalog.budget import (
    SupportRequestDecided,
    SupportRequestFulfilled,
    SupportRequestReviewStarted,
    SupportRequestSubmitted,
)
from shared.outbox import emit
from shared.principal import Principal
from shared.problems import INVALID_TRANSITION, Problem, field_error
from shared.tiers import CODE_LENGTH, PARENT_TIER, Tier

DECIDED = ("approved", "partly_approved", "rejected")


def addressed_unit(requesting_code: str, requesting_tier: Tier, addressed: Tier) -> str:
    """The code of the parent or grandparent tier addressed; 422 for any other tier."""
    parent = PARENT_TIER[requesting_tier]
    grandparent = PARENT_TIER[parent] if parent is not None else None
    if addressed not in (parent, grandparent) or addressed is None:
        allowed = " or ".join(t.value for t in (parent, grandparent) if t is not None)
        raise Problem.invalid(
            "addressed_tier", f"a {requesting_tier.value} unit asks its {allowed or 'nobody'}"
        )
    return requesting_code[: CODE_LENGTH[addressed]]


def _base(row: SupportRequest) -> dict:
    return {
        "support_request_id": row.id,
        "requesting_admin_code": row.requesting_admin_code,
        "addressed_tier": row.addressed_tier,
        "addressed_admin_code": row.addressed_admin_code,
        "request_type": row.request_type,
        "isaf_action_id": row.isaf_action_id,
    }


async def submit(
    session: AsyncSession,
    *,
    requesting_tier: Tier,
    requesting_admin_code: str,
    addressed_tier: Tier,
    request_type: str,
    description: str,
    amount_riel: int,
    submitted_by: str,
    isaf_action_id: uuid.UUID | None = None,
    submitted_at: datetime | None = None,
) -> SupportRequest:
    if requesting_tier is Tier.NATIONAL:
        raise Problem.forbidden("The national tier has no parent to ask for support.")
    addressed_code = addressed_unit(requesting_admin_code, requesting_tier, addressed_tier)
    now = submitted_at or clock.now()
    row = SupportRequest(
        fiscal_year=clock.today().year, requesting_tier=requesting_tier.value,
        requesting_admin_code=requesting_admin_code, addressed_tier=addressed_tier.value,
        addressed_admin_code=addressed_code, request_type=request_type,
        description=description, amount_riel=amount_riel, status="submitted",
        isaf_action_id=isaf_action_id, submitted_by=submitted_by, submitted_at=now,
    )  # fmt: skip
    session.add(row)
    await session.flush()
    await emit(
        session,
        SupportRequestSubmitted(**_base(row), requested_amount_riel=amount_riel, submitted_at=now),
        subject=row.id,
        jurisdiction=row.requesting_admin_code,
    )
    return row


def require_addressed(principal: Principal, row: SupportRequest) -> None:
    tier = principal.tier.value if principal.tier else None
    if tier != row.addressed_tier or principal.admin_code != row.addressed_admin_code:
        raise Problem(
            403,
            f"This request is addressed to {row.addressed_tier} {row.addressed_admin_code or ''}"
            "; only that unit decides it.".replace(" ;", ";"),
            errors=[field_error(["addressed_admin_code"], "addressed to another unit")],
        )


def _require_status(row: SupportRequest, *allowed: str, action: str) -> None:
    if row.status not in allowed:
        raise Problem.conflict(
            f"The request is {row.status}; it cannot be {action} now.", slug=INVALID_TRANSITION
        )


async def review(session: AsyncSession, *, principal: Principal, row: SupportRequest) -> None:
    require_addressed(principal, row)
    _require_status(row, "submitted", action="taken under review")
    row.status, row.reviewed_at = "under_review", clock.now()
    await session.flush()
    await emit(
        session,
        SupportRequestReviewStarted(**_base(row), reviewed_at=row.reviewed_at),
        subject=row.id,
        jurisdiction=row.requesting_admin_code,
    )


async def decide(
    session: AsyncSession,
    *,
    principal: Principal,
    row: SupportRequest,
    decision: str,
    approved_amount_riel: int | None,
    reason: str,
) -> None:
    require_addressed(principal, row)
    _require_status(row, "submitted", "under_review", action="decided")
    if decision == "approved":
        approved = row.amount_riel if approved_amount_riel is None else approved_amount_riel
        if approved != row.amount_riel:
            raise Problem.invalid(
                "approved_amount_riel", "an approval grants the amount asked; say partly_approved"
            )
    elif decision == "partly_approved":
        if approved_amount_riel is None or not 0 < approved_amount_riel < row.amount_riel:
            raise Problem.invalid(
                "approved_amount_riel",
                f"a partial approval grants more than 0 and less than the {row.amount_riel} "
                "riel asked",
            )
        approved = approved_amount_riel
    else:
        if not reason.strip():
            raise Problem.invalid("reason", "a rejection says why")
        approved = 0
    now = clock.now()
    row.status, row.approved_amount_riel, row.reason = decision, approved, reason
    row.decided_by, row.decided_at = principal.sub, now
    await session.flush()
    await emit(
        session,
        SupportRequestDecided(
            **_base(row), decision=decision, requested_amount_riel=row.amount_riel,
            approved_amount_riel=approved, reason=reason, decided_at=now,
        ),
        subject=row.id,
        jurisdiction=row.requesting_admin_code,
    )  # fmt: skip


async def fulfil(session: AsyncSession, *, principal: Principal, row: SupportRequest) -> None:
    require_addressed(principal, row)
    _require_status(row, "approved", "partly_approved", action="fulfilled")
    row.status, row.fulfilled_at = "fulfilled", clock.now()
    await session.flush()
    await emit(
        session,
        SupportRequestFulfilled(
            **_base(row), approved_amount_riel=row.approved_amount_riel or 0,
            fulfilled_at=row.fulfilled_at,
        ),
        subject=row.id,
        jurisdiction=row.requesting_admin_code,
    )  # fmt: skip
