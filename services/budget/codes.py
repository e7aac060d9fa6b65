"""Code lists of the budget service, with their Khmer and English labels.

Budget lines are the social-protection lines of SNA budgets (domain: Budget); adding one is
one entry here and one in the CHECK constraint of a migration.
"""

from __future__ import annotations

from typing import Literal, get_args

from shared.events.catalog.isaf import SupportRequestType
from shared.http.labels import code_list

LineCode = Literal[
    "social_assistance",
    "social_services",
    "capacity_building",
    "incentives",
    "equipment",
    "outreach_materials",
    "isaf_activities",
]

LINES: dict[str, tuple[str, str]] = {
    "social_assistance": ("ប្រតិបត្តិការជំនួយសង្គម", "Social assistance operations"),
    "social_services": ("សេវាសង្គម", "Social services"),
    "capacity_building": ("ការកសាងសមត្ថភាព (វគ្គបណ្តុះបណ្តាល)", "Capacity building (trainings)"),
    "incentives": ("ប្រាក់លើកទឹកចិត្ត (CAF បុគ្គលិកឃុំ)", "Incentives (CAFs, commune staff)"),
    "equipment": ("សម្ភារៈ", "Equipment"),
    "outreach_materials": ("សម្ភារៈផ្សព្វផ្សាយ", "Outreach materials"),
    "isaf_activities": ("សកម្មភាព I-SAF", "I-SAF activities"),
}

SUPPORT_TYPES: dict[str, tuple[str, str]] = {
    "training_workshop": ("វគ្គបណ្តុះបណ្តាល និងសិក្ខាសាលា", "Trainings and workshops"),
    "incentive": ("ប្រាក់លើកទឹកចិត្ត", "Incentives"),
    "budget": ("ថវិកា", "Budget"),
    "dissemination_material": ("សម្ភារៈផ្សព្វផ្សាយ", "Dissemination materials"),
    "equipment": ("សម្ភារៈបរិក្ខារ", "Equipment"),
    "transport": ("មធ្យោបាយធ្វើដំណើរ", "Transport"),
    "internet": ("អ៊ីនធឺណិត", "Internet"),
    "staff": ("បុគ្គលិក", "Staff"),
}

assert set(LINES) == set(get_args(LineCode))
assert set(SUPPORT_TYPES) == set(get_args(SupportRequestType))

RunStatus = Literal["draft", "proposed", "approved", "published"]
SupportStatus = Literal[
    "submitted", "under_review", "approved", "partly_approved", "rejected", "fulfilled"
]
Tier = Literal["national", "cp", "dmk", "cs"]
Level = Literal["province", "district", "commune", "village"]
OnZero = Literal["refuse", "equal_share"]


def _en_km(pairs: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """LINES and SUPPORT_TYPES are (Khmer, English); code lists take (English, Khmer)."""
    return {code: (en, km) for code, (km, en) in pairs.items()}


# The code lists a client sees, labelled in English and Khmer (shared.http.labels): the
# OpenAPI document carries their labels (`x-enum-labels`). An inline enum (a `Literal`) takes
# the one list holding all its values, so the lists here must not share a full subset with
# different labels: a support decision (approved, partly_approved, rejected) is labelled by
# the support-request statuses, a unit level and a sub-unit by the levels.
LINE = code_list(
    "budget-lines",
    get_args(LineCode),
    _en_km(LINES),
    description="The social-protection lines of SNA budgets.",
    owner="budget",
    enum_name="LineCode",
)
SUPPORT_TYPE = code_list(
    "support-request-types",
    get_args(SupportRequestType),
    _en_km(SUPPORT_TYPES),
    description="What a commune or district asks a higher tier for.",
    owner="budget",
    enum_name="SupportRequestType",
)
RUN_STATUS = code_list(
    "allocation-run-statuses",
    get_args(RunStatus),
    {
        "draft": ("Draft", "សេចក្តីព្រាង"),
        "proposed": ("Proposed", "បានស្នើ"),
        "approved": ("Approved", "បានអនុម័ត"),
        "published": ("Published", "បានផ្សព្វផ្សាយ"),
    },
    description="Where an allocation run stands: drafted, proposed, approved, published.",
    owner="budget",
    enum_name="RunStatus",
)
SUPPORT_STATUS = code_list(
    "support-request-statuses",
    get_args(SupportStatus),
    {
        "submitted": ("Submitted", "បានដាក់ស្នើ"),
        "under_review": ("Under review", "កំពុងពិនិត្យ"),
        "approved": ("Approved", "បានអនុម័ត"),
        "partly_approved": ("Partly approved", "បានអនុម័តមួយផ្នែក"),
        "rejected": ("Rejected", "បានបដិសេធ"),
        "fulfilled": ("Fulfilled", "បានផ្តល់ជូន"),
    },
    description="Where a support request stands; a decision is one of approved, "
    "partly_approved or rejected.",
    owner="budget",
    enum_name="SupportStatus",
)
TIER = code_list(
    "tiers",
    get_args(Tier),
    {
        "national": ("National (MoSVY)", "ថ្នាក់ជាតិ"),
        "cp": ("Capital or province", "រាជធានី ខេត្ត"),
        "dmk": ("District, municipality or khan", "ក្រុង ស្រុក ខណ្ឌ"),
        "cs": ("Commune or sangkat", "ឃុំ សង្កាត់"),
    },
    description="The tiers of government a request is addressed to.",
    owner="budget",
    enum_name="Tier",
)
LEVEL = code_list(
    "levels",
    get_args(Level),
    {
        "province": ("Province or capital", "ខេត្ត រាជធានី"),
        "district": ("District, municipality or khan", "ស្រុក ក្រុង ខណ្ឌ"),
        "commune": ("Commune or sangkat", "ឃុំ សង្កាត់"),
        "village": ("Village", "ភូមិ"),
    },
    description="Levels of the gazetteer: of an indicator dataset, a run's units, a sub-unit.",
    owner="budget",
    enum_name="Level",
)
ON_ZERO = code_list(
    "on-zero-total",
    get_args(OnZero),
    {
        "refuse": ("Refuse the run", "បដិសេធការគណនា"),
        "equal_share": ("Share equally", "ចែកស្មើៗគ្នា"),
    },
    description="What a weighted component does when its indicator sums to zero over the "
    "units: refuse the run naming the component, or share its part equally.",
    owner="budget",
    enum_name="OnZero",
)
