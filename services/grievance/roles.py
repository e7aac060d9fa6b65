"""The grievance service's roles and rules: the one place their names are written."""

from __future__ import annotations

from shared.access import RoleRule

HANDLER = "grievance.handler"  # handles the grievances of their unit
SENSITIVE = "grievance.sensitive"  # also handles sensitive ones (e.g. abuse, corruption)

RECORDER = RoleRule(
    (HANDLER, SENSITIVE), detail="Recording grievances needs the role grievance.handler."
)
