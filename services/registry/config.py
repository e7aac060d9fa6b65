"""Settings of the registry service (env prefix `REGISTRY_`)."""

from functools import cache
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore", populate_by_name=True)
    service_name: ClassVar[str] = "registry"

    # Cases: days until a case is due when staff give no date, and until a reassessment case
    # opened by an upheld grievance is due (REGISTRY_CASE_DUE_DAYS, REGISTRY_REASSESSMENT_DUE_DAYS).
    case_due_days: int = Field(default=30, ge=1, le=365)
    reassessment_due_days: int = Field(default=30, ge=1, le=365)


@cache
def get_settings() -> Settings:
    return Settings()
