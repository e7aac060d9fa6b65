"""The isaf service's app: `uvicorn services.isaf.main:app`."""

from fastapi import FastAPI

from services.isaf.config import Settings, get_settings
from shared.service_app import create_service_app

DESCRIPTION = (
    "I-SAF cycles: CAFs and trainings, information for citizens, community scorecards, self-"
    "assessments, interface meetings, JAAPs and public forums."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        settings or get_settings(),
        title="Social accountability (I-SAF)",
        description=DESCRIPTION,
    )


app = create_app()
