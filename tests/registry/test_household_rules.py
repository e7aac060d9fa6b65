"""The household rulebook's pure rules, without a database: dates judged against the date
given, each broken rule naming its field and code."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.registry.households import rules

TODAY = date(2026, 6, 16)


def person(**fields) -> dict:
    return {
        "relationship": "head",
        "sex": "female",
        "birth_date": date(1985, 3, 14),
        "birth_date_estimated": False,
        **fields,
    }


def verdict(errors) -> set[tuple[str, str | None]]:
    return {(e.field, e.code) for e in errors}


def member(values: dict, head: dict | None = None) -> set[tuple[str, str | None]]:
    return verdict(rules.member_errors(values, [], head=head, on=TODAY))


HEAD = person()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (person(), set()),
        (person(birth_date=TODAY), set()),
        (person(birth_date=TODAY + timedelta(days=1)), {("birth_date", "future_date")}),
        (person(birth_date=date(1906, 6, 16)), set()),  # 120 today
        (person(birth_date=date(1906, 6, 15)), {("birth_date", "impossible_date")}),
        (
            person(pregnant=True, pregnancy_expected_on=TODAY + timedelta(days=300)),
            set(),
        ),
        (
            person(pregnant=True, pregnancy_expected_on=TODAY + timedelta(days=301)),
            {("pregnancy_expected_on", "impossible_date")},
        ),
        (
            person(pregnant=True, pregnancy_expected_on=TODAY),
            {("pregnancy_expected_on", "impossible_date")},
        ),
        (person(pregnant=True), {("pregnancy_expected_on", "required")}),
        (
            person(sex="male", pregnant=True, pregnancy_expected_on=TODAY + timedelta(days=30)),
            {("pregnant", "impossible_value")},
        ),
        (
            person(
                birth_date=date(1960, 1, 1),
                pregnant=True,
                pregnancy_expected_on=TODAY + timedelta(days=30),
            ),
            {("pregnant", "impossible_value")},
        ),
        (
            person(pregnancy_expected_on=TODAY + timedelta(days=30)),
            {("pregnancy_expected_on", "invalid_value")},
        ),
        (person(disability_card_number="DC-1"), {("disability_card_number", "required")}),
        (person(disability_card_number="DC-1", disability_severity="mild"), set()),
        # A value that did not parse (None) is left to the field checks.
        (
            person(
                birth_date=None,
                sex=None,
                pregnant=True,
                pregnancy_expected_on=TODAY + timedelta(days=9),
            ),
            set(),
        ),
    ],
)
def test_one_member(values, expected):
    assert member(values) == expected


@pytest.mark.parametrize(
    ("relationship", "birth", "estimated", "fits"),
    [
        ("child", date(1997, 3, 14), False, True),  # exactly 12 years younger
        ("child", date(1997, 3, 13), False, False),
        ("child", date(1994, 3, 14), True, True),  # estimated: 3 years of slack
        ("child", date(1985, 3, 14), True, False),  # never born before (or with) the head
        ("grandchild", date(2011, 3, 14), False, True),
        ("grandchild", date(2011, 3, 13), False, False),
        ("parent", date(1973, 3, 14), False, True),
        ("parent", date(1973, 3, 15), False, False),
        ("spouse", date(2000, 1, 1), False, True),  # no generation rule for a spouse
        ("sibling", date(1960, 1, 1), False, True),
    ],
)
def test_generations_against_the_head(relationship, birth, estimated, fits):
    values = person(relationship=relationship, birth_date=birth, birth_date_estimated=estimated)
    assert (rules.relationship_age_error(values, HEAD) is None) is fits
    assert (member(values, head=HEAD) == set()) is fits


def test_29_february_shifts_to_the_28th():
    assert rules.shift_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert rules.age_on(date(2000, 2, 29), date(2026, 2, 28)) == 25
    assert rules.oldest_birth_date(date(2028, 2, 29)) == date(1908, 2, 29)
    assert rules.shift_years(date(2028, 2, 29), -121) == date(1907, 2, 28)


def poverty(**values) -> set[tuple[str, str | None]]:
    return verdict(rules.poverty_errors(values, [], on=TODAY))


def test_idpoor_status():
    assessed = date(2026, 1, 10)
    valid = date(2028, 1, 10)
    assert poverty(level="UNASSESSED") == set()
    assert poverty(level=None, score=50) == {("score", "invalid_value")}  # blank: UNASSESSED
    assert poverty(level="NOT_POOR", method="ON_DEMAND", assessed_on=assessed) == set()
    assert poverty(level="NOT_POOR", assessed_on=assessed) == {("method", "required")}
    assert (
        poverty(
            level="POOR_1", method="ROUND", round_number=10, assessed_on=assessed, valid_until=valid
        )
        == set()
    )
    assert poverty(level="POOR_1", method="ROUND", round_number=10, assessed_on=assessed) == {
        ("valid_until", "required")
    }
    assert poverty(level="POOR_2", method="ROUND", assessed_on=assessed, valid_until=valid) == {
        ("round_number", "required")
    }
    assert poverty(level="NOT_POOR", method="ON_DEMAND", round_number=3, assessed_on=assessed) == {
        ("round_number", "invalid_value")
    }
    assert poverty(
        level="NOT_POOR", method="ON_DEMAND", assessed_on=assessed, equity_card_number="EC-1"
    ) == {("equity_card_number", "invalid_value")}
    assert poverty(
        level="POOR_1", method="ON_DEMAND", assessed_on=assessed, valid_until=assessed
    ) == {("valid_until", "impossible_date")}
    assert poverty(level="NOT_POOR", method="ON_DEMAND", assessed_on=TODAY + timedelta(days=1)) == {
        ("assessed_on", "future_date")
    }


def test_a_household_has_one_head_and_no_national_id_twice():
    child = person(relationship="child", birth_date=date(2010, 1, 1), national_id="010203040")
    errors = rules.household_errors(
        [person(national_id="010203040"), child, person()], None, on=TODAY, path=["household"]
    )
    assert verdict(errors) == {
        ("household.members.1.national_id", "duplicate"),
        ("household.members.2.relationship", "duplicate"),
    }
    assert verdict(rules.household_errors([child], None, on=TODAY)) == {("members", "required")}
    # The child is judged against the head wherever the head is in the list.
    late = person(relationship="child", birth_date=date(1990, 1, 1))
    assert verdict(rules.household_errors([late, person()], None, on=TODAY)) == {
        ("members.0.birth_date", "age_gap")
    }


def test_a_corrected_head_must_fit_the_other_members():
    child = person(relationship="child", birth_date=date(2000, 1, 1))
    assert rules.head_fits_members(HEAD, [("Sok Pisey", child)]) is None
    misfit = rules.head_fits_members(person(birth_date=date(1995, 1, 1)), [("Sok Pisey", child)])
    assert misfit is not None and misfit.field == "birth_date" and "Sok Pisey" in misfit.reason
