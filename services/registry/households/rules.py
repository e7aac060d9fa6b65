"""The household rulebook: every rule about a household, its members and its IDPoor status
that cannot be checked field by field, in one place.

The API (households.service: registration, member add/update), the import checker
(imports.parsing.RowChecker, and the check of generations across a file's rows) and the
change requests (applied through the same service functions) all call these functions, so a
household the API refuses cannot get in through a file, and the other way round.

Pure functions: no I/O, no clock. The date the rules judge against (`on`: today in Cambodia,
`shared.clock.today()`) is passed in by the caller. Values are plain mappings (a member's
fields by name; the enums are `StrEnum`s, so plain strings from a file compare equal), and
each broken rule is a `FieldError` naming the field, with a stable `code`:

    required         a value the rule needs is missing
    future_date      a date after `on` that must not be
    impossible_date  a date that cannot be (an age over 120, a due date out of range)
    impossible_value a value that cannot be for this person (a pregnant man, aged 70)
    invalid_value    a value given where it does not belong (a due date without a pregnancy)
    age_gap          the generations are in the wrong order for the relationship
    duplicate        the same value twice where it must be unique
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from services.registry.households.models import PovertyLevel, Relationship, Sex
from shared.problems import FieldError, field_error

Path = list[str | int]

# Plausibility of ages (years). A parent is at least this much older than their child; the
# margin shrinks when either birth date is only estimated.
OLDEST_AGE = 120
PARENT_GAP = 12
GRANDPARENT_GAP = 26
ESTIMATE_SLACK = 3
PREGNANCY_AGES = (10, 60)
PREGNANCY_MAX_DAYS = 300  # about ten months
# The relationships whose birth dates are judged against the head's.
AGE_GAP_RELATIONSHIPS = (Relationship.CHILD, Relationship.GRANDCHILD, Relationship.PARENT)

POOR_LEVELS = (PovertyLevel.POOR_1, PovertyLevel.POOR_2)
POVERTY_FIELDS = (
    "level",
    "score",
    "method",
    "round_number",
    "assessed_on",
    "valid_until",
    "equity_card_number",
)
# An UNASSESSED household carries none of these.
UNASSESSED_EMPTY = ("score", "method", "round_number", "assessed_on", "valid_until")


# --- dates ----------------------------------------------------------------------------------


def shift_years(day: date, years: int) -> date:
    """The same day `years` later (earlier when negative); 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def years_before(day: date, years: int) -> date:
    return shift_years(day, -years)


