"""The budget service's app: `uvicorn services.budget.main:app`."""

from fastapi import FastAPI

from services.budget.config import Settings, get_settings
from shared.service_app import create_service_app

DESCRIPTION = (
    "Budget envelopes, adaptive allocation down the tiers, releases, expenditure, support "
    "requests between tiers and public disclosure."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        settings or get_settings(),
        title="Social protection budget",
        description=DESCRIPTION,
    )


app = create_app()
