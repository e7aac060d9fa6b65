"""Reference data for portals and tablets: the I-SAF code lists (facility types, stages,
activity types, audiences, sex, age bands, scorecard kinds and statuses, indicator sources,
action statuses, responsible tiers, forum item kinds, grievance categories, support request
types) with Khmer and English labels, at `GET /isaf/reference/code-lists[/{name}]`; see
shared.http.reference."""

from services.isaf import codes  # noqa: F401  (registers the code lists)
from shared.http.reference import reference_router

router = reference_router("isaf")
