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

from pydantic import Field

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
