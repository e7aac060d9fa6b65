"""Settings of the grievance service (env prefix `GRIEVANCE_`)."""

from functools import cache
from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="GRIEVANCE_", extra="ignore", populate_by_name=True
    )
    service_name: ClassVar[str] = "grievance"


@cache
def get_settings() -> Settings:
    return Settings()
