"""Khmer and English labels of code lists, declared once beside the enumeration.

A service registers each enumeration a client sees with its labels:

    SEX = code_list("sex", Sex, {"female": ("Female", "ស្រី"), "male": ("Male", "ប្រុស")})

and gets, for free, the labels in its OpenAPI document (`x-enum-labels`, `x-enum-descriptions`
on the enum's schema, see `shared.http.openapi`) and the list in `code_lists()`, which its
reference endpoint serves to portals. Every value must have both labels (checked here, at
import), so a new value cannot ship without them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CodeList:
    name: str  # as portals ask for it: "sex", "poverty-levels"
    enum_name: str  # the enumeration's schema name in OpenAPI
    description: str
    labels: dict[str, tuple[str, str]]  # code -> (English, Khmer), in display order

    def label(self, code: str, language: str) -> str:
        english, khmer = self.labels[code]
        return khmer if language == "km" else english

    def entries(self) -> list[dict[str, Any]]:
        return [{"code": code, "en": en, "km": km} for code, (en, km) in self.labels.items()]


_LISTS: dict[tuple[str, str], CodeList] = {}


def _owner(values: object) -> str:
    """The service that declares a list (`services.<service>....`), else "shared"."""
    parts = (getattr(values, "__module__", "") or "").split(".")
    return parts[1] if parts[0] == "services" and len(parts) > 1 else "shared"


def code_list(
    name: str,
    values: type[enum.Enum] | tuple[str, ...],
    labels: Mapping[str, tuple[str, str]],
    *,
    description: str = "",
    enum_name: str | None = None,
    owner: str | None = None,
) -> CodeList:
    """Register the labels of an enumeration (or of a plain tuple of codes)."""
    codes = [str(v.value) for v in values] if isinstance(values, type) else list(values)
    missing = [c for c in codes if c not in labels]
    extra = [c for c in labels if c not in codes]
    if missing or extra:
        raise ValueError(f"code list {name}: no labels for {missing}, labels without code {extra}")
    for code in codes:
        english, khmer = labels[code]
        if not english.strip() or not khmer.strip():
            raise ValueError(f"code list {name}: {code} needs an English and a Khmer label")
    listed = CodeList(
        name=name,
        enum_name=enum_name or (values.__name__ if isinstance(values, type) else name),
        description=description
        or ((values.__doc__ or "").strip() if isinstance(values, type) else ""),
        labels={code: labels[code] for code in codes},
    )
    _LISTS[(owner or _owner(values), name)] = listed
    return listed


def code_lists(owner: str) -> dict[str, CodeList]:
    """The code lists a service registered, and the platform's own, by name."""
    return {name: c for (o, name), c in sorted(_LISTS.items()) if o in (owner, "shared")}


def enum_labels(
    schema_name: str | None, values: list[Any] | None, owner: str | None = None
) -> dict[str, dict[str, str]] | None:
    """Labels for an enum schema: the registered list of that name holding all its values. An
    inline enum (a `Literal` subset, no name) takes the one list holding all its values, when
    exactly one does."""
    if not values:
        return None
    wanted = [str(v) for v in values]
    # A service's document takes its own lists and the platform's (`owner`): another
    # service's list of the same codes, loaded in the same process, is not its to use.
    lists = [c for (o, _), c in _LISTS.items() if owner is None or o in (owner, "shared")]
    if schema_name is not None:
        candidates = [c for c in lists if c.enum_name == schema_name]
    else:
        candidates = [c for c in lists if set(wanted) <= set(c.labels)]
        if len({tuple(sorted(c.labels.items())) for c in candidates}) != 1:
            return None
    for listed in candidates:
        if set(wanted) <= set(listed.labels):
            return {v: {"en": listed.labels[v][0], "km": listed.labels[v][1]} for v in wanted}
    return None


LANGUAGES = code_list(
    "languages",
    ("km", "en"),
    {"km": ("Khmer", "ខ្មែរ"), "en": ("English", "អង់គ្លេស")},
    description="The languages answers come in (Accept-Language).",
    enum_name="Language",
    owner="shared",
)
