"""The I-SAF service's roles and rules: the one place their names are written."""

from __future__ import annotations

from shared.access import RoleRule
from shared.tiers import Tier

FACILITATOR = "isaf.facilitator"  # records the cycle of their commune/sangkat or khan
VIEWER = "viewer"  # reads the records and reports of their area

RECORDER = RoleRule(
    (FACILITATOR,),
    tiers=(Tier.CS, Tier.DMK),
    detail="Recording I-SAF work needs the role isaf.facilitator at a commune/sangkat or "
    "district/khan.",
)
READER = RoleRule(
    (FACILITATOR, VIEWER),
    person=True,
    detail="Reading I-SAF records needs the role viewer or isaf.facilitator.",
)
