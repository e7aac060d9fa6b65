"""Events the beneficiary registry publishes: the contract its subscribers rely on.

Payloads carry identifiers, codes and states, never national ID numbers or phone numbers:
a subscriber that needs personal data asks the registry's API with its own authority.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events.model import DomainEvent, EventCatalog

catalog = EventCatalog("Beneficiary registry")

PovertyLevel = Literal["POOR_1", "POOR_2", "NOT_POOR", "UNASSESSED"]


class RegistryEvent(DomainEvent):
    service: ClassVar[str] = "registry"


# --- households -------------------------------------------------------------------------


class HouseholdEvent(RegistryEvent):
    aggregate: ClassVar[str] = "household"

    household_id: UUID
    household_code: str = Field(description="The human household code, stable for life.")
    village_code: str = Field(description="NCDD village code (8 digits) where it lives now.")
    status: Literal["pending_verification", "returned", "active", "moved", "dissolved"]
    record_version: int = Field(description="The household's version after the change.")


class RegisteredMember(BaseModel):
    """A member registered with a new household: the same facts `member.added` gives."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    member_id: UUID
    relationship: str
    sex: Literal["female", "male"]
    birth_year: int | None


@catalog.register
class HouseholdRegistered(HouseholdEvent):
    """A household was registered, with its members: through the API, an approved change
    request, or a file import (`origin`); the same event whatever the origin.

    The members registered with the household are announced here, in `members` (one event
    per household carrying its members), not by one `member.added` each: a member read model
    takes a new household's members from this event, and later arrivals from `member.added`.
    One event per household keeps a million-member import one outbox row per household."""

    name: ClassVar[str] = "registered"
    summary: ClassVar[str] = "A commune registered a household, to be verified by the district."
    member_count: int
    origin: Literal["api", "import", "change_request"] = "api"
    members: list[RegisteredMember] = Field(
        default_factory=list,
        description="The members registered with the household, in the order given (an "
        "import: the file's order), with the same facts as `member.added`.",
    )


@catalog.register
class HouseholdVerified(HouseholdEvent):
    name: ClassVar[str] = "verified"
    summary: ClassVar[str] = "The district verified a household; it is active."


@catalog.register
class HouseholdReturned(HouseholdEvent):
    name: ClassVar[str] = "returned"
    summary: ClassVar[str] = "The district returned a household to the commune with reasons."
    reasons: list[str]


@catalog.register
class HouseholdUpdated(HouseholdEvent):
    name: ClassVar[str] = "updated"
    summary: ClassVar[str] = "Household fields changed (address, head, status)."
    changed_fields: list[str]


@catalog.register
class HouseholdMoved(HouseholdEvent):
    name: ClassVar[str] = "moved"
    summary: ClassVar[str] = "A household moved to another village (possibly another commune)."
    from_village_code: str


@catalog.register
class HouseholdDissolved(HouseholdEvent):
    name: ClassVar[str] = "dissolved"
    summary: ClassVar[str] = "A household no longer exists (merged as a duplicate, or dissolved)."
    reason: str
    merged_into_household_id: UUID | None = None


@catalog.register
class PovertyStatusChanged(HouseholdEvent):
    name: ClassVar[str] = "poverty_status_changed"
    summary: ClassVar[str] = "A household's IDPoor level, score or validity changed."
    level: PovertyLevel
    previous_level: PovertyLevel | None
    method: Literal["ROUND", "ON_DEMAND"] | None
    round_number: int | None = None
    assessed_on: date | None
    valid_until: date | None
    vulnerability_categories: list[str] = Field(default_factory=list)


# --- members ----------------------------------------------------------------------------


class MemberEvent(RegistryEvent):
    aggregate: ClassVar[str] = "member"

    member_id: UUID
    household_id: UUID
    village_code: str
    record_version: int


@catalog.register
class MemberAdded(MemberEvent):
    """A member joined an existing household (added before verification, or by an approved
    change request). Members registered with a new household, through the API, a change
    request or an import alike, are announced in that household's `household.registered`
    (`members`), with the same facts."""

    name: ClassVar[str] = "added"
    summary: ClassVar[str] = "A member joined a household."
    relationship: str
    sex: Literal["female", "male"]
    birth_year: int | None


@catalog.register
class MemberUpdated(MemberEvent):
    name: ClassVar[str] = "updated"
    summary: ClassVar[str] = "A member's details changed (names only by field name, no values)."
    changed_fields: list[str]


@catalog.register
class MemberRemoved(MemberEvent):
    name: ClassVar[str] = "removed"
    summary: ClassVar[str] = "A member left the household, died, or was removed as an error."
    reason: Literal["deceased", "moved_out", "error"]


# --- enrolments and benefits ------------------------------------------------------------


class EnrolmentEvent(RegistryEvent):
    aggregate: ClassVar[str] = "enrolment"

    enrolment_id: UUID
    programme_code: str
    household_id: UUID
    member_id: UUID | None = None
    village_code: str
    status: Literal["proposed", "enrolled", "suspended", "exited", "rejected"]
    record_version: int


@catalog.register
class EnrolmentProposed(EnrolmentEvent):
    name: ClassVar[str] = "proposed"
    summary: ClassVar[str] = "A household or member was proposed for a programme."


@catalog.register
class EnrolmentEnrolled(EnrolmentEvent):
    name: ClassVar[str] = "enrolled"
    summary: ClassVar[str] = "An enrolment was approved; benefits may be recorded."


