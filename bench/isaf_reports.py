"""I-SAF at national scale: summary reports beside hand-written SQL, and sitting uploads.

    python -m bench.isaf_reports [--communes 1652] [--years 10] [--participants 25]
                                 [--indicators 8] [--runs 20] [--uploads 40] [--seconds 10]
    python -m bench.isaf_reports --small     # 40 communes x 3 years: a minute, for checking

Starts its own embedded PostgreSQL (.local/bench-postgres) and Tansu broker unless
BENCH_POSTGRES_URL / KAFKA_BOOTSTRAP_SERVERS are given, then:

1. loads a synthetic decade with set-based SQL: a cycle per commune and year, the three
   facility types, one completed community scorecard per facility and year with
   `--participants` anonymous profiles voting on `--indicators` standard indicators (the full
   run: 1,652 x 10 x 3 x 25 x 8 = about 9.9 million votes), an I4C dissemination, an
   interface meeting and a public forum per cycle, a JAAP with five actions, two CAFs per
   commune trained every year;
2. runs the I-SAF service as a real process behind the gateway in this process (the real
   policy with rate limits lifted, the development issuer) and times the summary report,
   national and for one province (Banteay Meanchey, where the synthetic communes start),
   p50/p95 over `--runs`, beside a hand-written SQL aggregate of the same figures on the same
   tables (target: the service within 2x of that SQL);
3. uploads 300-vote sittings (30 participants x 10 indicators) through the gateway: p50/p95
   one at a time, then sittings/s with 8 concurrent clients for `--seconds`.

Prints figures with the load average beside them (the machine may be shared); asserts
nothing. The load is what takes time at full scale (several minutes); `--small` is the
option for a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import yaml

from devstack.broker import TansuBroker
from devstack.postgres import EmbeddedPostgres, create_databases, free_port
from gateway.identity.dev_issuer import DevIssuer
from shared.db.engine import asyncpg_dsn
from shared.gazetteer import Level, get_gazetteer
from shared.migrations import upgrade

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / ".local" / "bench-isaf"
FIRST_YEAR = 2016
PREFIX = {"commune_administration": "CS", "health_centre": "HC", "primary_school": "PS"}

_LOAD = [
    # Cycles and facilities.
    """INSERT INTO cycle (id, location_code, year, stage, stage_changed_at, created_by, created_at)
       SELECT gen_random_uuid(), c, y, 'monitoring', now(), 'bench', now()
       FROM unnest($1::text[]) c, generate_series($2::int, $3::int) y""",
    """INSERT INTO facility (id, location_code, facility_type, name_km, name_en, created_by,
                             created_at)
       SELECT gen_random_uuid(), c, t, t || ' ' || c, t || ' ' || c, 'bench', now()
       FROM unnest($1::text[]) c,
            unnest(ARRAY['commune_administration', 'health_centre', 'primary_school']) t""",
    # CAFs (a woman and a man per commune), trained every year.
    """INSERT INTO caf (id, location_code, name, sex, active, created_at, updated_at)
       SELECT gen_random_uuid(), c, 'CAF ' || s || ' ' || c, s, true, now(), now()
       FROM unnest($1::text[]) c, unnest(ARRAY['female', 'male']) s""",
    """INSERT INTO training (id, location_code, audience, topics, starts_on, ends_on, venue,
                             attendees_total, attendees_female, attendees_male, recorded_by,
                             recorded_at)
       SELECT gen_random_uuid(), c, 'caf', ARRAY['I-SAF'], make_date(y, 2, 1),
              make_date(y, 2, 2), 'hall', 2, 1, 1, 'bench', now()
       FROM unnest($1::text[]) c, generate_series($2::int, $3::int) y""",
    """INSERT INTO training_attendance (training_id, caf_id)
       SELECT t.id, f.id FROM training t JOIN caf f ON f.location_code = t.location_code""",
    # Activities: an I4C dissemination, an interface meeting, a public forum per cycle.
    """INSERT INTO activity (id, cycle_id, location_code, activity_type, held_on, venue,
                             facilitator_caf_ids, participants_total, participants_female,
                             participants_male, with_disability, ethnic_minority, youth, idpoor,
                             booklets, recorded_by, recorded_at)
       SELECT gen_random_uuid(), cy.id, cy.location_code, t, make_date(cy.year, 3, 1), 'hall',
              '{}', 50, 27, 23, 2, 1, 9, 11, 0, 'bench', now()
       FROM cycle cy,
            unnest(ARRAY['i4c_dissemination', 'interface_meeting', 'public_forum']) t""",
    # JAAPs with five actions: two completed, one dropped, one in progress, one not started.
    """INSERT INTO jaap (id, cycle_id, location_code, year, adopted_on, adopted_by, recorded_at)
       SELECT gen_random_uuid(), id, location_code, year, make_date(year, 6, 1), 'bench', now()
       FROM cycle""",
    """INSERT INTO jaap_action (id, jaap_id, location_code, year, description,
                                responsible_party, responsible_tier, deadline, budget_need_riel,
                                status, status_changed_at, created_at)
       SELECT gen_random_uuid(), j.id, j.location_code, j.year, 'action ' || n, 'council', 'cs',
              make_date(j.year, 12, 1), 0,
              (ARRAY['completed', 'completed', 'dropped', 'in_progress', 'not_started'])[n],
              now(), now()
       FROM jaap j, generate_series(1, 5) n""",
]

# One year at a time: scorecards, participants, indicators, votes (the bulk of the rows).
_SCORECARDS = [
    """INSERT INTO scorecard (id, cycle_id, facility_id, facility_type, location_code, year, kind,
                              status, catalogue_version, held_on, venue, participants_total,
                              participants_female, sitting_digest, completed_at, created_by,
                              created_at, updated_at)
       SELECT gen_random_uuid(), cy.id, f.id, f.facility_type, cy.location_code, cy.year,
              'community', 'completed', 1, make_date(cy.year, 4, 1), 'yard', $2::int,
              ($2::int + 1) / 2, 'bench', now(), 'bench', now(), now()
       FROM cycle cy JOIN facility f ON f.location_code = cy.location_code
       WHERE cy.year = $1 AND $3::int > 0""",
    """INSERT INTO scorecard_participant (scorecard_id, id, sex, disability, ethnic_minority,
                                          youth, idpoor)
       SELECT s.id, md5(s.id::text || 'p' || p)::uuid,
              CASE WHEN p % 2 = 1 THEN 'female' ELSE 'male' END, p % 11 = 0, p % 13 = 0,
              p % 3 = 0, p % 4 = 0
       FROM scorecard s, generate_series(1, $2::int) p WHERE s.year = $1 AND $3::int > 0""",
    """INSERT INTO scorecard_indicator (scorecard_id, id, position, source, code, name_km,
                                        name_en, selected, votes)
       SELECT s.id, md5(s.id::text || 'i' || k)::uuid, k,  'standard',
              (CASE s.facility_type WHEN 'health_centre' THEN 'HC'
                    WHEN 'primary_school' THEN 'PS' ELSE 'CS' END) || lpad(k::text, 2, '0'),
              'indicator ' || k, 'indicator ' || k, true, $2::int
       FROM scorecard s, generate_series(1, $3::int) k WHERE s.year = $1""",
    """INSERT INTO scorecard_vote (scorecard_id, indicator_id, participant_id, score)
       SELECT s.id, md5(s.id::text || 'i' || k)::uuid, md5(s.id::text || 'p' || p)::uuid,
              1 + (abs(hashtext(s.id::text || p || k)) % 5)
       FROM scorecard s, generate_series(1, $2::int) p, generate_series(1, $3::int) k
       WHERE s.year = $1""",
    # The medians the service computes on upload, by the same rule (percentile_cont).
    """UPDATE scorecard_indicator i SET median = m.median
       FROM (SELECT v.scorecard_id, v.indicator_id,
                    percentile_cont(0.5) WITHIN GROUP (ORDER BY v.score) AS median
             FROM scorecard_vote v JOIN scorecard s ON s.id = v.scorecard_id
             WHERE s.year = $1 AND $2::int > 0 AND $3::int > 0
             GROUP BY 1, 2) m
       WHERE i.scorecard_id = m.scorecard_id AND i.id = m.indicator_id""",
]

# The same figures as GET /reports/summary, written by hand on the same tables.
HAND_WRITTEN = """
WITH acts AS (
    SELECT extract(year FROM held_on)::int AS year, activity_type, count(*) AS n,
           sum(participants_total) AS people, sum(participants_female) AS women
    FROM activity WHERE location_code LIKE $1 AND held_on >= make_date($2, 1, 1)
      AND held_on < make_date($3 + 1, 1, 1)
    GROUP BY 1, 2
), cards AS (
    SELECT s.year, s.kind, count(DISTINCT s.id) AS n, count(p.id) AS people,
           count(p.id) FILTER (WHERE p.sex = 'female') AS women
    FROM scorecard s LEFT JOIN scorecard_participant p ON p.scorecard_id = s.id
    WHERE s.location_code LIKE $1 AND s.status = 'completed' AND s.year BETWEEN $2 AND $3
    GROUP BY 1, 2
), actions AS (
    SELECT year, count(*) AS adopted, count(*) FILTER (WHERE status = 'completed') AS done,
           count(*) FILTER (WHERE status = 'dropped') AS dropped
    FROM jaap_action WHERE location_code LIKE $1 AND year BETWEEN $2 AND $3 GROUP BY 1
), plans AS (
    SELECT year, count(*) AS jaaps FROM jaap
    WHERE location_code LIKE $1 AND year BETWEEN $2 AND $3 GROUP BY 1
), trained AS (
    SELECT extract(year FROM t.starts_on)::int AS year, count(DISTINCT c.id) AS cafs,
           count(DISTINCT c.id) FILTER (WHERE c.sex = 'female') AS women
    FROM training_attendance a JOIN training t ON t.id = a.training_id
    JOIN caf c ON c.id = a.caf_id
    WHERE c.location_code LIKE $1 AND t.audience = 'caf'
      AND extract(year FROM t.starts_on) BETWEEN $2 AND $3
    GROUP BY ROLLUP (1)
)
SELECT (SELECT json_agg(acts) FROM acts), (SELECT json_agg(cards) FROM cards),
       (SELECT json_agg(actions) FROM actions), (SELECT json_agg(plans) FROM plans),
       (SELECT json_agg(trained) FROM trained)
