"""Demo budget data for the local stack: `await seed(database_url)` (idempotent).

This year's social-assistance envelope, an illustrative population dataset (marked DEMO: not
census figures), the 2024-2028 commune-fund formula published from the national tier to the
provinces, by Phnom Penh to its khans and by Khan Sen Sok to its sangkats, one tranche
released to Sangkat Phnom Penh Thmei and part of it spent, and a request from Phnom Penh
Thmei to Khan Sen Sok for a training. Everything goes through the service's functions, so
the events are as real. Returns lines for `make run` to print (nothing when already there).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from services.budget.allocations import repository as runs
from services.budget.allocations import service as allocations
from services.budget.allocations.schemas import RunCreate
from services.budget.expenditures import service as expenditures
from services.budget.indicators import service as indicators
from services.budget.planning import service as planning
from services.budget.planning.models import FiscalYear
from services.budget.releases import service as releases
from services.budget.support import service as support
from shared import clock
from shared.db.engine import Database
from shared.gazetteer import Level, get_gazetteer
from shared.principal import Principal
from shared.tiers import Tier

LINE = "social_assistance"
ENVELOPE_RIEL = 40_000_000_000


def _person(sub: str, tier: Tier, code: str, *roles: str) -> Principal:
    return Principal(sub=f"demo:{sub}", tier=tier, admin_code=code, roles=frozenset(roles))


# The development issuer's demo people (gateway/identity/dev_issuer.py, same `demo:` subjects):
# each unit's officer drafts and proposes, the unit's approver approves and publishes, as they
# would through the gateway.
PLANNERS = {
    "": _person("national.officer", Tier.NATIONAL, "", "budget.planner", "budget.approver"),
    "12": _person("cp.phnom-penh", Tier.CP, "12", "budget.planner", "budget.approver"),
    "1208": _person("dmk.sen-sok", Tier.DMK, "1208", "budget.planner", "budget.approver"),
}
APPROVERS = {
    "": _person("national.approver", Tier.NATIONAL, "", "budget.approver"),
    "12": _person("cp.phnom-penh.approver", Tier.CP, "12", "budget.approver"),
    "1208": _person("dmk.sen-sok.approver", Tier.DMK, "1208", "budget.approver"),
}
COMMUNE = _person("cs.phnom-penh-thmei", Tier.CS, "120801", "budget.planner")


def _population_csv() -> bytes:
    """Illustrative figures (a function of the code), so the demo formula has an input."""
    communes = get_gazetteer().descendants("", Level.COMMUNE)
    rows = [f"{c.code},{4000 + (int(c.code) * 7919) % 21000}" for c in communes]
    return ("admin_code,value\n" + "\n".join(rows) + "\n").encode()


async def seed(database_url: str) -> list[str]:
    database = Database(database_url, pool_size=2, application_name="budget-demo")
    try:
        async with database.transaction() as session:
            if await session.scalar(select(func.count()).select_from(FiscalYear)):
                return []
            year = clock.today().year
            national = PLANNERS[""]
            await planning.open_year(session, principal=national, year=year)
            await planning.set_envelope(
                session, principal=national, year=year, line_code=LINE, amount_riel=ENVELOPE_RIEL
            )
            await indicators.upload(
                session, principal=national, code="population",
                name="DEMO population per commune (illustrative, not census figures)",
                source="DEMO data of the local stack", reference_date=clock.today(),
                level=Level.COMMUNE, area="", content=_population_csv(),
            )  # fmt: skip
            body = RunCreate(
                fiscal_year=year, line_code=LINE, formula_code="COMMUNE_FUND_2024_2028"
            )
            for code in ("", "12", "1208"):
                run = await allocations.draft(session, principal=PLANNERS[code], body=body)
                await allocations.propose(session, principal=PLANNERS[code], run=run)
                await allocations.approve(session, principal=APPROVERS[code], run=run)
                await allocations.publish(session, principal=APPROVERS[code], run=run)
            unit = await runs.unit(session, run.id, "120801")
            tranche = await releases.plan(
                session, principal=PLANNERS["1208"], run_id=run.id, admin_code="120801",
                amount_riel=unit.amount_riel // 2,
                planned_on=clock.today() - timedelta(days=45),
            )  # fmt: skip
            await releases.record(
                session, principal=PLANNERS["1208"], release=tranche,
                released_on=clock.today() - timedelta(days=3),
            )  # fmt: skip
            spent_on = max(clock.today() - timedelta(days=1), clock.today().replace(day=1, month=1))
            await expenditures.record(
                session, principal=COMMUNE, fiscal_year=year, line_code=LINE,
                amount_riel=unit.amount_riel // 8, spent_on=spent_on,
                description="Transport for IDPoor on-demand outreach",
            )  # fmt: skip
            await support.submit(
                session, requesting_tier=Tier.CS, requesting_admin_code="120801",
                addressed_tier=Tier.DMK, request_type="training_workshop",
                description="Training of commune staff and CAFs on the social-protection "
                "budget", amount_riel=2_400_000, submitted_by=COMMUNE.sub,
            )  # fmt: skip
        return [
            f"budget {year}: {LINE} envelope {ENVELOPE_RIEL:,} riel published down to the "
            f"sangkats of Khan Sen Sok; Phnom Penh Thmei {unit.amount_riel:,} riel, half released "
            f"42 days late (GET /budget/public/budget?fiscal_year={year}&area=120801)"
        ]
    finally:
        await database.dispose()
