"""Schemathesis hooks (`SCHEMATHESIS_HOOKS=tests.contract.fuzz_hooks`): values for the string
formats our document declares beyond JSON Schema's own.

A gazetteer code is not any string of digits: the document says `format: ncdd-village` (and
`ncdd-code`, `ncdd-province`, `ncdd-district`, `ncdd-commune`), and here those formats draw
real codes from the gazetteer, so a "valid" request really is one.
"""

from __future__ import annotations

import uuid

import schemathesis
from hypothesis import strategies as st

from services.registry.households.codes import format_household_code
from shared.gazetteer import Level, get_gazetteer


def _codes(level: Level) -> list[str]:
    return [unit.code for unit in get_gazetteer().descendants("", level)]


_LEVELS = {
    "ncdd-province": [Level.PROVINCE],
    "ncdd-district": [Level.DISTRICT],
    "ncdd-commune": [Level.COMMUNE],
    "ncdd-village": [Level.VILLAGE],
    "ncdd-code": list(Level),
}
# The demo communes' places come first, so requests land where the test data lives.
_HOME = ["12", "1208", "120801", "120802", "12080102", "12080204"]

for name, levels in _LEVELS.items():
    codes = sorted({c for level in levels for c in _codes(level)})
    home = [c for c in _HOME if c in set(codes)]
    schemathesis.openapi.format(name, st.sampled_from(home) | st.sampled_from(codes))


_LEVELS_EXTRA = {
    "ncdd-area": [Level.PROVINCE, Level.DISTRICT, Level.COMMUNE],
    "ncdd-commune-or-village": [Level.COMMUNE, Level.VILLAGE],
}
for name, levels in _LEVELS_EXTRA.items():
    codes = sorted({c for level in levels for c in _codes(level)})
    home = [c for c in _HOME if c in set(codes)]
    schemathesis.openapi.format(name, st.sampled_from(home) | st.sampled_from(codes))

# Where an I-SAF cycle can be: a commune/sangkat or an urban khan (services/isaf/areas.py).
_URBAN_KHANS = sorted(
    u.code for u in get_gazetteer().descendants("", Level.DISTRICT) if u.unit_type_en == "Section"
)
schemathesis.openapi.format(
    "ncdd-urban-khan",
    st.sampled_from([c for c in _HOME if c in set(_URBAN_KHANS)]) | st.sampled_from(_URBAN_KHANS),
)
_CYCLE_AREAS = sorted({*_codes(Level.COMMUNE), *_URBAN_KHANS})
schemathesis.openapi.format(
    "ncdd-cycle-area",
    st.sampled_from([c for c in _HOME if c in set(_CYCLE_AREAS)]) | st.sampled_from(_CYCLE_AREAS),
)

# A Cambodian phone number as people write it: 0, then 8 or 9 digits.
schemathesis.openapi.format("kh-phone", st.from_regex(r"\A0[1-9][0-9]{7,8}\Z").map(str))

# A household code's last digit checks the others (services/registry/households/codes.py).
schemathesis.openapi.format("household-code", st.integers(0, 99_999_999).map(format_household_code))


@schemathesis.hook
def before_call(context, case, kwargs):
    """A client sends a fresh Idempotency-Key with each new request (the document says a key
    names one request); generated keys repeat ("0"), which the API rightly refuses as reuse.
    Likewise an update names the version it changes, which only the server knows."""
    for name in list(case.headers or ()):
        if name.lower() == "idempotency-key":
            case.headers[name] = str(uuid.uuid4())
        elif name.lower() == "if-match":
            # Whatever version the record is at: a stale ETag is a 412 by design, and a
            # generated one is always stale.
            case.headers[name] = "*"


_YEARS = range(2000, 2101)


def _year(value: object) -> int | None:
    """A year as generated (an integer, or its digits), else None (negative cases: left)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


@schemathesis.hook
def map_query(context, query):
    """What a client sends as the document describes it: a `cursor` only as a list returned it
    (`next_cursor`; no client invents one), a period's end not before its start, and a period of
    years no longer than its parameter's description allows."""
    if not query:
        return query
    query.pop("cursor", None)
    for start, end in (("from", "to"), ("submitted_from", "submitted_to")):
        if query.get(start) and query.get(end) and str(query[end]) < str(query[start]):
            query[start], query[end] = query[end], query[start]
    # An I-SAF report's years: `to_year` not before `from_year`, at most 20 years after it.
    # Only years inside the documented range (2000-2100): a negative case stays negative.
    first, last = _year(query.get("from_year")), _year(query.get("to_year"))
    if first in _YEARS and last in _YEARS:
        first, last = min(first, last), max(first, last)
        query["from_year"], query["to_year"] = first, min(last, first + 20)
    return query
