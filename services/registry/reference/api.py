"""Reference data for portals: the registry's code lists and Cambodia's gazetteer.

`GET /reference/code-lists[/{name}]` (shared.http.reference) serves the lists registered in
`codes.py`; the gazetteer is browsed as a tree (`GET /reference/gazetteer` gives the provinces,
`GET /reference/gazetteer/{code}` a unit with its parents and children) and searched by Khmer
or Latin name (`GET /reference/gazetteer/search?q=`); `GET /reference/programmes` names the
programmes. Everything here is public, the same for
every caller, and cacheable (`ETag`, `If-None-Match` -> 304).
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Annotated

from fastapi import Header, Path, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from services.registry.programmes.models import Programme
from services.registry.reference import codes  # noqa: F401  (registers the code lists)
from shared.db import SessionDep
from shared.gazetteer import AdminUnit, Level, get_gazetteer, normalise_code
from shared.http.caching import ETAG_HEADERS, IF_NONE_MATCH, NOT_MODIFIED, cached_json
from shared.http.language import LanguageDep
from shared.http.reference import reference_router
from shared.problems import Problem, field_error

router = reference_router("registry")
_CACHED = {200: {"headers": ETAG_HEADERS}, **NOT_MODIFIED}


class Unit(BaseModel):
    """One province, district, commune or village of the NCDD gazetteer."""

    code: str = Field(description="NCDD gazetteer code.", examples=["120801"])
    level: Level
    name: str = Field(description="In the language asked for (Accept-Language).")
    name_km: str = Field(examples=["ភ្នំពេញថ្មី"])
    name_en: str = Field(description="Latin-script name.", examples=["Phnom Penh Thmei"])
    unit_type_km: str
    unit_type_en: str = Field(examples=["Sangkat"])


class Units(BaseModel):
    """Units of the gazetteer, in code order."""

    language: str
    total: int = Field(description="How many units the answer holds.")
    items: list[Unit]


class UnitTree(BaseModel):
    """A unit with the units above it (province first) and those directly below it."""

    language: str
    unit: Unit
    parents: list[Unit]
    children: list[Unit]


def _unit(unit: AdminUnit, language: str) -> dict:
    return {
        "code": unit.code,
        "level": unit.level.value,
        "name": unit.name_km if language == "km" else unit.name_en,
        "name_km": unit.name_km,
        "name_en": unit.name_en,
        "unit_type_km": unit.unit_type_km,
        "unit_type_en": unit.unit_type_en,
    }


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold().strip()


@functools.cache
def _index() -> list[tuple[str, str, str]]:
    """(code, folded Khmer name, folded Latin name) of every unit, built on first search."""
    gazetteer = get_gazetteer()
    return [
        (u.code, _fold(u.name_km), _fold(u.name_en))
        for level in Level
        for u in gazetteer.descendants("", level)
    ]


@router.get(
    "/reference/gazetteer",
    summary="The provinces and the capital",
    response_model=Units,
    responses=_CACHED,
    response_description="The 25 provinces, in code order.",
)
async def list_gazetteer_provinces(
    request: Request,
    language: LanguageDep,
    if_none_match: Annotated[str | None, Header(**IF_NONE_MATCH)] = None,
) -> Response:
    """The top of the gazetteer tree; follow a unit's code to its children."""
    units = [_unit(u, language) for u in get_gazetteer().provinces()]
    return cached_json(request, {"language": language, "total": len(units), "items": units})


@router.get(
    "/reference/gazetteer/search",
    summary="Find places by name, in Khmer or Latin script",
    response_model=Units,
    responses=_CACHED,
    response_description="Matching units, names starting with the text first, then code order.",
)
async def search_gazetteer(
    request: Request,
    language: LanguageDep,
    q: Annotated[
        str,
        Query(
            min_length=2,
            max_length=100,
            description="Part of the name, Khmer or Latin script (case does not matter).",
            examples=["Tuek Thla"],
        ),
    ],
    level: Annotated[Level | None, Query(description="Only units of this level.")] = None,
    within: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9]{2}([0-9]{2}){0,2}$",
            description="Only units under this province, district or commune code.",
            examples=["12"],
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="At most this many.")] = 20,
    if_none_match: Annotated[str | None, Header(**IF_NONE_MATCH)] = None,
) -> Response:
    """For a place picker: type a few letters, pick the unit. `within` and `level` narrow it
    (the villages of one commune, say)."""
    text = _fold(q)
    if not text.replace(" ", ""):
        raise Problem(422, "q: give some letters", errors=[field_error(["query", "q"], "blank")])
    prefix = within or ""
    length = Level(level).code_length if level else None
    starts, contains = [], []
    for code, km, en in _index():
        if not code.startswith(prefix) or (length and len(code) != length):
            continue
        if km.startswith(text) or en.startswith(text):
            starts.append(code)
        elif text in km or text in en:
            contains.append(code)
    gazetteer = get_gazetteer()
    found = [_unit(gazetteer.require(c), language) for c in (starts + contains)[:limit]]
    return cached_json(request, {"language": language, "total": len(found), "items": found})


@router.get(
    "/reference/gazetteer/{code}",
    summary="A place with its parents and children",
    response_model=UnitTree,
    responses=_CACHED,
    response_description="The unit, the units above it and those directly below it.",
)
async def get_gazetteer_unit(
    request: Request,
    language: LanguageDep,
    code: Annotated[
        str,
        Path(
            pattern=r"^[0-9]{2}([0-9]{2}){0,3}$",
            description="NCDD gazetteer code (2, 4, 6 or 8 digits).",
            examples=["1208"],
        ),
    ],
    if_none_match: Annotated[str | None, Header(**IF_NONE_MATCH)] = None,
) -> Response:
    """One step down the tree: a district gives its communes, a commune its villages."""
    gazetteer = get_gazetteer()
    unit = gazetteer.get(normalise_code(code))
    if unit is None:
        raise Problem.not_found(f"Place {code}")
    body = {
        "language": language,
        "unit": _unit(unit, language),
        "parents": [_unit(u, language) for u in gazetteer.chain(unit.code)[:-1]],
        "children": [_unit(u, language) for u in gazetteer.children(unit.code)],
    }
    return cached_json(request, body)


class ProgrammeItem(BaseModel):
    """A programme as a form offers it (a grievance about a programme names its code)."""

    code: str = Field(examples=["FAMILY_PACKAGE"])
    name: str = Field(description="In the language asked for (Accept-Language).")
    name_km: str
    name_en: str
    target: str = Field(description="household or individual (code list programme-targets).")
    active: bool


class Programmes(BaseModel):
    """The programmes, by code."""

    language: str
    total: int
    items: list[ProgrammeItem]


@router.get(
    "/reference/programmes",
    summary="The social protection programmes, with Khmer and English names",
    response_model=Programmes,
    responses=_CACHED,
    response_description="Every programme by code, active ones and closed ones.",
)
async def list_reference_programmes(
    request: Request,
    language: LanguageDep,
    session: SessionDep,
    if_none_match: Annotated[str | None, Header(**IF_NONE_MATCH)] = None,
) -> Response:
    """For the programme choices of a form (the public grievance form included): codes and
    names only, public; the rules and amounts are at `GET /registry/programmes` for staff."""
    rows = (await session.execute(select(Programme).order_by(Programme.code))).scalars().all()
    items = [
        {
            "code": p.code,
            "name": p.name_km if language == "km" else p.name_en,
            "name_km": p.name_km,
            "name_en": p.name_en,
            "target": p.target,
            "active": p.active,
        }
        for p in rows
    ]
    return cached_json(request, {"language": language, "total": len(items), "items": items})
