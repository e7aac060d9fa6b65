"""The allocation engine's promises, for any envelope and any non-negative indicator values
(hypothesis): whole non-negative riel summing exactly to the envelope, one rounding with a
stable tie rule, monotone in a unit's own input, the same on a repeated run, and a unit with
no data receiving only the components that do not need it."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.budget.allocations.engine import AllocationRefused, UnitInput, allocate
from services.budget.formulas.schemas import FormulaDefinition
from services.budget.formulas.shipped import SHIPPED

COMMUNE_FUND = SHIPPED[("COMMUNE_FUND_2024_2028", 1)].definition
POVERTY = SHIPPED[("POVERTY_WEIGHTED", 1)].definition
INDICATORS = ("dataset.population", "villages", "households_poor_1", "households_poor_2")

envelopes = st.integers(min_value=0, max_value=10**15)
values = st.integers(min_value=0, max_value=10**7)


@st.composite
def unit_lists(draw, min_size=1, max_size=40):
    count = draw(st.integers(min_size, max_size))
    codes = draw(st.lists(st.integers(0, 999_999), min_size=count, max_size=count, unique=True))
    # At least one unit with data everywhere, so no weighted component sums to zero.
    units = [
        UnitInput(
            f"{code:06d}",
            {k: draw(values) + (1 if i == 0 else 0) for k in INDICATORS},
        )
        for i, code in enumerate(codes)
    ]
    return units


formulas = st.sampled_from([COMMUNE_FUND, POVERTY])


@settings(max_examples=200, deadline=None)
@given(envelope=envelopes, units=unit_lists(), formula=formulas)
def test_whole_non_negative_riel_summing_exactly_to_the_envelope(envelope, units, formula):
    result = allocate(envelope, units, formula)
    amounts = [u.amount for u in result.units]
    assert all(isinstance(a, int) and a >= 0 for a in amounts)
    assert sum(amounts) == envelope
    # One rounding of each unit's total: never more than one riel from its exact share.
    assert all(abs(u.amount - u.exact) < 1 for u in result.units)
    assert all(u.exact == sum(u.contributions) for u in result.units)


@settings(max_examples=200, deadline=None)
@given(
    envelope=envelopes,
    units=unit_lists(min_size=2),
    formula=formulas,
    which=st.integers(min_value=0),
    indicator=st.sampled_from(INDICATORS),
    growth=st.integers(min_value=1, max_value=10**6),
)
def test_an_amount_never_decreases_when_only_its_own_input_grows(
    envelope, units, formula, which, indicator, growth
):
    index = which % len(units)
    before = allocate(envelope, units, formula).units[index].amount
    grown = list(units)
    values = dict(units[index].values)
    values[indicator] += growth
    grown[index] = UnitInput(units[index].code, values)
    assert allocate(envelope, grown, formula).units[index].amount >= before


@settings(max_examples=100, deadline=None)
@given(envelope=envelopes, units=unit_lists(), formula=formulas, seed=st.randoms())
def test_the_same_inputs_give_the_same_amounts_in_any_order(envelope, units, formula, seed):
    first = {u.code: u.amount for u in allocate(envelope, units, formula).units}
    again = {u.code: u.amount for u in allocate(envelope, units, formula).units}
    shuffled = list(units)
    seed.shuffle(shuffled)
    reordered = {u.code: u.amount for u in allocate(envelope, shuffled, formula).units}
    assert first == again == reordered


@settings(max_examples=100, deadline=None)
@given(envelope=envelopes, units=unit_lists(), formula=formulas)
def test_a_unit_with_no_data_gets_only_the_components_that_need_none(envelope, units, formula):
    empty = UnitInput("999999x", {})
    result = allocate(envelope, [*units, empty], formula)
    share = next(u for u in result.units if u.code == empty.code)
    n = len(units) + 1
    expected = [
        Fraction(c.weight) * envelope / n if c.kind == "equal" else Fraction(0)
        for c in formula.components
    ]
    assert list(share.contributions) == expected
    assert share.amount in (int(share.exact), int(share.exact) + 1)


@settings(max_examples=100, deadline=None)
@given(envelope=envelopes, units=unit_lists(), formula=formulas)
def test_recomputing_from_the_stored_inputs_gives_the_same_amounts(envelope, units, formula):
    """What a run stores (the formula's JSON, every unit's values as JSON) allocates again to
    the same riel."""
    import json

    first = allocate(envelope, units, formula)
    stored_formula = json.loads(formula.model_dump_json())
    stored_units = json.loads(json.dumps({u.code: dict(u.values) for u in units}))
    again = allocate(
        envelope,
        [UnitInput(code, values) for code, values in sorted(stored_units.items())],
        FormulaDefinition.model_validate(stored_formula),
    )
    assert {u.code: u.amount for u in first.units} == {u.code: u.amount for u in again.units}


def test_equal_remainders_go_to_the_lowest_unit_codes_first():
    equal = FormulaDefinition.model_validate({"components": [{"kind": "equal", "weight": "1"}]})
    units = [UnitInput(code, {}) for code in ("120803", "010201", "120801")]
    result = allocate(5, units, equal)
    # 5 / 3: one riel each, the two riel left go to 010201 and 120801 (ascending codes).
    assert {u.code: u.amount for u in result.units} == {"120803": 1, "010201": 2, "120801": 2}


def test_the_commune_fund_formula_as_published():
    units = [
        UnitInput("120801", {"dataset.population": 3000, "villages": 3}),
        UnitInput("120802", {"dataset.population": 1000, "villages": 1}),
    ]
    result = {u.code: u for u in allocate(1_000_000, units, COMMUNE_FUND).units}
    # 30 % equal (150,000 each), 30 % by population (225,000 / 75,000), 30 % by villages
    # (225,000 / 75,000), 10 % among 4 villages (25,000 each: 75,000 / 25,000).
    assert result["120801"].contributions == (150_000, 225_000, 225_000, 75_000)
    assert result["120801"].amount == 675_000
    assert result["120802"].amount == 325_000


def test_a_component_summing_to_zero_is_refused_by_name():
    units = [UnitInput("120801", {"villages": 3}), UnitInput("120802", {"villages": 1})]
    with pytest.raises(AllocationRefused) as refused:
        allocate(1_000, units, COMMUNE_FUND)
    assert refused.value.field == "components.1"
    assert "dataset.population sums to zero" in refused.value.reason


def test_a_component_summing_to_zero_may_fall_back_to_an_equal_share():
    formula = FormulaDefinition.model_validate(
        {
            "components": [
                {"kind": "equal", "weight": "0.5"},
                {"kind": "poverty", "weight": "0.5", "on_zero_total": "equal_share"},
            ]
        }
    )
    units = [UnitInput("120801", {}), UnitInput("120802", {})]
    result = allocate(1_001, units, formula)
    assert result.equal_share_fallbacks == (1,)
    assert [u.amount for u in result.units] == [501, 500]


def test_weights_must_sum_to_exactly_one():
    with pytest.raises(ValidationError) as invalid:
        FormulaDefinition.model_validate(
            {
                "components": [
                    {"kind": "equal", "weight": "0.3333333333"},
                    {"kind": "equal", "weight": "0.3333333333"},
                    {"kind": "equal", "weight": "0.3333333333"},
                ]
            }
        )
    assert "sum to exactly 1" in str(invalid.value)


@settings(max_examples=100, deadline=None)
@given(
    units=unit_lists(min_size=2, max_size=20),
    floor=st.integers(0, 10_000),
    extra=st.integers(0, 10**6),
)
def test_floor_and_cap_hold_and_the_sum_stays_exact(units, floor, extra):
    envelope = floor * len(units) + extra
    cap = floor + extra // 2 + (extra + len(units) - 1) // len(units)
    formula = POVERTY.model_copy(update={"floor_riel": floor, "cap_riel": cap})
    result = allocate(envelope, units, formula)
    assert sum(u.amount for u in result.units) == envelope
    assert all(floor <= u.amount <= cap for u in result.units)


def test_a_floor_the_envelope_cannot_pay_is_refused():
    formula = POVERTY.model_copy(update={"floor_riel": 600})
    with pytest.raises(AllocationRefused) as refused:
        allocate(1_000, [UnitInput("01", {"households_poor_1": 1}), UnitInput("02", {})], formula)
    assert refused.value.field == "floor_riel"


def test_a_national_run_over_every_commune_is_exact_beyond_64_bits():
    from shared.gazetteer import Level, get_gazetteer

    gazetteer = get_gazetteer()
    communes = gazetteer.descendants("", Level.COMMUNE)
    units = [
        UnitInput(c.code, {"dataset.population": 1000 + i * 7, "villages": i % 13 + 1})
        for i, c in enumerate(communes)
    ]
    envelope = 9_876_543_210_987_654_321  # beyond 2**63
    result = allocate(envelope, units, COMMUNE_FUND)
    assert len(result.units) == 1652
    assert sum(u.amount for u in result.units) == envelope
    assert sum(1 for u in result.units if u.code.startswith("0")) == 768


def test_weights_are_decimal_strings_not_floats():
    formula = FormulaDefinition.model_validate(
        {"components": [{"kind": "equal", "weight": "0.1"}, {"kind": "equal", "weight": "0.9"}]}
    )
    assert sum(c.weight for c in formula.components) == Decimal(1)
    # A binary float cannot carry an exact weight: the contract says a decimal string.
    with pytest.raises(ValidationError, match="decimal string"):
        FormulaDefinition.model_validate(
            {"components": [{"kind": "equal", "weight": 0.1}, {"kind": "equal", "weight": "0.9"}]}
        )