def age_on(birth: date, day: date) -> int:
    """Age in whole years on `day`."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@functools.lru_cache(maxsize=16)
def oldest_birth_date(on: date) -> date:
    """The earliest plausible birth date on `on` (an age of OLDEST_AGE). Remembered per
    day: an import asks it for every row."""
    return years_before(on, OLDEST_AGE)


@functools.lru_cache(maxsize=16)
def latest_due_date(on: date) -> date:
    return on + timedelta(days=PREGNANCY_MAX_DAYS)


# --- one member -----------------------------------------------------------------------------


def member_errors(
    values: Mapping[str, Any],
    path: Path,
    *,
    head: Mapping[str, Any] | None,
    on: date,
) -> list[FieldError]:
    """Impossible dates and combinations in one member's values. `head` is the head's values
    when this member is not the head and the head is known (None: no generation check).

    A value that is missing (None) because it failed to parse is left to the field checks:
    the rules that need it are skipped."""
    errors: list[FieldError] = []
    birth: date | None = values.get("birth_date")
    if birth is not None:
        if birth > on:
            errors.append(field_error([*path, "birth_date"], "is in the future", "future_date"))
            birth = None
        elif birth < oldest_birth_date(on):
            errors.append(
                field_error(
                    [*path, "birth_date"],
                    f"is more than {OLDEST_AGE} years ago",
                    "impossible_date",
                )
            )
            birth = None
        elif head is not None and head.get("birth_date") is not None:
            reason = relationship_age_error(values, head)
            if reason:
                errors.append(field_error([*path, "birth_date"], reason, "age_gap"))

    if values.get("pregnant"):
        sex = values.get("sex")
        if sex is not None and sex != Sex.FEMALE:
            errors.append(
                field_error(
                    [*path, "pregnant"], "only a female member can be pregnant", "impossible_value"
                )
            )
        elif birth is not None and not PREGNANCY_AGES[0] <= age_on(birth, on) <= PREGNANCY_AGES[1]:
            errors.append(
                field_error(
                    [*path, "pregnant"],
                    f"implausible at age {age_on(birth, on)} "
                    f"(between {PREGNANCY_AGES[0]} and {PREGNANCY_AGES[1]})",
                    "impossible_value",
                )
            )
        expected = values.get("pregnancy_expected_on")
        if expected is None:
            errors.append(
                field_error(
                    [*path, "pregnancy_expected_on"], "required when pregnant is true", "required"
                )
            )
        elif not on < expected <= latest_due_date(on):
            errors.append(
                field_error(
                    [*path, "pregnancy_expected_on"],
                    f"must be after today and within {PREGNANCY_MAX_DAYS} days",
                    "impossible_date",
                )
            )
    elif values.get("pregnancy_expected_on") is not None:
        errors.append(
            field_error(
                [*path, "pregnancy_expected_on"], "only with pregnant: true", "invalid_value"
            )
        )
    if values.get("disability_card_number") and not values.get("disability_severity"):
        errors.append(
            field_error(
                [*path, "disability_card_number"], "requires disability_severity", "required"
            )
        )
    return errors


def relationship_age_error(values: Mapping[str, Any], head: Mapping[str, Any]) -> str | None:
    """Generations must be in the right order: a child is younger than the head by a
    plausible parental gap, a parent older, a grandchild two generations younger. The reason
    when they are not, else None."""
    relationship = values.get("relationship")
    if relationship not in AGE_GAP_RELATIONSHIPS:
        return None
    slack = (
        ESTIMATE_SLACK
        if values.get("birth_date_estimated") or head.get("birth_date_estimated")
        else 0
    )
    birth, head_birth = values["birth_date"], head["birth_date"]
    if relationship == Relationship.CHILD and birth <= head_birth:
        return "a child cannot be born before the head of household"
    if relationship == Relationship.CHILD and birth < shift_years(head_birth, PARENT_GAP - slack):
        return f"a child must be at least {PARENT_GAP} years younger than the head"
    if relationship == Relationship.GRANDCHILD and birth < shift_years(
        head_birth, GRANDPARENT_GAP - slack
    ):
        return f"a grandchild must be at least {GRANDPARENT_GAP} years younger than the head"
    if relationship == Relationship.PARENT and birth > shift_years(head_birth, slack - PARENT_GAP):
        return f"a parent must be at least {PARENT_GAP} years older than the head"
    return None


# --- IDPoor status ------------------------------------------------------------------------


def poverty_errors(values: Mapping[str, Any], path: Path, *, on: date) -> list[FieldError]:
    """An IDPoor assessment: what each level and method needs and forbids, and its dates.
    `values` by the names of POVERTY_FIELDS; a missing level means UNASSESSED."""
    errors: list[FieldError] = []
    level = values.get("level") or PovertyLevel.UNASSESSED
    method = values.get("method")
    assessed_on, valid_until = values.get("assessed_on"), values.get("valid_until")
    poor = level in POOR_LEVELS
    if level == PovertyLevel.UNASSESSED:
        for name in UNASSESSED_EMPTY:
            if values.get(name) is not None:
                errors.append(
                    field_error([*path, name], "not for an UNASSESSED household", "invalid_value")
                )
    else:
        for name in ("method", "assessed_on"):
            if values.get(name) is None:
                errors.append(field_error([*path, name], f"required for level {level}", "required"))
    if poor and valid_until is None:
        errors.append(
            field_error([*path, "valid_until"], f"required for level {level}", "required")
        )
    if values.get("equity_card_number") and not poor:
        errors.append(
            field_error(
                [*path, "equity_card_number"],
                "only POOR_1 and POOR_2 households hold one",
                "invalid_value",
            )
        )
    if method == "ROUND" and values.get("round_number") is None:
        errors.append(
            field_error([*path, "round_number"], "required for a ROUND assessment", "required")
        )
    if method == "ON_DEMAND" and values.get("round_number") is not None:
        errors.append(
            field_error([*path, "round_number"], "only for a ROUND assessment", "invalid_value")
        )
    if assessed_on and assessed_on > on:
        errors.append(field_error([*path, "assessed_on"], "is in the future", "future_date"))
    if assessed_on and valid_until and valid_until <= assessed_on:
        errors.append(
            field_error([*path, "valid_until"], "must be after assessed_on", "impossible_date")
        )
    return errors


# --- a whole household ----------------------------------------------------------------------


def household_errors(
    members: Sequence[Mapping[str, Any]],
    poverty: Mapping[str, Any] | None,
    *,
    on: date,
    path: Path | None = None,
) -> list[FieldError]:
    """A new household: exactly one head, each member plausible (and its generation against
    the head's), no national ID twice, and its IDPoor status (when given). `path` is where
    the household sits in the request (a change request's `household`)."""
    prefix: Path = list(path or [])
    errors: list[FieldError] = []
    heads = [i for i, m in enumerate(members) if m.get("relationship") == Relationship.HEAD]
    if not heads:
        errors.append(
            field_error(
                [*prefix, "members"], "exactly one member must have relationship head", "required"
            )
        )
    for extra in heads[1:]:
        errors.append(
            field_error(
                [*prefix, "members", extra, "relationship"],
                "the household already has a head",
                "duplicate",
            )
        )
    head = members[heads[0]] if heads else None
    seen_ids: dict[str, int] = {}
    for index, values in enumerate(members):
        is_head = bool(heads) and index == heads[0]
        errors += member_errors(
            values, [*prefix, "members", index], head=None if is_head else head, on=on
        )
        national_id = values.get("national_id")
        if national_id:
            if national_id in seen_ids:
                errors.append(
                    field_error(
                        [*prefix, "members", index, "national_id"],
                        f"the same as members/{seen_ids[national_id]}",
                        "duplicate",
                    )
                )
            seen_ids.setdefault(national_id, index)
    if poverty is not None:
        errors += poverty_errors(poverty, [*prefix, "poverty_status"], on=on)
    return errors


def head_fits_members(
    head: Mapping[str, Any], others: Sequence[tuple[str, Mapping[str, Any]]]
) -> FieldError | None:
    """A corrected head's birth date must still fit the generations of the other (active)
    members, given as (label, values). The first misfit, naming the head's birth_date."""
    for label, values in others:
        reason = relationship_age_error(values, head)
        if reason:
            return field_error(["birth_date"], f"does not fit {label}: {reason}", "age_gap")
    return None
