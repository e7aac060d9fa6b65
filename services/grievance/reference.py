"""Reference data for portals: the grievance code lists (categories, channels, states,
decisions, sex, age groups, vulnerabilities, timeline kinds) with Khmer and English labels,
at `GET /grievance/reference/code-lists[/{name}]`; see shared.http.reference."""

from services.grievance import codes  # noqa: F401  (registers the code lists)
from shared.http.reference import reference_router

router = reference_router("grievance")
