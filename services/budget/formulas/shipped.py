"""Formulas shipped with the service: public examples the planners start from.

`COMMUNE_FUND_2024_2028` is the additional commune/sangkat fund of 2024-2028: 30 % equally
among the communes, 30 % by population, 30 % by number of villages, 10 % divided among the
villages (summed per commune). Population is the official census dataset `population`.
"""

from __future__ import annotations

from decimal import Decimal

from services.budget.formulas.schemas import (
    ByIndicator,
    EqualShare,
    FormulaDefinition,
    FormulaRead,
    PerSubUnit,
    PovertyWeighted,
)

SHIPPED: dict[tuple[str, int], FormulaRead] = {
    (f.code, f.version): f
    for f in (
        FormulaRead(
            code="COMMUNE_FUND_2024_2028",
            version=1,
            name="Additional commune/sangkat fund 2024-2028",
            description=(
                "30 % equal among the units, 30 % by population (dataset `population`), 30 % by "
                "number of villages, 10 % divided among the villages."
            ),
            definition=FormulaDefinition(
                components=[
                    EqualShare(weight=Decimal("0.3")),
                    ByIndicator(weight=Decimal("0.3"), indicator="dataset.population"),
                    ByIndicator(weight=Decimal("0.3"), indicator="villages"),
                    PerSubUnit(weight=Decimal("0.1"), sub_unit="village"),
                ]
            ),
            shipped=True,
        ),
        FormulaRead(
            code="POVERTY_WEIGHTED",
            version=1,
            name="Poverty-weighted allocation",
            description=(
                "20 % equal among the units, 80 % by the registry's poor households, a POOR_1 "
                "household counting twice a POOR_2 household."
            ),
            definition=FormulaDefinition(
                components=[
                    EqualShare(weight=Decimal("0.2")),
                    PovertyWeighted(
                        weight=Decimal("0.8"), poor_1_weight=Decimal(2), poor_2_weight=Decimal(1)
                    ),
                ]
            ),
            shipped=True,
        ),
    )
}
