"""Events the I-SAF service publishes: the contract its subscribers rely on.

The cross-service events are fixed here first, because two other services consume them:

- `ForumIssueRaised` (`sp.isaf.forum`): an issue raised at a public forum that the forum sent
  to the grievance service as feedback. The grievance service logs it with channel
  `public_forum` and answers with `grievance.forum_issue_logged`, which carries the tracking
  code back onto the forum issue.
- `JaapActionSupportRequested` (`sp.isaf.jaap`): a JAAP action's budget need raised as a
  support request to the parent (district/khan) or grandparent (province/capital) tier. The
  budget service opens a support request and answers with `budget.support_request.decided`.

Payloads carry codes, identifiers, counts and public texts only: never the name of a
participant or a CAF.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events.model import DomainEvent, EventCatalog

catalog = EventCatalog("Social accountability (I-SAF)")

# The support a lower tier may ask its parent or grandparent for (needs assessment's table).
SupportRequestType = Literal[
    "training_workshop",
    "incentive",
    "budget",
    "dissemination_material",
    "equipment",
    "transport",
    "internet",
    "staff",
]


class IsafEvent(DomainEvent):
    service: ClassVar[str] = "isaf"


@catalog.register
class ForumIssueRaised(IsafEvent):
    aggregate: ClassVar[str] = "forum"
    name: ClassVar[str] = "issue_raised"
    summary: ClassVar[str] = (
        "An issue raised by citizens at a public forum was sent to the grievance service as "
        "feedback; the grievance service logs it with channel public_forum."
    )
    forum_id: UUID
    issue_id: UUID = Field(description="The forum issue; the grievance refers back to it.")
    cycle_id: UUID
    commune_code: str = Field(description="Commune/sangkat (6 digits) whose forum raised it.")
    location_code: str = Field(description="Village (8 digits) or commune (6 digits) code.")
    category: str = Field(description="Grievance category code, e.g. service_quality.")
    text: str = Field(description="The issue as recorded at the forum (public text).")
    raised_on: date
    raised_at: datetime


@catalog.register
class JaapActionSupportRequested(IsafEvent):
    aggregate: ClassVar[str] = "jaap"
    name: ClassVar[str] = "action_support_requested"
    summary: ClassVar[str] = (
        "A JAAP action's budget need was raised as a support request to the commune's parent "
        "or grandparent tier; the budget service opens the request."
    )
    jaap_id: UUID
    action_id: UUID
    cycle_id: UUID
    requesting_admin_code: str = Field(description="The commune/sangkat (6 digits) asking.")
    addressed_tier: Literal["dmk", "cp"]
    addressed_admin_code: str = Field(description="The district (4) or province (2) asked.")
    request_type: SupportRequestType
    description: str
    amount_riel: int = Field(ge=0, description="Whole riel.")
    requested_at: datetime


# --- the cycle and its records (consumed by integrators and NGO dashboards) ------------------


@catalog.register
class CycleOpened(IsafEvent):
    aggregate: ClassVar[str] = "cycle"
    name: ClassVar[str] = "opened"
    summary: ClassVar[str] = (
        "A commune/sangkat (or urban khan) opened its I-SAF cycle for a year, at the I4C stage."
    )
    cycle_id: UUID
    location_code: str = Field(description="Commune/sangkat (6 digits) or urban khan (4).")
    year: int
    stage: str
    opened_at: datetime


@catalog.register
class CycleStageChanged(IsafEvent):
    aggregate: ClassVar[str] = "cycle"
    name: ClassVar[str] = "stage_changed"
    summary: ClassVar[str] = (
        "A cycle moved to its next stage: i4c -> scorecard -> interface_meeting -> jaap -> "
        "monitoring -> closed."
    )
    cycle_id: UUID
    location_code: str
    year: int
    from_stage: str
    to_stage: str
    changed_at: datetime


class Participation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    total: int = Field(ge=0)
    female: int = Field(ge=0)
    male: int = Field(ge=0)
    with_disability: int = Field(ge=0)
    ethnic_minority: int = Field(ge=0)
    youth: int = Field(ge=0)
    idpoor: int = Field(ge=0)


@catalog.register
class ActivityRecorded(IsafEvent):
    aggregate: ClassVar[str] = "activity"
    name: ClassVar[str] = "recorded"
    summary: ClassVar[str] = (
        "An I4C dissemination, door-to-door round, JAAP committee meeting, interface meeting "
        "or public forum was recorded with its participant counts (no names)."
    )
    activity_id: UUID
    cycle_id: UUID
    location_code: str
    activity_type: str
    held_on: date
    participants: Participation
    booklets: int = Field(ge=0, description="Booklets handed out (door-to-door rounds).")
    recorded_at: datetime


class IndicatorResult(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str | None = Field(description="Standard indicator code; null if participants raised it.")
    name_en: str
    name_km: str
    votes: int = Field(ge=0)
    median: float | None = Field(
        description="Median score 1-5; for an even number of votes the mean of the two middle "
        "votes (so x.5 is possible)."
    )


@catalog.register
class ScorecardCompleted(IsafEvent):
    aggregate: ClassVar[str] = "scorecard"
    name: ClassVar[str] = "completed"
    summary: ClassVar[str] = (
        "A community scorecard or provider self-assessment was completed (and locked), with "
        "the median per selected indicator."
    )
    scorecard_id: UUID
    cycle_id: UUID
    facility_id: UUID
    facility_type: str
    kind: Literal["community", "self_assessment"]
    location_code: str
    year: int
    participants: int = Field(ge=0)
    participants_female: int = Field(ge=0)
    results: list[IndicatorResult]
    completed_at: datetime


@catalog.register
class JaapAdopted(IsafEvent):
    aggregate: ClassVar[str] = "jaap"
    name: ClassVar[str] = "adopted"
    summary: ClassVar[str] = "The interface meeting adopted the commune's (or khan's) JAAP."
    jaap_id: UUID
    cycle_id: UUID
    location_code: str
    year: int
    adopted_on: date
    actions: int = Field(ge=0, description="Actions adopted with it.")
    budget_need_riel: int = Field(ge=0, description="Sum of the actions' budget needs.")


@catalog.register
class JaapActionStatusChanged(IsafEvent):
    aggregate: ClassVar[str] = "jaap"
    name: ClassVar[str] = "action_status_changed"
    summary: ClassVar[str] = (
        "A JAAP action changed status (not_started -> in_progress -> completed, or dropped "
        "with a reason), with its progress note."
    )
    jaap_id: UUID
    action_id: UUID
    location_code: str
    year: int
    from_status: str
    to_status: str
    note: str
    reason: str | None = None
    changed_at: datetime
