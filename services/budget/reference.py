"""Reference data for portals: the budget code lists (budget lines, support-request types and
statuses, allocation-run statuses, tiers, unit levels, the zero-total rule) with Khmer and
English labels, at `GET /budget/reference/code-lists[/{name}]`; see shared.http.reference."""

from services.budget import codes  # noqa: F401  (registers the code lists)
from shared.http.reference import reference_router

router = reference_router("budget")
