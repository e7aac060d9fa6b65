"""Routing of a grievance to its handling unit, and its SLA deadlines (rules in `rules.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.grievance.codes import Category
from services.grievance.routing.rules import (
    CATEGORY_RULES,
    DEFAULT_SLA,
    START_TIER,
    CategoryRule,
    Sla,
)
from shared.tiers import CODE_LENGTH, PARENT_TIER, Tier

_DEFAULT_RULE = CategoryRule(START_TIER)


@dataclass(frozen=True)
class HandlingUnit:
    tier: Tier
    admin_code: str


def rule_for(category: str) -> CategoryRule:
    return CATEGORY_RULES.get(Category(category), _DEFAULT_RULE)


def is_sensitive(category: str) -> bool:
    return rule_for(category).sensitive


def unit_at(tier: Tier, location_code: str) -> HandlingUnit:
    """The unit of `tier` whose area contains `location_code`."""
    return HandlingUnit(tier, location_code[: CODE_LENGTH[tier]])


def first_unit(category: str, location_code: str) -> HandlingUnit:
    return unit_at(rule_for(category).start_tier, location_code)


def next_unit(current: HandlingUnit, location_code: str) -> HandlingUnit | None:
    """One tier up (CS -> DMK -> CP -> national); None at the national tier."""
    parent = PARENT_TIER[current.tier]
    return None if parent is None else unit_at(parent, location_code)


def sla_for(category: str, tier: Tier) -> Sla:
    return rule_for(category).sla.get(tier, DEFAULT_SLA[tier])


def acknowledge_due(category: str, tier: Tier, since: datetime) -> datetime:
    return since + timedelta(hours=sla_for(category, tier).acknowledge_hours)


def resolve_due(category: str, tier: Tier, since: datetime) -> datetime:
    return since + timedelta(hours=sla_for(category, tier).resolve_hours)


@dataclass(frozen=True)
class Escalation:
    """Where a grievance of `category` handled at `from_tier` goes when its SLA breaches;
    everything but the first two is None at the national tier (nobody above)."""

    category: str
    from_tier: str
    to_tier: str | None
    code_length: int | None
    acknowledge_hours: int | None
    resolve_hours: int | None


def escalation_table() -> list[Escalation]:
    """Every (category, tier) and its escalation: the SLA scheduler joins it in SQL."""
    rows = []
    for category in Category:
        for tier in Tier:
            parent = PARENT_TIER[tier]
            sla = sla_for(category, parent) if parent is not None else None
            rows.append(
                Escalation(
                    category=category.value,
                    from_tier=tier.value,
                    to_tier=parent.value if parent is not None else None,
                    code_length=CODE_LENGTH[parent] if parent is not None else None,
                    acknowledge_hours=sla.acknowledge_hours if sla else None,
                    resolve_hours=sla.resolve_hours if sla else None,
                )
            )
    return rows
