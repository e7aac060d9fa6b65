"""The budget service's app: `uvicorn services.budget.main:app`."""

from fastapi import FastAPI

from services.budget.allocations.api import router as allocations_router
from services.budget.config import Settings, get_settings
from services.budget.consumers import CONSUMERS
from services.budget.expenditures.api import router as expenditures_router
from services.budget.formulas.api import router as formulas_router
from services.budget.indicators.api import router as indicators_router
from services.budget.planning.api import router as planning_router
from services.budget.public.api import router as public_router
from services.budget.reference import router as reference_router
from services.budget.releases.api import router as releases_router
from services.budget.reports.api import router as reports_router
from services.budget.support.api import router as support_router
from shared.clock import Clock
from shared.service_app import create_service_app

DESCRIPTION = (
    "Budget envelopes, adaptive allocation down the tiers, releases, expenditure, support "
    "requests between tiers and public disclosure. Amounts are whole riel. Allocation is "
    "exact: one largest-remainder rounding of each unit's total, equal remainders to the "
    "lowest unit code first; a weighted component whose indicator sums to zero over the "
    "units refuses the run naming the component unless the formula asks for an equal share "
    "instead; a run is approved by an approver of the allocating unit who did not propose it."
)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    return create_service_app(
        settings or get_settings(),
        title="Social protection budget",
        description=DESCRIPTION,
        routers=[
            reference_router,
            planning_router,
            formulas_router,
            indicators_router,
            allocations_router,
            releases_router,
            expenditures_router,
            support_router,
            reports_router,
            public_router,
        ],
        consumers=CONSUMERS,
        clock=clock,
    )


app = create_app()
