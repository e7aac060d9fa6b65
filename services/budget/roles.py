"""The budget service's roles and rules: the one place their names are written.

- `budget.planner` sets envelopes (national), uploads datasets (national), drafts and
  proposes allocation runs of their own unit, plans and records releases to their children,
  records their own unit's spending and submits or handles support requests.
- `budget.approver` approves a proposed run of their own unit (never their own proposal:
  the approver must be another person than the proposer), publishes it, and decides the
  support requests addressed to their unit.
"""

from __future__ import annotations

from shared.access import RoleRule
from shared.tiers import Tier

PLANNER = "budget.planner"
APPROVER = "budget.approver"
VIEWER = "viewer"
STAFF = (PLANNER, APPROVER, VIEWER)

READER = RoleRule(STAFF, person=True, detail="Budget figures are read by budget staff and viewers.")
PLANNING = RoleRule((PLANNER,), person=True, detail="This needs the role budget.planner.")
NATIONAL_PLANNING = RoleRule(
    (PLANNER,),
    tiers=(Tier.NATIONAL,),
    detail="Envelopes, formulas and datasets are set by a national budget.planner.",
)
APPROVING = RoleRule((APPROVER,), person=True, detail="This needs the role budget.approver.")
DECIDING = RoleRule(
    (APPROVER, PLANNER),
    person=True,
    detail="This needs the role budget.approver or budget.planner of the unit concerned.",
)
