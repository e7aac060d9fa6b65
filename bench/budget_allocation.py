"""A national allocation run over every commune (1,652): the server time of a run (read the
indicators from the registry read model and the dataset, allocate exactly, store every unit
and the event) beside a baseline, the engine alone on the same inputs in memory.

    python -m bench.budget_allocation                       # all 1,652 communes, 200,000 households
    python -m bench.budget_allocation --communes 60 --households 5000   # small scale

Uses an embedded PostgreSQL under .local/bench-budget (or BENCH_POSTGRES_URL). Prints figures;
asserts nothing but that the parts sum to the envelope.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from datetime import date
from pathlib import Path

from sqlalchemy import text

from devstack.postgres import EmbeddedPostgres, create_databases, free_port
from services.budget.allocations import service as allocations
from services.budget.allocations.engine import allocate
from services.budget.allocations.schemas import RunCreate
from services.budget.formulas.shipped import SHIPPED
from services.budget.indicators import service as indicators
from services.budget.planning import service as planning
from shared.db.engine import Database
from shared.gazetteer import Level, get_gazetteer
from shared.migrations import upgrade
from shared.principal import Principal
from shared.tiers import Tier

ROOT = Path(__file__).resolve().parent.parent
YEAR = 2027
ENVELOPE = 987_654_321_987_654
PLANNER = Principal(
    sub="bench", tier=Tier.NATIONAL, admin_code="", roles=frozenset({"budget.planner"})
)


async def prepare(url: str, communes: list[str], households: int) -> None:
    gazetteer = get_gazetteer()
    villages = [v.code for c in communes for v in gazetteer.children(c)]
    database = Database(url, pool_size=1)
    try:
        async with database.transaction() as session:
            await planning.open_year(session, principal=PLANNER, year=YEAR)
            await planning.set_envelope(
                session, principal=PLANNER, year=YEAR, line_code="social_assistance",
                amount_riel=ENVELOPE,
            )  # fmt: skip
            rows = [f"{c.code},{3000 + (int(c.code) * 7919) % 21000}"
                    for c in gazetteer.descendants("", Level.COMMUNE)]  # fmt: skip
            await indicators.upload(
                session, principal=PLANNER, code="population", name="bench", source="bench",
                reference_date=date(2019, 3, 3), level=Level.COMMUNE,
                area="", content=("admin_code,value\n" + "\n".join(rows)).encode(),
            )  # fmt: skip
            await session.execute(
                text(
                    "INSERT INTO household_figure SELECT gen_random_uuid(), v.codes[1 + (i * 7919) "
                    "% cardinality(v.codes)], 'active', 1, "
                    "(ARRAY['POOR_1','POOR_2','NOT_POOR','UNASSESSED'])[1 + i % 4], 1, now() "
                    "FROM (SELECT CAST(:villages AS text[]) AS codes) v, "
                    "generate_series(1, :n) AS i"
                ),
                {"villages": villages, "n": households},
            )
            await session.execute(text("ANALYZE household_figure"))
    finally:
        await database.dispose()


async def measure(url: str, communes: list[str], formula: str, repeat: int) -> None:
    database = Database(url, pool_size=1)
    body = RunCreate(
        fiscal_year=YEAR, line_code="social_assistance", formula_code=formula,
        unit_level="commune", units=communes,
    )  # fmt: skip
    server, engine = [], []
    try:
        for _ in range(repeat):
            async with database.transaction() as session:
                started = time.perf_counter()
                run = await allocations.draft(session, principal=PLANNER, body=body)
                server.append((time.perf_counter() - started) * 1000)
                inputs = await indicators.gather(
                    session, area="", unit_codes=sorted(communes),
                    indicators=SHIPPED[(formula, 1)].definition.indicators(), fiscal_year=YEAR,
                )  # fmt: skip
                await session.rollback()
            started = time.perf_counter()
            result = allocate(ENVELOPE, inputs.units, SHIPPED[(formula, 1)].definition)
            engine.append((time.perf_counter() - started) * 1000)
            assert sum(u.amount for u in result.units) == ENVELOPE
        print(
            f"{formula:24} {len(communes):5} communes: server run median "
            f"{statistics.median(server):8.1f} ms (min {min(server):.1f}, stored compute_ms of "
            f"the last {run.compute_ms:.1f}) | baseline engine alone median "
            f"{statistics.median(engine):6.1f} ms"
        )
    finally:
        await database.dispose()


async def run(postgres_url: str, communes: int, households: int, repeat: int) -> None:
    await create_databases(postgres_url, ["bench_budget"], recreate=True)
    url = f"{postgres_url}/bench_budget"
    await asyncio.to_thread(upgrade, ROOT / "services" / "budget", url)
    codes = [c.code for c in get_gazetteer().descendants("", Level.COMMUNE)][:communes]
    await prepare(url, codes, households)
    print(f"{households:,} active households in the read model, {len(codes)} communes")
    for formula in ("COMMUNE_FUND_2024_2028", "POVERTY_WEIGHTED"):
        await measure(url, codes, formula, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--communes", type=int, default=1652, help="the first N communes")
    parser.add_argument("--households", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    postgres = None
    postgres_url = os.environ.get("BENCH_POSTGRES_URL")
    try:
        if not postgres_url:
            postgres = EmbeddedPostgres(ROOT / ".local" / "bench-budget" / "data", port=free_port())
            postgres.start()
            postgres_url = postgres.url
        asyncio.run(run(postgres_url.rstrip("/"), args.communes, args.households, args.repeat))
    finally:
        if postgres:
            postgres.stop()


if __name__ == "__main__":
    main()
