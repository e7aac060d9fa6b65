"""Cambodia's administrative units and their NCDD gazetteer codes.

Every place the platform records -- a household's village, the commune an office serves,
the area a principal has jurisdiction over -- is stored as an NCDD gazetteer code. A
code's length gives its level: 2 digits a province or the capital, 4 a district,
municipality or khan, 6 a commune or sangkat, 8 a village; each code starts with its
parent's code. This module answers what a code names, what lies above and below it, and
rejects codes that do not exist before they reach storage.

The data is the NCDD gazetteer as published by the pumi project (MIT licence, kept in
data/LICENSE-pumi.txt beside the YAML). Parsing that YAML takes seconds, so the platform
reads only data/gazetteer.tsv, compiled from it by ``python -m shared.gazetteer.build``,
which loads in a few milliseconds. Rebuild and commit both whenever the YAML changes.

Request schemas use the annotated types ``LocationCode``, ``ProvinceCode``,
``DistrictCode``, ``CommuneCode`` and ``VillageCode``: they restore the leading zero that
spreadsheet exports drop, check the code exists at the right level, and show the code
pattern in OpenAPI, with a `format` naming the gazetteer (`ncdd-code`, `ncdd-province`,
`ncdd-district`, `ncdd-commune`, `ncdd-village`): a pattern alone would promise that any
digits are a place, and a client (or a fuzzer) would send codes that do not exist.
"""

import functools
import re
from bisect import bisect_left
from collections.abc import Set
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from shared.tiers import Tier, tier_for_code

__all__ = [
    "CODE_PATTERN",
    "DATA_DIR",
    "TSV_PATH",
    "AdminUnit",
    "CommuneCode",
    "DistrictCode",
    "Gazetteer",
    "InvalidLocationCode",
    "Level",
    "LocationCode",
    "ProvinceCode",
    "VillageCode",
    "get_gazetteer",
    "normalise_code",
]

DATA_DIR = Path(__file__).parent / "data"
TSV_PATH = DATA_DIR / "gazetteer.tsv"


class Level(StrEnum):
    """How deep a unit sits; the capital counts as a province, khans as districts and
    sangkats as communes, as in the gazetteer itself."""

    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"
    VILLAGE = "village"

    @property
    def code_length(self) -> int:
        return _CODE_LENGTH[self]


_CODE_LENGTH: dict[Level, int] = {
    Level.PROVINCE: 2,
    Level.DISTRICT: 4,
    Level.COMMUNE: 6,
    Level.VILLAGE: 8,
}
_LEVEL_BY_LENGTH: dict[int, Level] = {length: level for level, length in _CODE_LENGTH.items()}

CODE_PATTERN = r"^[0-9]{2}([0-9]{2}){0,3}$"
# [0-9], not \d: \d also matches Khmer and other non-ASCII digits, which no code contains.
_WELL_FORMED = re.compile(r"[0-9]{2}(?:[0-9]{2}){0,3}")


class InvalidLocationCode(ValueError):
    """A code that is malformed, not in the gazetteer, or of the wrong level.

    The message is a sentence meant for the person who typed the code.
    """


def _quote(raw: object) -> str:
    # Messages echo the input; cap it so a pasted paragraph does not end up in logs.
    text = str(raw)
    return repr(text if len(text) <= 20 else text[:19] + "…")


def _malformed(raw: object) -> InvalidLocationCode:
    return InvalidLocationCode(f"{_quote(raw)} must be 2, 4, 6 or 8 digits")


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def normalise_code(raw: str | int) -> str:
    """The canonical code for user or spreadsheet input, or InvalidLocationCode.

    NCDD exports and spreadsheets store codes as numbers, which drops the leading zero of
    provinces 01-09 ("301" for district 0301); an odd digit count can only mean that, so
    one zero is restored. Existence is not checked here; see Gazetteer.require.
    """
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise TypeError(f"a location code must be a str or int, not {type(raw).__name__}")
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit()):
        raise _malformed(raw)
    if len(text) % 2:
        text = "0" + text
    if len(text) not in _LEVEL_BY_LENGTH:
        raise _malformed(raw)
    return text


