"""The allocation engine: pure functions, exact arithmetic, one rounding.

Each component c of a formula gives unit u the exact share

    envelope x weight_c x measure_c(u) / sum over units of measure_c

(`equal`: measure 1; `indicator`: the unit's value; `poverty`: poor_1_weight x POOR_1 +
poor_2_weight x POOR_2 households; `per_sub_unit`: the unit's number of sub-units, which is
the share divided equally among all sub-units and summed per unit). A unit's exact total is
the sum of its components, kept as one integer numerator over a common denominator (a
national run's products exceed 64 bits: Python integers are unbounded). A floor or cap is
then applied by fixing the units that cross it and dividing the rest again in proportion.

The totals are rounded once, never per component, by the largest-remainder method: every
unit gets the whole riel below its exact total, and the riel left over go one each to the
units with the largest fractional remainders. **Tie rule:** equal remainders are served in
ascending order of unit code (the gazetteer code as text, leading zeros kept), so the same
inputs always give the same amounts. The parts therefore sum exactly to the envelope.

A unit with no value for an indicator counts as zero for the components that read it and
still receives the components that do not (equal share, gazetteer counts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import lcm

from services.budget.formulas.schemas import (
    ByIndicator,
    EqualShare,
    FormulaDefinition,
    PerSubUnit,
    PovertyWeighted,
)


class AllocationRefused(ValueError):
    """The inputs cannot be allocated; `field` names what is wrong (a formula component, the
    floor or the cap), `reason` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class UnitInput:
    code: str
    values: Mapping[str, int]  # indicator -> value; missing means no data (counts as zero)


@dataclass(frozen=True, slots=True)
class UnitShare:
    code: str
    amount: int
    exact: Fraction
    contributions: tuple[Fraction, ...]  # per component, before any floor or cap
    adjustment: Fraction  # what the floor or cap added (negative: took away)

    @property
    def rounding(self) -> Fraction:
        return self.amount - self.exact


@dataclass(frozen=True, slots=True)
class Allocation:
    envelope: int
    units: tuple[UnitShare, ...]
    equal_share_fallbacks: tuple[int, ...]  # components whose indicator summed to zero


def _measures(component, units: Sequence[UnitInput]) -> list[int]:
    """Integer measures of each unit for one component (poverty weights scaled to integers,
    which leaves the proportions unchanged)."""
    if isinstance(component, EqualShare):
        return [1] * len(units)
    if isinstance(component, ByIndicator):
        key = component.indicator
        return [int(u.values.get(key, 0)) for u in units]
    if isinstance(component, PerSubUnit):
        key = f"{component.sub_unit}s"
        return [int(u.values.get(key, 0)) for u in units]
    if isinstance(component, PovertyWeighted):
        w1, w2 = Fraction(component.poor_1_weight), Fraction(component.poor_2_weight)
        scale = lcm(w1.denominator, w2.denominator)
        a, b = int(w1 * scale), int(w2 * scale)
        return [
            a * int(u.values.get("households_poor_1", 0))
            + b * int(u.values.get("households_poor_2", 0))
            for u in units
        ]
    raise TypeError(f"unknown component {component!r}")


def _indicator_name(component) -> str:
    if isinstance(component, ByIndicator):
        return component.indicator
    if isinstance(component, PerSubUnit):
        return f"{component.sub_unit}s"
    return "households_poor_1 and households_poor_2"


