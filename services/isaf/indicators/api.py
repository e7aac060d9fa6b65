"""Public routes of the indicator catalogue and the rating scale: what a tablet downloads
before a sitting (no login; nothing personal)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from services.isaf.codes import SCALE, FacilityType
from services.isaf.indicators.catalogue import CATALOGUE, CURRENT_VERSION, standard
from shared.http.language import LanguageDep
from shared.problems import Problem

router = APIRouter(tags=["indicators"])


class IndicatorRead(BaseModel):
    code: str = Field(examples=["HC04"])
    facility_type: FacilityType
    version: int
    name_km: str
    name_en: str
    name: str = Field(description="In the caller's language (Accept-Language).")
    pictogram: str = Field(description="Path of the pictogram shown beside the indicator.")
    audio: str = Field(description="Path of the Khmer recording read aloud to participants.")


class ScalePoint(BaseModel):
    score: int
    label_km: str
    label_en: str


class Catalogue(BaseModel):
    version: int
    indicators: list[IndicatorRead]
    scale: list[ScalePoint]


@router.get(
    "/indicators",
    summary="The standard indicators per facility type, and the 1-5 rating scale",
    description="Versioned: a scorecard keeps the version it used. Each indicator carries a "
    "pictogram and an audio reference for participants who cannot read.",
)
async def indicator_catalogue(
    language: LanguageDep,
    facility_type: Annotated[
        FacilityType | None,
        Query(description="Only this facility type's indicators.", examples=["health_centre"]),
    ] = None,
    version: Annotated[
        int | None,
        Query(
            ge=min(CATALOGUE),
            le=max(CATALOGUE),
            description="The catalogue version; the current one by default.",
            examples=[1],
        ),
    ] = None,
) -> Catalogue:
    version = version or CURRENT_VERSION
    if version not in CATALOGUE:
        raise Problem.invalid("version", f"known versions: {sorted(CATALOGUE)}")
    types = [facility_type] if facility_type else list(FacilityType)
    indicators = [
        IndicatorRead(
            code=i.code, facility_type=i.facility_type, version=i.version, name_km=i.name_km,
            name_en=i.name_en, name=i.name_km if language == "km" else i.name_en,
            pictogram=i.pictogram, audio=i.audio,
        )
        for t in types
        for i in standard(t, version)
    ]  # fmt: skip
    scale = [ScalePoint(score=s, label_km=v["km"], label_en=v["en"]) for s, v in SCALE.items()]
    return Catalogue(version=version, indicators=indicators, scale=scale)