@dataclass(frozen=True, slots=True)
class AdminUnit:
    """One province, district, commune or village.

    name_en is the official Latin-script romanisation of the Khmer name (e.g. "Tuek Thla"),
    not an English translation. unit_type_en is the gazetteer's English term, which says
    "Section" for a khan and "Quarter" for a sangkat.
    """

    code: str
    level: Level
    name_km: str
    name_en: str
    unit_type_km: str
    unit_type_en: str

    @property
    def parent_code(self) -> str | None:
        return self.code[:-2] or None

    @property
    def tier(self) -> Tier | None:
        """The administration that governs this unit; villages have none of their own."""
        return tier_for_code(self.code)


class Gazetteer:
    """Lookups over the compiled gazetteer; obtain the shared one with get_gazetteer()."""

    def __init__(self, tsv: bytes) -> None:
        """tsv is the compiled file's content, sorted by code as build.py writes it."""
        # Building 16,000 objects up front costs tens of milliseconds, so rows stay as
        # undecoded bytes and become AdminUnits when asked for. The file is sorted by code
        # and a tab sorts before any digit, so the rows are in code order and bisect finds
        # a code, and every code under a prefix, directly.
        rows = tsv.split(b"\n")
        if rows and not rows[-1]:
            rows.pop()
        self._rows = rows
        self._units: dict[str, AdminUnit] = {}

    @classmethod
    def from_path(cls, path: Path | str) -> "Gazetteer":
        return cls(Path(path).read_bytes())

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"<Gazetteer of {len(self)} units>"

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.get(code) is not None

    def get(self, code: str) -> AdminUnit | None:
        """The unit with exactly this code, or None; the code is not normalised."""
        if not isinstance(code, str):
            return None
        unit = self._units.get(code)
        if unit is None and _WELL_FORMED.fullmatch(code):
            key = code.encode("ascii") + b"\t"
            index = bisect_left(self._rows, key)
            if index < len(self._rows) and self._rows[index].startswith(key):
                unit = self._unit(self._rows[index])
        return unit

    def require(self, code: str, *, level: Level | Set[Level] | None = None) -> AdminUnit:
        """The unit with this code, or InvalidLocationCode saying what is wrong with it."""
        if isinstance(level, str):
            wanted: Set[Level] | None = {Level(level)}
        elif level is not None:
            wanted = {Level(item) for item in level}
            if not wanted:
                raise ValueError("level must name at least one Level")
        else:
            wanted = None

        if not isinstance(code, str) or not _WELL_FORMED.fullmatch(code):
            raise _malformed(code)
        actual = _LEVEL_BY_LENGTH[len(code)]
        unit = self.get(code)
        if wanted is not None and actual not in wanted:
            ordered = sorted(wanted, key=_CODE_LENGTH.__getitem__)
            names = _join([str(item) for item in ordered])
            digits = _join([str(item.code_length) for item in ordered])
            required = f"a {names} code ({digits} digits) is required"
            # Only call it "a district" when it is one; an unknown code just has a length.
            if unit is None:
                raise InvalidLocationCode(f"'{code}' has {len(code)} digits; {required}")
            raise InvalidLocationCode(f"'{code}' is a {actual}; {required}")
        if unit is None:
            raise InvalidLocationCode(f"'{code}' is not a {actual} in the NCDD gazetteer")
        return unit

    def chain(self, code: str) -> list[AdminUnit]:
        """The unit's ancestors and itself, province first: [province, ..., unit]."""
        self.require(code)
        return [self.require(code[:length]) for length in range(2, len(code) + 1, 2)]

    def children(self, code: str) -> list[AdminUnit]:
        """Units directly below code, sorted by code; "" gives the provinces."""
        if code == "":
            return self.descendants("", Level.PROVINCE)
        unit = self.require(code)
        if unit.level is Level.VILLAGE:
            return []
        return self.descendants(code, _LEVEL_BY_LENGTH[len(code) + 2])

    def provinces(self) -> list[AdminUnit]:
        return self.descendants("", Level.PROVINCE)

    def count(self, level: Level) -> int:
        return len(self._rows_by_level[Level(level)])

    def descendants(self, code: str, level: Level) -> list[AdminUnit]:
        """Every unit of the given level below code, sorted by code; "" means the country.

        For example descendants("12", Level.COMMUNE) lists the sangkats of Phnom Penh.
        """
        level = Level(level)
        if code != "":
            unit = self.require(code)
            if level.code_length <= len(code):
                raise ValueError(f"there is no {level} below {unit.level} '{code}'")
        rows = self._rows_by_level[level]
        prefix = code.encode("ascii")
        # ":" is the byte after "9", so this bound is just past every code with the prefix.
        start = bisect_left(rows, prefix)
        stop = bisect_left(rows, prefix + b":", start)
        return [self._unit(row) for row in rows[start:stop]]

    @functools.cached_property
    def _rows_by_level(self) -> dict[Level, list[bytes]]:
        # Built on first use rather than at load: most processes only ever call require().
        by_length: dict[int, list[bytes]] = {length: [] for length in _LEVEL_BY_LENGTH}
        for row in self._rows:
            by_length[row.index(b"\t")].append(row)
        return {level: by_length[level.code_length] for level in Level}

    def _unit(self, row: bytes) -> AdminUnit:
        code = row[: row.index(b"\t")].decode("ascii")
        unit = self._units.get(code)
        if unit is None:
            _, name_km, name_en, unit_type_km, unit_type_en = row.decode("utf-8").split("\t")
            unit = AdminUnit(
                code, _LEVEL_BY_LENGTH[len(code)], name_km, name_en, unit_type_km, unit_type_en
            )
            self._units[code] = unit
        return unit