"""


def _load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f} {five:.1f} {fifteen:.1f}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def load(url: str, communes: list[str], years: int, participants: int, indicators: int):
    conn = await asyncpg.connect(asyncpg_dsn(url))
    last = FIRST_YEAR + years - 1
    started = time.perf_counter()
    try:
        for statement in _LOAD:
            needed = max((n for n in (1, 2, 3) if f"${n}" in statement), default=0)
            await conn.execute(statement, *(communes, FIRST_YEAR, last)[:needed])
        for year in range(FIRST_YEAR, last + 1):
            for statement in _SCORECARDS:
                await conn.execute(statement, year, participants, indicators)
            print(f"    year {year} loaded ({time.perf_counter() - started:.0f} s)", flush=True)
        await conn.execute("ANALYZE")
        votes = await conn.fetchval("SELECT count(*) FROM scorecard_vote")
    finally:
        await conn.close()
    return time.perf_counter() - started, votes


async def hand_written(url: str, prefix: str, years: tuple[int, int], runs: int) -> list[float]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    timings = []
    try:
        for _ in range(runs):
            started = time.perf_counter()
            await conn.fetchrow(HAND_WRITTEN, prefix + "%", *years)
            timings.append((time.perf_counter() - started) * 1000)
    finally:
        await conn.close()
    return timings


def upload_document(cycle_id: str, facility_id: str, year: int) -> dict:
    participants = [{"id": str(uuid.uuid4()), "sex": "female" if i % 2 else "male"}
                    for i in range(30)]  # fmt: skip
    indicators = [
        {"id": str(uuid.uuid4()), "source": "standard", "code": f"HC{k:02d}", "selected": True}
        for k in range(1, 9)
    ] + [
        {"id": str(uuid.uuid4()), "source": "participant", "name_km": f"សូចនាករ {k}",
         "selected": True}
        for k in range(2)
    ]  # fmt: skip
    pairs = [(p, i) for p in participants for i in indicators]
    votes = [
        {"participant_id": p["id"], "indicator_id": i["id"], "score": 1 + (n % 5)}
        for n, (p, i) in enumerate(pairs)
    ]
    return {"cycle_id": cycle_id, "facility_id": facility_id, "kind": "community",
            "held_on": f"{year}-05-01", "venue": "yard", "participants": participants,
            "indicators": indicators, "votes": votes}  # fmt: skip


async def run(args, postgres_url: str, bootstrap: str) -> None:
    await create_databases(postgres_url, ["bench_isaf"], recreate=True)
    url = f"{postgres_url}/bench_isaf"
    await asyncio.to_thread(upgrade, ROOT / "services" / "isaf", url)
    communes = [u.code for u in get_gazetteer().descendants("", Level.COMMUNE)][: args.communes]
    province = communes[0][:2]
    print(f"  loading {len(communes):,} communes x {args.years} years ...", flush=True)
    seconds, votes = await load(url, communes, args.years, args.participants, args.indicators)
    print(f"  loaded {votes:,} votes in {seconds:.0f} s ({_load_average()})", flush=True)
    years = (FIRST_YEAR, FIRST_YEAR + args.years - 1)

    port = free_port()
    env = {**os.environ, "ISAF_DATABASE_URL": url, "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
           "ISAF_LOG_LEVEL": "WARNING", "SP_ENVIRONMENT": "development"}  # fmt: skip
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, before measuring
        [sys.executable, "-m", "uvicorn", "services.isaf.main:app", "--port", str(port),
         "--no-access-log"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(150):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:  # noqa: ASYNC210
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
        from gateway.config import Settings as GatewaySettings
        from gateway.main import create_app as create_gateway

        DATA_DIR.mkdir(parents=True, exist_ok=True)
        policy = yaml.safe_load((ROOT / "gateway" / "policy.yml").read_text())
        policy["rate_classes"] = {
            name: {"per_second": 1_000_000, "burst": 1_000_000} for name in policy["rate_classes"]
        }
        (DATA_DIR / "policy.yml").write_text(yaml.safe_dump(policy))
        issuer_url = "http://gateway.bench/dev/idp"
        gateway = create_gateway(GatewaySettings(
            isaf_url=f"http://127.0.0.1:{port}", dev_issuer_enabled=True,
            dev_issuer_url=issuer_url, policy_file=DATA_DIR / "policy.yml", log_json=False,
            log_level="WARNING",
        ))  # fmt: skip
        issuer = DevIssuer(issuer_url, "sp-platform")

        def client(person: str) -> httpx.AsyncClient:
            return httpx.AsyncClient(
                transport=httpx.ASGITransport(app=gateway), base_url="http://gateway.bench",
                headers={"Authorization": f"Bearer {issuer.person_token(person)}"}, timeout=600,
            )  # fmt: skip

        async with gateway.router.lifespan_context(gateway):
            params = {"from_year": years[0], "to_year": years[1]}
            for label, person, prefix in (
                ("national", "national.officer", ""),
                (f"province {province}", "cp.banteay-meanchey", province),
            ):
                async with client(person) as http:
                    timings = []
                    for _ in range(args.runs):
                        started = time.perf_counter()
                        response = await http.get("/isaf/reports/summary", params=params)
                        assert response.status_code == 200, response.text
                        timings.append((time.perf_counter() - started) * 1000)
                sql = await hand_written(url, prefix, years, args.runs)
                service_p50, sql_p50 = statistics.median(timings), statistics.median(sql)
                print(f"  summary report, {label}: service p50 {service_p50:.0f} ms / p95 "
                      f"{percentile(timings, 0.95):.0f} ms; hand-written SQL p50 {sql_p50:.0f} ms"
                      f" / p95 {percentile(sql, 0.95):.0f} ms; ratio {service_p50 / sql_p50:.2f}"
                      f" ({_load_average()})", flush=True)  # fmt: skip

            async with client("dmk.sen-sok") as http:
                opened = await http.post(
                    "/isaf/cycles", json={"location_code": "120801", "year": 2099}
                )
                cycle = opened.json()
                facility = (await http.post("/isaf/facilities", json={
                    "location_code": "120801", "facility_type": "health_centre",
                    "name_km": "មណ្ឌល", "name_en": "Bench HC"})).json()  # fmt: skip
                timings = []
                for _ in range(args.uploads):
                    document = upload_document(cycle["id"], facility["id"], 2099)
                    started = time.perf_counter()
                    response = await http.put(f"/isaf/scorecards/{uuid.uuid4()}/sitting",
                                              json=document)  # fmt: skip
                    assert response.status_code == 201, response.text
                    timings.append((time.perf_counter() - started) * 1000)
                p50, p95 = statistics.median(timings), percentile(timings, 0.95)
                print(f"  300-vote sitting upload: p50 {p50:.0f} ms / p95 {p95:.0f} ms "
                      f"({_load_average()})", flush=True)  # fmt: skip
                done = 0
                deadline = time.perf_counter() + args.seconds

                async def uploader() -> None:
                    nonlocal done
                    while time.perf_counter() < deadline:
                        document = upload_document(cycle["id"], facility["id"], 2099)
                        response = await http.put(f"/isaf/scorecards/{uuid.uuid4()}/sitting",
                                                  json=document)  # fmt: skip
                        if response.status_code == 201:
                            done += 1

                started = time.perf_counter()
                await asyncio.gather(*(uploader() for _ in range(8)))
                elapsed = time.perf_counter() - started
                print(f"  sittings/s with 8 clients: {done / elapsed:.1f} ({_load_average()})",
                      flush=True)  # fmt: skip
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--communes", type=int, default=1652)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--participants", type=int, default=25)
    parser.add_argument("--indicators", type=int, default=8)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--uploads", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--small", action="store_true", help="40 communes x 3 years, short runs")
    args = parser.parse_args()
    if args.small:
        args.communes, args.years, args.runs, args.uploads, args.seconds = 40, 3, 5, 10, 3.0
    postgres = broker = None
    postgres_url = os.environ.get("BENCH_POSTGRES_URL")
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    try:
        if not postgres_url:
            postgres = EmbeddedPostgres(
                ROOT / ".local" / "bench-postgres" / "data", port=free_port()
            )
            postgres.start()
            postgres_url = postgres.url
        if not bootstrap:
            broker = TansuBroker(port=free_port())
            broker.start()
            bootstrap = broker.bootstrap_servers
        asyncio.run(run(args, postgres_url, bootstrap))
    finally:
        if broker:
            broker.stop()
        if postgres:
            postgres.stop()


if __name__ == "__main__":
    main()