@catalog.register
class EnrolmentRejected(EnrolmentEvent):
    name: ClassVar[str] = "rejected"
    summary: ClassVar[str] = (
        "A proposal failed the programme's eligibility rules, or a verifier rejected it."
    )
    failing_rules: list[str] = Field(
        description="`rule: reason` for each failing rule; empty when a verifier rejected it."
    )
    reason: str | None = Field(None, description="The verifier's reason, when a person did.")


@catalog.register
class EnrolmentSuspended(EnrolmentEvent):
    name: ClassVar[str] = "suspended"
    summary: ClassVar[str] = "An enrolment was suspended."
    reason: str


@catalog.register
class EnrolmentResumed(EnrolmentEvent):
    name: ClassVar[str] = "resumed"
    summary: ClassVar[str] = "A suspended enrolment is enrolled again."


@catalog.register
class EnrolmentExited(EnrolmentEvent):
    name: ClassVar[str] = "exited"
    summary: ClassVar[str] = "A household or member left a programme."
    reason: str


class BenefitEvent(RegistryEvent):
    aggregate: ClassVar[str] = "benefit"

    benefit_id: UUID
    enrolment_id: UUID
    programme_code: str
    household_id: UUID
    member_id: UUID | None = None
    village_code: str
    period: str = Field(description="The period the benefit is for: YYYY-MM, YYYY-Qn or YYYY.")
    amount_khr: int | None
    in_kind_item: str | None = None
    channel: str
    status: Literal["scheduled", "paid", "failed", "returned"]
    delivered_on: date | None = None


@catalog.register
class BenefitRecorded(BenefitEvent):
    name: ClassVar[str] = "recorded"
    summary: ClassVar[str] = "A benefit was scheduled or delivered."


@catalog.register
class BenefitStatusChanged(BenefitEvent):
    name: ClassVar[str] = "status_changed"
    summary: ClassVar[str] = "A benefit was paid, failed or returned."
    previous_status: Literal["scheduled", "paid", "failed", "returned"]


# --- cases --------------------------------------------------------------------------------


class CaseEvent(RegistryEvent):
    aggregate: ClassVar[str] = "case"

    case_id: UUID
    case_type: Literal["referral", "follow_up", "reassessment", "protection"]
    household_id: UUID
    member_id: UUID | None = None
    village_code: str
    assigned_admin_code: str
    status: Literal["open", "in_progress", "closed"]


@catalog.register
class CaseOpened(CaseEvent):
    name: ClassVar[str] = "opened"
    summary: ClassVar[str] = "A case was opened (by staff, or by an upheld grievance)."
    due_on: date | None
    origin: str | None = Field(
        None, description="What opened it, e.g. `grievance:<id>`; null when staff did."
    )


@catalog.register
class CaseAssigned(CaseEvent):
    name: ClassVar[str] = "assigned"
    summary: ClassVar[str] = "A case was assigned to another unit and/or to a person."
    assigned_tier: Literal["national", "cp", "dmk", "cs"]
    assignee_sub: str | None = Field(None, description="The staff member's subject, if any.")
    previous_admin_code: str


@catalog.register
class CaseClosed(CaseEvent):
    name: ClassVar[str] = "closed"
    summary: ClassVar[str] = "A case was closed with an outcome."
    outcome: str


# --- change requests, duplicates, imports -------------------------------------------------


class ChangeRequestEvent(RegistryEvent):
    aggregate: ClassVar[str] = "change_request"

    change_request_id: UUID
    change_type: str
    household_id: UUID | None
    village_code: str = Field(description="Where the change applies (destination for a move).")
    status: Literal["draft", "submitted", "verified", "applied", "rejected", "cancelled"]


@catalog.register
class ChangeRequestSubmitted(ChangeRequestEvent):
    name: ClassVar[str] = "submitted"
    summary: ClassVar[str] = "A commune submitted a change for the district to verify."


@catalog.register
class ChangeRequestApplied(ChangeRequestEvent):
    name: ClassVar[str] = "applied"
    summary: ClassVar[str] = "A verified change was applied to the record."


@catalog.register
class ChangeRequestRejected(ChangeRequestEvent):
    name: ClassVar[str] = "rejected"
    summary: ClassVar[str] = "A change was rejected (by the verifier, or on a version conflict)."
    reason: str


class DuplicateEvent(RegistryEvent):
    aggregate: ClassVar[str] = "duplicate"

    candidate_id: UUID
    household_id: UUID
    other_household_id: UUID
    village_code: str = Field(description="Village of the newer household (the one flagged).")
    other_village_code: str = Field(description="Village of the household it resembles.")
    reasons: list[
        Literal["national_id", "phone", "latin_name_birth_commune", "khmer_name_similarity"]
    ]
    status: Literal["suspected", "confirmed", "dismissed"]


@catalog.register
class DuplicateFlagged(DuplicateEvent):
    name: ClassVar[str] = "flagged"
    summary: ClassVar[str] = "Two households look like the same one; a person must review."


@catalog.register
class DuplicateResolved(DuplicateEvent):
    name: ClassVar[str] = "resolved"
    summary: ClassVar[str] = "A suspected duplicate was confirmed (and merged) or dismissed."
    surviving_household_id: UUID | None = Field(
        None, description="On confirmation: the household kept; the other one was dissolved."
    )
    decision_reason: str | None = None


class ImportEvent(RegistryEvent):
    aggregate: ClassVar[str] = "import"

    import_id: UUID
    admin_code: str = Field(description="The area of the importing officer.")


@catalog.register
class ImportCompleted(ImportEvent):
    name: ClassVar[str] = "completed"
    summary: ClassVar[str] = "A bulk import committed its valid households."
    households_created: int
    members_created: int
    rows_rejected: int
    finished_at: datetime
