"""Request and response bodies of public-forum items."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.isaf.codes import ForumItemKind, GrievanceCategory
from shared.gazetteer import LocationCode
from shared.text import Text

Words = Annotated[Text, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ForumItemCreate(Request):
    activity_id: uuid.UUID = Field(description="The public forum (an activity of that type).")
    kind: ForumItemKind
    text: Words = Field(examples=["The health centre asks for money for delivery."])
    answer: Words | None = Field(None, description="The answer given at the forum, if any.")
    place_code: LocationCode | None = Field(
        None, description="The village or commune it concerns; the forum's area by default."
    )


class Answer(Request):
    answer: Words


class SendToGrievance(Request):
    category: GrievanceCategory = Field(examples=["service_quality_health_centre"])


class ForumItemRead(BaseModel):
    id: uuid.UUID
    version: int
    activity_id: uuid.UUID
    cycle_id: uuid.UUID
    location_code: str
    place_code: str
    kind: ForumItemKind
    text: str
    answer: str | None
    category: str | None
    sent_to_grievance_at: datetime | None
    grievance_tracking_code: str | None = Field(
        description="The grievance service's tracking code, once it has logged the issue."
    )
    raised_at: datetime
