"""What a snapshot page carries: the state the events keep up to date, and its position."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.registry.households.models import HouseholdStatus, PovertyLevel

POSITION_DESCRIPTION = (
    "The outbox position this page reflects, on the scale of the events' `sequence` extension "
    "(20 digits): every registry event whose `sequence` is at most this is reflected in the "
    "page; later ones may be. Follow the topics from here: apply, in `sequence` order, the "
    "events whose `sequence` is greater than the smallest `position` of the pages you read."
)


class HouseholdState(BaseModel):
    """A household as the household and member events describe it: a subscriber that applies
    them from the snapshot's position holds exactly these fields."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "household_id": "0193a5c2-7d1e-7a41-9d5b-5f4e2b1c9a01",
                    "household_code": "HH000000013",
                    "village_code": "12080102",
                    "status": "active",
                    "record_version": 3,
                    "poverty_level": "POOR_1",
                    "member_ids": [
                        "0193a5c2-7d1e-7a41-9d5b-5f4e2b1c9a02",
                        "0193a5c2-7d1e-7a41-9d5b-5f4e2b1c9a03",
                    ],
                }
            ]
        }
    )

    household_id: uuid.UUID = Field(description="The household's id (the events' `subject`).")
    household_code: str = Field(description="The human household code, stable for life.")
    village_code: str = Field(description="NCDD village code (8 digits) where it lives now.")
    status: HouseholdStatus = Field(description="As in the household events' `status`.")
    record_version: int = Field(
        description="The household's version: the `record_version` of its latest household event."
    )
    poverty_level: PovertyLevel = Field(
        description="The current IDPoor level (`poverty_status_changed.level`; UNASSESSED "
        "until one)."
    )
    member_ids: list[uuid.UUID] = Field(
        description="Its active members, by id, ascending: those of `household.registered` "
        "and `member.added`, less `member.removed`, moved by `member.updated` (its "
        "`household_id`). Member details are read from the member API with its own access "
        "rules; `member.updated` names the fields that changed."
    )


class HouseholdSnapshotPage(BaseModel):
    """One page of the household snapshot."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "position": "00000000000000004711",
                    "taken_at": "2026-12-06T07:00:00Z",
                    "topics": ["sp.registry.household", "sp.registry.member"],
                    "items": [HouseholdState.model_config["json_schema_extra"]["examples"][0]],
                    "next_cursor": "WyJ1IiwiMDE5M2E1YzIiXQ",
                }
            ]
        }
    )

    position: str = Field(pattern=r"^[0-9]{20}$", description=POSITION_DESCRIPTION)
    taken_at: datetime = Field(
        description="When the position was taken (the database's clock). Every event after "
        "the position was published after this instant: a Kafka consumer may start from the "
        "offsets for a time a few minutes earlier (`offsets_for_times`) instead of the "
        "topic's beginning."
    )
    topics: list[str] = Field(description="The topics whose events keep this state current.")
    items: list[HouseholdState]
    next_cursor: str | None = Field(
        None, description="The next page's `cursor`; null on the last page."
    )
