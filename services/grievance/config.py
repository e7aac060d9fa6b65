"""Settings of the grievance service (env prefix `GRIEVANCE_`)."""

from functools import cache
from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from services.grievance.routing.rules import REOPEN_DAYS
from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="GRIEVANCE_", extra="ignore", populate_by_name=True
    )
    service_name: ClassVar[str] = "grievance"

    # Twice the platform default: SQLAlchemy closes an overflow connection as soon as it is
    # returned, so bursts of public submissions beyond the pool opened (TLS attempt, auth,
    # backend start) and closed a connection per request (bench: 54 -> 93 submissions/s).
    database_pool_size: int = 20
    # The SLA scheduler: one pass every interval; one replica works at a time (advisory lock).
    sla_scheduler_enabled: bool = True
    sla_interval_seconds: float = 60.0
    sla_batch_size: int = 5_000
    # How long after resolution a complainant may reopen with the tracking code.
    reopen_days: int = REOPEN_DAYS
    # "About to breach" in the worklists: deadlines within this many hours.
    due_soon_hours: int = 24
    # Failed tracking-code lookups a client may make per hour before it gets 429.
    tracking_failures_per_hour: int = 20


@cache
def get_settings() -> Settings:
    return Settings()