@functools.cache
def get_gazetteer() -> Gazetteer:
    """The process-wide gazetteer, read from data/gazetteer.tsv on first use."""
    return Gazetteer.from_path(TSV_PATH)


def _validator(levels: Set[Level] | None) -> BeforeValidator:
    def validate(value: Any) -> Any:
        # Anything but str or int is left to the str schema, which rejects it with
        # pydantic's usual "Input should be a valid string".
        if isinstance(value, bool) or not isinstance(value, str | int):
            return value
        try:
            code = normalise_code(value)
            get_gazetteer().require(code, level=levels)
        except InvalidLocationCode as exc:
            # A custom error keeps the reason as the whole message; a plain ValueError
            # would be reported as "Value error, ...".
            raise PydanticCustomError("location_code", "{reason}", {"reason": str(exc)}) from None
        return code

    return BeforeValidator(validate)


# The whole check is a BeforeValidator on purpose. OpenAPI shows the pattern only if the
# constraint sits on the inner str schema, and that runs before any AfterValidator, so a
# short code would fail with pydantic's generic "String should match pattern" instead of
# our reason. Checked first, the pattern can never fail. The aliases are spelt out, not
# built by a helper, so type checkers see them as str.
LocationCode = Annotated[
    str,
    StringConstraints(pattern=CODE_PATTERN),
    Field(
        description="NCDD gazetteer code of a province (2 digits), district (4), "
        "commune (6) or village (8); it must exist in the gazetteer "
        "(GET /registry/reference/gazetteer)",
        examples=["1208"],
        json_schema_extra={"format": "ncdd-code"},
    ),
    _validator(None),
]
ProvinceCode = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{2}$"),
    Field(
        description="NCDD gazetteer code of a province or the capital; it must exist in the "
        "gazetteer (GET /registry/reference/gazetteer)",
        examples=["12"],
        json_schema_extra={"format": "ncdd-province"},
    ),
    _validator({Level.PROVINCE}),
]
DistrictCode = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{4}$"),
    Field(
        description="NCDD gazetteer code of a district, municipality or khan; it must exist in "
        "the gazetteer (GET /registry/reference/gazetteer)",
        examples=["1208"],
        json_schema_extra={"format": "ncdd-district"},
    ),
    _validator({Level.DISTRICT}),
]
CommuneCode = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{6}$"),
    Field(
        description="NCDD gazetteer code of a commune or sangkat; it must exist in the gazetteer "
        "(GET /registry/reference/gazetteer)",
        examples=["120801"],
        json_schema_extra={"format": "ncdd-commune"},
    ),
    _validator({Level.COMMUNE}),
]
VillageCode = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{8}$"),
    Field(
        description="NCDD gazetteer code of a village; it must exist in the gazetteer "
        "(GET /registry/reference/gazetteer)",
        examples=["12080102"],
        json_schema_extra={"format": "ncdd-village"},
    ),
    _validator({Level.VILLAGE}),
]
