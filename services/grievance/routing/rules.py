"""Routing and SLA rules: the one configuration of per-category and per-tier rules.

How to read (and change) it:

- Every grievance starts at `START_TIER` (the commune/sangkat) unless its category is listed
  in `CATEGORY_RULES` with another `start_tier`; the handling unit is the unit of that tier
  that contains the grievance's location (e.g. commune 120801 at DMK -> district 1208).
- Sensitive categories (`sensitive=True`) start at the district or higher and are visible
  only to principals holding the role `grievance.sensitive`.
- SLA: hours to acknowledge and hours to resolve, counted from the moment the grievance
  reached its current tier. `DEFAULT_SLA` gives them per tier; a category rule may override
  them for some tiers. When a deadline passes, the SLA scheduler escalates the grievance one
  tier up (CS -> DMK -> CP -> national) and the new tier's clock starts.
- `REOPEN_DAYS` is how long after resolution the complainant may reopen with the tracking
  code (the service setting GRIEVANCE_REOPEN_DAYS overrides it).

Changing a number here changes new deadlines only; deadlines already computed stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.grievance.codes import Category
from shared.tiers import Tier


@dataclass(frozen=True)
class Sla:
    acknowledge_hours: int
    resolve_hours: int


@dataclass(frozen=True)
class CategoryRule:
    start_tier: Tier = Tier.CS
    sensitive: bool = False
    sla: dict[Tier, Sla] = field(default_factory=dict)  # overrides of DEFAULT_SLA


START_TIER = Tier.CS
REOPEN_DAYS = 30

DEFAULT_SLA: dict[Tier, Sla] = {
    Tier.CS: Sla(acknowledge_hours=48, resolve_hours=15 * 24),
    Tier.DMK: Sla(acknowledge_hours=48, resolve_hours=15 * 24),
    Tier.CP: Sla(acknowledge_hours=72, resolve_hours=30 * 24),
    Tier.NATIONAL: Sla(acknowledge_hours=72, resolve_hours=30 * 24),
}

_SENSITIVE_SLA = {
    Tier.DMK: Sla(acknowledge_hours=24, resolve_hours=10 * 24),
    Tier.CP: Sla(acknowledge_hours=24, resolve_hours=20 * 24),
    Tier.NATIONAL: Sla(acknowledge_hours=48, resolve_hours=30 * 24),
}

CATEGORY_RULES: dict[Category, CategoryRule] = {
    Category.FRAUD_CORRUPTION: CategoryRule(Tier.DMK, sensitive=True, sla=_SENSITIVE_SLA),
    Category.STAFF_CONDUCT: CategoryRule(Tier.DMK, sensitive=True, sla=_SENSITIVE_SLA),
    Category.ABUSE: CategoryRule(Tier.DMK, sensitive=True, sla=_SENSITIVE_SLA),
    # A missed payment and a question cannot wait a fortnight at the commune.
    Category.PAYMENT_PROBLEM: CategoryRule(
        sla={Tier.CS: Sla(acknowledge_hours=24, resolve_hours=7 * 24)}
    ),
    Category.INFORMATION_REQUEST: CategoryRule(
        sla={Tier.CS: Sla(acknowledge_hours=24, resolve_hours=3 * 24)}
    ),
}
