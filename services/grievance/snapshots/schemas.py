"""What a grievance snapshot page carries: the state the grievance events keep current."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.grievance.codes import Decision, Status

EXAMPLE = {
    "grievance_id": "0193a5c2-7d1e-7a41-9d5b-5f4e2b1c9a11",
    "category": "exclusion_error",
    "location_code": "12080102",
    "handling_tier": "cs",
    "handling_admin_code": "120801",
    "status": "resolved",
    "decision": "upheld",
    "household_id": "0193a5c2-7d1e-7a41-9d5b-5f4e2b1c9a01",
    "member_id": None,
    "reopen_count": 0,
    "rating": None,
}


class GrievanceState(BaseModel):
    """A grievance as its events describe it (no complainant, no description, no tracking
    code): a subscriber applying them from the snapshot's position holds exactly these."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

    grievance_id: uuid.UUID = Field(description="The grievance's id (the events' `subject`).")
    category: str = Field(description="Category code, as in every grievance event.")
    location_code: str = Field(description="Commune or village code, as in every event.")
    handling_tier: str = Field(description="cs, dmk, cp or national, as in every event.")
    handling_admin_code: str = Field(description="The handling unit ('' for national).")
    status: Status = Field(
        description="The event that last moved it: submitted, acknowledged, in_progress, "
        "resolved, closed, rejected or reopened (escalations, SLA breaches, links and ratings "
        "leave it)."
    )
    decision: Decision | None = Field(description="From `resolved` (and `closed`).")
    household_id: uuid.UUID | None = Field(
        description="From `submitted`, `household_linked` and `resolved`."
    )
    member_id: uuid.UUID | None = Field(description="As `household_id`.")
    reopen_count: int = Field(description="From `reopened` (0 until then).")
    rating: int | None = Field(description="From `rated`.")


class GrievanceSnapshotPage(BaseModel):
    """One page of the grievance snapshot."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "position": "00000000000000000815",
                    "taken_at": "2026-12-06T07:00:00Z",
                    "topics": ["sp.grievance.grievance"],
                    "items": [EXAMPLE],
                    "next_cursor": None,
                }
            ]
        }
    )

    position: str = Field(
        pattern=r"^[0-9]{20}$",
        description="The outbox position this page reflects, on the scale of the events' "
        "`sequence`: every grievance event up to it is reflected; apply, in `sequence` order, "
        "those after the smallest `position` of the pages you read.",
    )
    taken_at: datetime = Field(description="When the position was taken (database clock).")
    topics: list[str] = Field(description="The topics whose events keep this state current.")
    items: list[GrievanceState]
    next_cursor: str | None = Field(None, description="The next page's `cursor`; null last.")
