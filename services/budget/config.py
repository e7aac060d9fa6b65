"""Settings of the budget service (env prefix `BUDGET_`)."""

from functools import cache
from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BUDGET_", extra="ignore", populate_by_name=True)
    service_name: ClassVar[str] = "budget"


@cache
def get_settings() -> Settings:
    return Settings()
