"""Code lists of the budget service, with their Khmer and English labels.

Budget lines are the social-protection lines of SNA budgets (domain: Budget); adding one is
one entry here and one in the CHECK constraint of a migration.
"""

from __future__ import annotations

from typing import Literal, get_args

from shared.events.catalog.isaf import SupportRequestType

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
