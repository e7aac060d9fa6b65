"""The registry service's app: `uvicorn services.registry.main:app`."""

from fastapi import FastAPI

from services.registry.benefits.api import router as benefits_router
from services.registry.cases.api import router as cases_router
from services.registry.change_requests.api import router as change_requests_router
from services.registry.config import Settings, get_settings
from services.registry.consumers import CONSUMERS
from services.registry.dci.api import router as dci_router
from services.registry.duplicates.api import router as duplicates_router
from services.registry.enrolments.api import router as enrolments_router
from services.registry.households.api import router as households_router
from services.registry.imports.api import router as imports_router
from services.registry.imports.service import import_worker
from services.registry.programmes.api import router as programmes_router
from services.registry.reference.api import router as reference_router
from services.registry.reports.api import router as reports_router
from services.registry.retention.service import retention_worker
from services.registry.snapshots.api import router as snapshots_router
from services.registry.verification.api import router as verification_router
from shared.clock import Clock
from shared.service_app import create_service_app

DESCRIPTION = (
    "Households, members, poverty status (IDPoor), programmes, enrolments, benefits, cases, "
    "change requests, imports, duplicates and the DCI social-registry API."
)

# One line per aggregate's router and per consumer. The hot reads' routers come first: the
# router tries routes in order, and every route tried costs a request some microseconds.
ROUTERS = [
    verification_router,
    households_router,
    dci_router,
    duplicates_router,
    programmes_router,
    enrolments_router,
    benefits_router,
    cases_router,
    change_requests_router,
    reports_router,
    imports_router,
    snapshots_router,
    reference_router,
]
# Work the service process runs beside its requests (imports resume after a restart; what is
# kept only for a while is purged).
BACKGROUND = [import_worker, retention_worker]


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    return create_service_app(
        settings or get_settings(),
        title="Beneficiary registry",
        description=DESCRIPTION,
        routers=ROUTERS,
        consumers=CONSUMERS,
        background=BACKGROUND,
        clock=clock,
    )


app = create_app()
