"""Events the grievance service publishes: the contract its subscribers rely on.

Every transition of a grievance is an event on `sp.grievance.grievance`, keyed by the
grievance id. Payloads carry identifiers, codes, states and public texts only: never the
complainant's name, phone, sex or age, never internal notes, never the tracking code (which
lets its holder reopen the grievance).

The registry consumes `GrievanceResolved`: when `reassessment_requested` is true (an upheld or
partly upheld exclusion-error or data-correction grievance linked to a household) it opens a
reassessment case on the household.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from shared.events.model import DomainEvent, EventCatalog

catalog = EventCatalog("Grievance and feedback")

Decision = Literal["upheld", "partly_upheld", "not_upheld", "referred"]
TierName = Literal["national", "cp", "dmk", "cs"]


class GrievanceEvent(DomainEvent):
    service: ClassVar[str] = "grievance"
    aggregate: ClassVar[str] = "grievance"

    grievance_id: UUID
    category: str = Field(
        description="Category code, e.g. exclusion_error, data_correction, fraud_corruption."
    )
    location_code: str = Field(description="Commune (6 digits) or village (8 digits) code.")
    handling_admin_code: str = Field(
        description="Admin code of the unit handling it now ('' for national)."
    )
    handling_tier: str = Field(description="Tier handling it now: cs, dmk, cp or national.")


@catalog.register
class GrievanceSubmitted(GrievanceEvent):
    name: ClassVar[str] = "submitted"
    summary: ClassVar[str] = (
        "A grievance or feedback was received (by staff, or by a citizen through the public "
        "endpoint) and routed to its first handling unit."
    )
    channel: str
    sensitive: bool = Field(description="Sensitive categories are visible to named roles only.")
    anonymous: bool
    programme_code: str | None = None
    household_id: UUID | None = None
    member_id: UUID | None = None
    submitted_at: datetime


@catalog.register
class GrievanceAcknowledged(GrievanceEvent):
    name: ClassVar[str] = "acknowledged"
    summary: ClassVar[str] = "The handling unit acknowledged the grievance."
    acknowledged_at: datetime


@catalog.register
class GrievanceInProgress(GrievanceEvent):
    name: ClassVar[str] = "in_progress"
    summary: ClassVar[str] = "The handling unit started working on the grievance."
    started_at: datetime


@catalog.register
class GrievanceEscalated(GrievanceEvent):
    name: ClassVar[str] = "escalated"
    summary: ClassVar[str] = (
        "The grievance moved one tier up (CS -> DMK -> CP -> national): automatically when an "
        "SLA was breached, or manually by a handler with a reason."
    )
    automatic: bool
    from_tier: TierName
    from_admin_code: str
    to_tier: TierName
    to_admin_code: str
    reason: str = Field(description="Why: 'sla_breached:acknowledge', or the handler's reason.")
    escalated_at: datetime


@catalog.register
class GrievanceResolved(GrievanceEvent):
    name: ClassVar[str] = "resolved"
    summary: ClassVar[str] = (
        "The handling unit resolved the grievance with a decision. The registry opens a "
        "reassessment case when reassessment_requested is true."
    )
    decision: Decision
    household_id: UUID | None
    member_id: UUID | None
    programme_code: str | None
    resolution_summary: str = Field(description="Public text of the answer; no personal data.")
    resolved_at: datetime
    reassessment_requested: bool = Field(
        description=(
            "True when the decision is upheld or partly_upheld, the category is exclusion_error "
            "or data_correction, and a household is linked."
        )
    )


@catalog.register
class GrievanceHouseholdLinked(GrievanceEvent):
    name: ClassVar[str] = "household_linked"
    summary: ClassVar[str] = (
        "A handler linked the grievance to a registry household (and possibly one of its "
        "members) after intake, or corrected the link; a later upheld exclusion-error or "
        "data-correction decision then asks the registry to reassess that household."
    )
    household_id: UUID
    member_id: UUID | None
    previous_household_id: UUID | None = Field(
        description="The household linked before, when this corrects a link."
    )
    linked_at: datetime


@catalog.register
class GrievanceClosed(GrievanceEvent):
    name: ClassVar[str] = "closed"
    summary: ClassVar[str] = (
        "A resolved grievance was closed (by a handler, or when the reopening period ended)."
    )
    decision: Decision | None
    closed_at: datetime
    automatic: bool


@catalog.register
class GrievanceRejected(GrievanceEvent):
    name: ClassVar[str] = "rejected"
    summary: ClassVar[str] = "The grievance was rejected as out of scope, with a public reason."
    reason: str
    rejected_at: datetime


@catalog.register
class GrievanceReopened(GrievanceEvent):
    name: ClassVar[str] = "reopened"
    summary: ClassVar[str] = (
        "The complainant reopened a resolved grievance with its tracking code, within the "
        "reopening period."
    )
    reopen_count: int
    reopened_at: datetime


@catalog.register
class GrievanceSlaBreached(GrievanceEvent):
    name: ClassVar[str] = "sla_breached"
    summary: ClassVar[str] = (
        "A grievance was not acknowledged or not resolved in time at its tier; an escalation "
        "event follows unless it is already at the national tier."
    )
    deadline: Literal["acknowledge", "resolve"]
    due_at: datetime
    breached_at: datetime


@catalog.register
class GrievanceRated(GrievanceEvent):
    name: ClassVar[str] = "rated"
    summary: ClassVar[str] = "The complainant rated the handling, 1 (very bad) to 5 (very good)."
    rating: int = Field(ge=1, le=5)
    rated_at: datetime


@catalog.register
class GrievanceForumIssueLogged(GrievanceEvent):
    name: ClassVar[str] = "forum_issue_logged"
    summary: ClassVar[str] = (
        "An issue raised at an I-SAF public forum (isaf.forum.issue_raised) was logged as "
        "feedback with channel public_forum. Unlike every other grievance event it carries the "
        "tracking code: the issue was raised in public, has no complainant, and the forum shows "
        "the code so the community can follow the answer."
    )
    forum_issue_id: UUID
    tracking_code: str
    logged_at: datetime
