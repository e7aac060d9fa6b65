"""The grievance service's app: `uvicorn services.grievance.main:app`."""

from fastapi import FastAPI

from services.grievance.config import Settings, get_settings
from services.grievance.consumers import CONSUMERS
from services.grievance.grievances.api import router as grievances_router
from services.grievance.public.api import router as public_router
from services.grievance.reference import router as reference_router
from services.grievance.reports.api import router as reports_router
from services.grievance.sla.scheduler import SlaScheduler
from services.grievance.snapshots.api import router as snapshots_router
from services.grievance.worklists.api import router as worklists_router
from shared.clock import Clock
from shared.service_app import create_service_app

DESCRIPTION = (
    "Citizens' complaints and feedback from every channel, routing by tier, SLA escalation "
    "and public tracking."
)


async def run_sla_scheduler(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    if not settings.sla_scheduler_enabled:
        return
    scheduler = SlaScheduler(
        app.state.database,
        app.state.clock,
        interval_seconds=settings.sla_interval_seconds,
        batch_size=settings.sla_batch_size,
    )
    await scheduler.run_forever()


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    app = create_service_app(
        settings or get_settings(),
        title="Grievance and feedback",
        description=DESCRIPTION,
        routers=[
            grievances_router,
            worklists_router,
            reports_router,
            public_router,
            snapshots_router,
            reference_router,
        ],
        consumers=CONSUMERS,
        background=[run_sla_scheduler],
        clock=clock,
    )
    return app


app = create_app()
