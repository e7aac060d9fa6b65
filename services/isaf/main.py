"""The isaf service's app: `uvicorn services.isaf.main:app`."""

from fastapi import FastAPI

from services.isaf.activities.api import router as activities_router
from services.isaf.cafs.api import router as cafs_router
from services.isaf.config import Settings, get_settings
from services.isaf.consumers import CONSUMERS
from services.isaf.cycles.api import router as cycles_router
from services.isaf.forums.api import router as forums_router
from services.isaf.indicators.api import router as indicators_router
from services.isaf.jaaps.api import router as jaaps_router
from services.isaf.public.api import router as public_router
from services.isaf.reference import router as reference_router
from services.isaf.reports.api import router as reports_router
from services.isaf.scorecards.api import router as scorecards_router
from shared.clock import Clock
from shared.service_app import create_service_app

DESCRIPTION = (
    "I-SAF cycles: CAFs and trainings, information for citizens, community scorecards, self-"
    "assessments, interface meetings, JAAPs and public forums."
)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    return create_service_app(
        settings or get_settings(),
        title="Social accountability (I-SAF)",
        description=DESCRIPTION,
        routers=[
            cycles_router, cafs_router, activities_router, indicators_router,
            scorecards_router, jaaps_router, forums_router, reports_router, public_router,
            reference_router,
        ],
        consumers=CONSUMERS,
        clock=clock,
    )  # fmt: skip


app = create_app()
