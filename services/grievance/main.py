"""The grievance service's app: `uvicorn services.grievance.main:app`."""

from fastapi import FastAPI

from services.grievance.config import Settings, get_settings
from shared.service_app import create_service_app

DESCRIPTION = (
    "Citizens' complaints and feedback from every channel, routing by tier, SLA escalation "
    "and public tracking."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        settings or get_settings(),
        title="Grievance and feedback",
        description=DESCRIPTION,
    )


app = create_app()
