"""Events the budget service publishes: the contract its subscribers rely on.

Every state change is an event on `sp.budget.<aggregate>`. Amounts are whole riel (integers).
Unit codes keep their leading zeros (a province 2 digits, a district 4, a commune 6).
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


# --- fiscal years, envelopes, formulas, datasets --------------------------------------------


@catalog.register
class FiscalYearOpened(BudgetEvent):
    aggregate: ClassVar[str] = "fiscal_year"
    name: ClassVar[str] = "opened"
    summary: ClassVar[str] = "The national tier opened a fiscal year (a calendar year)."
    fiscal_year: int
    starts_on: date
    ends_on: date


@catalog.register
class EnvelopeSet(BudgetEvent):
    aggregate: ClassVar[str] = "envelope"
    name: ClassVar[str] = "set"
    summary: ClassVar[str] = "The national envelope of a budget line for a fiscal year was set."
    envelope_id: UUID
    fiscal_year: int
    line_code: str
    amount_riel: int = Field(ge=0)
    previous_amount_riel: int | None = Field(default=None, ge=0)


@catalog.register
class FormulaVersionCreated(BudgetEvent):
    aggregate: ClassVar[str] = "formula"
    name: ClassVar[str] = "version_created"
    summary: ClassVar[str] = "A new version of an allocation formula was stored."
    formula_code: str
    formula_version: int
    formula_name: str
    components: list[str] = Field(description="Each component as `kind:weight[:indicator]`.")


@catalog.register
class DatasetUploaded(BudgetEvent):
    aggregate: ClassVar[str] = "dataset"
    name: ClassVar[str] = "uploaded"
    summary: ClassVar[str] = (
        "An official dataset (one value per unit, checked against the gazetteer) was uploaded."
    )
    dataset_id: UUID
    code: str
    provenance: str = Field(
        description="Who published the data (e.g. NIS, General Population Census 2019)."
    )
    reference_date: date
    level: Literal["province", "district", "commune", "village"]
    area: str = Field(description="'' for the whole country, else the unit it covers.")
    row_count: int


@catalog.register
class DatasetRemoved(BudgetEvent):
    aggregate: ClassVar[str] = "dataset"
    name: ClassVar[str] = "removed"
    summary: ClassVar[str] = "A dataset no allocation run had used was removed."
    dataset_id: UUID
    code: str


# --- allocation runs -------------------------------------------------------------------------


class AllocationRunEvent(BudgetEvent):
    aggregate: ClassVar[str] = "allocation"

    run_id: UUID
    fiscal_year: int
    line_code: str
    allocating_tier: TierName
    allocating_admin_code: str = Field(description="'' for the national tier.")
    formula_code: str
    formula_version: int
    envelope_riel: int = Field(ge=0)


@catalog.register
class AllocationDrafted(AllocationRunEvent):
    name: ClassVar[str] = "drafted"
    summary: ClassVar[str] = "A tier computed a draft allocation of its envelope over its units."
    unit_count: int


@catalog.register
class AllocationProposed(AllocationRunEvent):
    name: ClassVar[str] = "proposed"
    summary: ClassVar[str] = "A draft allocation was proposed for approval."
    proposed_at: datetime


@catalog.register
class AllocationApproved(AllocationRunEvent):
    name: ClassVar[str] = "approved"
    summary: ClassVar[str] = (
        "A proposed allocation was approved by an approver of the allocating tier who is not "
        "its proposer."
    )
    approved_at: datetime


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
class ReleasePlanned(BudgetEvent):
    aggregate: ClassVar[str] = "release"
    name: ClassVar[str] = "planned"
    summary: ClassVar[str] = "A tranche of a unit's published allocation was planned."
    release_id: UUID
    run_id: UUID
    fiscal_year: int
    line_code: str
    admin_code: str
    tranche: int = Field(ge=1)
    amount_riel: int = Field(ge=0)
    planned_on: date


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
class SupportRequestSubmitted(SupportRequestEvent):
    name: ClassVar[str] = "submitted"
    summary: ClassVar[str] = (
        "A unit asked its parent or grandparent tier for support (directly, or from an I-SAF "
        "JAAP action)."
    )
    requested_amount_riel: int = Field(ge=0)
    submitted_at: datetime


@catalog.register
class SupportRequestReviewStarted(SupportRequestEvent):
    name: ClassVar[str] = "review_started"
    summary: ClassVar[str] = "The addressed tier started reviewing a support request."
    reviewed_at: datetime


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
