"""Events the budget service publishes: the contract its subscribers rely on.

Every state change is an event on `sp.budget.<aggregate>`. Amounts are whole riel (integers).
The I-SAF service consumes `SupportRequestDecided`/`SupportRequestFulfilled` (onto the JAAP
action that raised the request, `isaf_action_id`) and the published allocations, releases and
expenditures (the budget section of its public I4C view).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events.catalog.isaf import SupportRequestType
from shared.events.model import DomainEvent, EventCatalog

catalog = EventCatalog("SNA budget")

TierName = Literal["national", "cp", "dmk", "cs"]


class BudgetEvent(DomainEvent):
    service: ClassVar[str] = "budget"


class UnitAmount(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    admin_code: str = Field(description="Unit code with its leading zeros (2, 4 or 6 digits).")
    amount_riel: int = Field(ge=0)


@catalog.register
class AllocationPublished(BudgetEvent):
    aggregate: ClassVar[str] = "allocation"
    name: ClassVar[str] = "published"
    summary: ClassVar[str] = (
        "An approved allocation run was published: the allocating tier's envelope divided over "
        "its child units, exactly (the parts sum to the envelope)."
    )
    run_id: UUID
    fiscal_year: int
    line_code: str
    allocating_tier: TierName
    allocating_admin_code: str = Field(description="'' for the national tier.")
    formula_code: str
    formula_version: int
    envelope_riel: int = Field(ge=0)
    units: list[UnitAmount]
    published_at: datetime


@catalog.register
class ReleaseRecorded(BudgetEvent):
    aggregate: ClassVar[str] = "release"
    name: ClassVar[str] = "recorded"
    summary: ClassVar[str] = "A tranche of a unit's allocation was released (actual date known)."
    release_id: UUID
    run_id: UUID
    fiscal_year: int
    line_code: str
    admin_code: str
    tranche: int = Field(ge=1)
    amount_riel: int = Field(ge=0)
    planned_on: date
    released_on: date
    delay_days: int = Field(description="released_on minus planned_on (negative when early).")


@catalog.register
class ExpenditureRecorded(BudgetEvent):
    aggregate: ClassVar[str] = "expenditure"
    name: ClassVar[str] = "recorded"
    summary: ClassVar[str] = "A receiving unit recorded spending against its released amount."
    expenditure_id: UUID
    fiscal_year: int
    line_code: str
    admin_code: str
    amount_riel: int = Field(ge=0)
    spent_on: date


class SupportRequestEvent(BudgetEvent):
    aggregate: ClassVar[str] = "support_request"

    support_request_id: UUID
    requesting_admin_code: str
    addressed_tier: TierName
    addressed_admin_code: str
    request_type: SupportRequestType
    isaf_action_id: UUID | None = Field(
        default=None, description="The I-SAF JAAP action that raised it, when one did."
    )


@catalog.register
class SupportRequestDecided(SupportRequestEvent):
    name: ClassVar[str] = "decided"
    summary: ClassVar[str] = (
        "The addressed tier decided a support request: approved, partly approved or rejected."
    )
    decision: Literal["approved", "partly_approved", "rejected"]
    requested_amount_riel: int = Field(ge=0)
    approved_amount_riel: int = Field(ge=0)
    reason: str = ""
    decided_at: datetime


@catalog.register
class SupportRequestFulfilled(SupportRequestEvent):
    name: ClassVar[str] = "fulfilled"
    summary: ClassVar[str] = "An approved support request was fulfilled by the addressed tier."
    approved_amount_riel: int = Field(ge=0)
    fulfilled_at: datetime