def allocate(envelope: int, units: Sequence[UnitInput], formula: FormulaDefinition) -> Allocation:
    """Divide `envelope` (whole riel) over `units` by `formula`; the amounts sum exactly to it."""
    if isinstance(envelope, bool) or not isinstance(envelope, int) or envelope < 0:
        raise AllocationRefused("envelope_riel", "must be a non-negative whole number of riel")
    if not units:
        raise AllocationRefused("units", "there is no unit to allocate to")
    codes = [u.code for u in units]
    if len(set(codes)) != len(codes):
        raise AllocationRefused("units", "a unit is listed twice")
    n = len(units)

    # Per component: numerators of each unit over the component's denominator.
    parts: list[tuple[list[int], int]] = []
    fallbacks: list[int] = []
    for index, component in enumerate(formula.components):
        measures = _measures(component, units)
        negative = next((units[i].code for i, m in enumerate(measures) if m < 0), None)
        if negative is not None:
            raise AllocationRefused(
                f"components.{index}",
                f"{_indicator_name(component)} is negative for unit {negative}",
            )
        total = sum(measures)
        if total == 0:
            if component.on_zero_total == "refuse":
                raise AllocationRefused(
                    f"components.{index}",
                    f"{_indicator_name(component)} sums to zero over the {n} units; the "
                    "component cannot be divided (the formula may say on_zero_total: "
                    "equal_share to divide it equally instead)",
                )
            fallbacks.append(index)
            measures, total = [1] * n, n
        weight = Fraction(component.weight)
        # share_u = envelope * weight * m_u / total = (envelope * w_num * m_u) / (w_den * total)
        factor = envelope * weight.numerator
        parts.append(([factor * m for m in measures], weight.denominator * total))

    denominator = lcm(*(d for _, d in parts))
    numerators = [0] * n
    for nums, d in parts:
        scale = denominator // d
        for i, value in enumerate(nums):
            numerators[i] += value * scale

    adjustments = [Fraction(0)] * n
    if formula.floor_riel is not None or formula.cap_riel is not None:
        exact = _bounded(
            envelope, [Fraction(v, denominator) for v in numerators], formula.floor_riel,
            formula.cap_riel,
        )  # fmt: skip
        adjustments = [e - Fraction(v, denominator) for e, v in zip(exact, numerators, strict=True)]
        denominator = lcm(*(e.denominator for e in exact))
        numerators = [e.numerator * (denominator // e.denominator) for e in exact]

    amounts = largest_remainder(envelope, numerators, denominator, codes)
    shares = tuple(
        UnitShare(
            code=units[i].code,
            amount=amounts[i],
            exact=Fraction(numerators[i], denominator),
            contributions=tuple(Fraction(nums[i], d) for nums, d in parts),
            adjustment=adjustments[i],
        )
        for i in range(n)
    )
    return Allocation(envelope, shares, tuple(fallbacks))


def largest_remainder(
    envelope: int, numerators: Sequence[int], denominator: int, codes: Sequence[str]
) -> list[int]:
    """Whole riel from exact shares `numerators[i] / denominator` that sum to `envelope`:
    the whole part of each, then one more riel to each of the largest remainders, equal
    remainders in ascending order of unit code."""
    whole = [v // denominator for v in numerators]
    left = envelope - sum(whole)
    if left < 0 or left > len(whole):
        raise AllocationRefused("envelope_riel", "the shares do not sum to the envelope")
    order = sorted(range(len(whole)), key=lambda i: (-(numerators[i] % denominator), codes[i]))
    for i in order[:left]:
        whole[i] += 1
    return whole


def _bounded(
    envelope: int, raw: list[Fraction], floor: int | None, cap: int | None
) -> list[Fraction]:
    """The exact shares once every unit is at least `floor` and at most `cap`: each unit gets
    its share scaled by one common factor and clamped to the bounds, the factor chosen so the
    clamped shares sum to the envelope (a unit whose share is zero stays at the floor unless
    every other unit is at the cap)."""
    n = len(raw)
    if floor is not None and floor * n > envelope:
        raise AllocationRefused(
            "floor_riel", f"{n} units at a floor of {floor} riel need more than the envelope"
        )
    if cap is not None and cap * n < envelope:
        raise AllocationRefused(
            "cap_riel", f"{n} units at a cap of {cap} riel cannot take the whole envelope"
        )
    low = Fraction(floor or 0)
    high = None if cap is None else Fraction(cap)
    positive = [i for i in range(n) if raw[i] > 0]
    zeros = n - len(positive)
    if not positive:
        return [Fraction(envelope, n)] * n
    if high is not None and low * zeros + high * len(positive) <= envelope:
        rest = (envelope - high * len(positive)) / zeros if zeros else Fraction(0)
        return [high if raw[i] > 0 else rest for i in range(n)]

    def clamp(value: Fraction) -> Fraction:
        value = max(value, low)
        return value if high is None else min(value, high)

    def total(factor: Fraction) -> Fraction:
        return low * zeros + sum((clamp(factor * raw[i]) for i in positive), Fraction(0))

    # The sum is piecewise linear in the factor, bending where a unit meets a bound: find the
    # piece where it reaches the envelope, then solve that piece's line exactly.
    bends = sorted(
        {low / raw[i] for i in positive}
        | ({high / raw[i] for i in positive} if high is not None else set())
    )
    lo_index, hi_index = 0, len(bends)
    while lo_index < hi_index:
        middle = (lo_index + hi_index) // 2
        if total(bends[middle]) >= envelope:
            hi_index = middle
        else:
            lo_index = middle + 1
    start = bends[lo_index - 1] if lo_index > 0 else Fraction(0)
    stop = bends[lo_index] if lo_index < len(bends) else None
    probe = (start + stop) / 2 if stop is not None else start + 1
    fixed, slope = low * zeros, Fraction(0)
    for i in positive:
        value = probe * raw[i]
        if value <= low:
            fixed += low
        elif high is not None and value >= high:
            fixed += high
        else:
            slope += raw[i]
    factor = (envelope - fixed) / slope if slope else (stop if stop is not None else start)
    return [clamp(factor * raw[i]) if raw[i] > 0 else low for i in range(n)]
