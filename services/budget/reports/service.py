"""Building the budget and delay reports from the summed figures."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date

from pydantic import BaseModel, Field

from services.budget.codes import LINES
from services.budget.releases.models import Release
from services.budget.releases.service import delay_days
from shared.gazetteer import get_gazetteer
from shared.tiers import tier_for_code

LATE_DAYS = 30


class UnitLineFigures(BaseModel):
    line_code: str
    line_name_km: str
    line_name_en: str
    admin_code: str = Field(description="With its leading zeros.")
    tier: str
    name_km: str
    name_en: str
    allocated_riel: int
    planned_riel: int = Field(description="In tranches planned (released or not).")
    released_riel: int
    spent_riel: int
    release_rate: float | None = Field(description="released / allocated.")
    execution_rate: float | None = Field(description="spent / released.")
    average_delay_days: float | None = None
    max_delay_days: int | None = None


class DelayDistribution(BaseModel):
    tier: str
    releases: int = Field(description="Tranches with a delay (released, or overdue).")
    median_delay_days: float | None
    share_late_over_30_days: float | None = Field(description="Share of those > 30 days late.")
    overdue_not_released: int


class BudgetReport(BaseModel):
    fiscal_year: int
    area: str
    rows: list[UnitLineFigures]
    delays: list[DelayDistribution]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def build(
    *,
    fiscal_year: int,
    area: str,
    figures: dict[tuple[str, str], dict[str, int]],
    releases: list[Release],
    today: date,
) -> BudgetReport:
    gazetteer = get_gazetteer()
    per_unit: dict[tuple[str, str], list[int]] = defaultdict(list)
    per_tier: dict[str, list[int]] = defaultdict(list)
    overdue: dict[str, int] = defaultdict(int)
    for release in releases:
        delay = delay_days(release, today)
        if delay is None:
            continue
        tier = (tier_for_code(release.admin_code) or "").__str__()
        per_unit[(release.line_code, release.admin_code)].append(delay)
        per_tier[tier].append(delay)
        if release.released_on is None:
            overdue[tier] += 1
    rows = []
    for (line, code), f in sorted(figures.items(), key=lambda item: (item[0][1], item[0][0])):
        unit = gazetteer.get(code)
        km, en = LINES[line]
        delays = per_unit.get((line, code), [])
        rows.append(
            UnitLineFigures(
                line_code=line, line_name_km=km, line_name_en=en, admin_code=code,
                tier=str(tier_for_code(code) or ""), name_km=unit.name_km if unit else "",
                name_en=unit.name_en if unit else "", allocated_riel=f["allocated"],
                planned_riel=f["planned"], released_riel=f["released"], spent_riel=f["spent"],
                release_rate=_rate(f["released"], f["allocated"]),
                execution_rate=_rate(f["spent"], f["released"]),
                average_delay_days=round(statistics.fmean(delays), 1) if delays else None,
                max_delay_days=max(delays) if delays else None,
            )
        )  # fmt: skip
    distribution = [
        DelayDistribution(
            tier=tier,
            releases=len(values),
            median_delay_days=statistics.median(values),
            share_late_over_30_days=round(sum(1 for v in values if v > LATE_DAYS) / len(values), 4),
            overdue_not_released=overdue[tier],
        )
        for tier, values in sorted(per_tier.items())
    ]
    return BudgetReport(fiscal_year=fiscal_year, area=area, rows=rows, delays=distribution)
