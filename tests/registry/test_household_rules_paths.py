"""One household rulebook, every way in: the same table of cases goes through the API
(POST /households, and adding the member to a pending household), a file through the
import's validation, and change requests (register_household, add_member); every path gives
the same verdict: accepted, or refused naming the same fields.

The app's clock stands at 20:00 UTC, already the next day in Cambodia: every path judges
against the date in Cambodia (a birth "today" there is accepted, one a day later is not).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.registry.config import Settings
from services.registry.imports.parsing import COLUMNS, POVERTY_COLUMNS
from services.registry.main import create_app
from shared.clock import ManualClock
from tests.harness import CS_PHNOM_PENH_THMEI, client_for, running, wait_for
from tests.registry.factories import VILLAGE_PHNOM_PENH_THMEI, RegistryRows, make_household

NOW = datetime(2026, 6, 15, 20, 0, tzinfo=UTC)
TODAY = date(2026, 6, 16)  # in Cambodia (UTC+7)
HEAD_BIRTH = date(1985, 3, 14)
ASSESSED = date(2026, 1, 10)
VALID = date(2028, 1, 10)


def due(days: int) -> date:
    return TODAY + timedelta(days=days)


def head(**fields) -> dict[str, Any]:
    return {"relationship": "head", "sex": "female", "birth_date": HEAD_BIRTH, **fields}


def other(**fields) -> dict[str, Any]:
    return {"relationship": "child", "sex": "male", "birth_date": date(2010, 2, 2), **fields}


# (case, head, the other member or None, IDPoor status or None, fields refused)
CASES: list[tuple[str, dict, dict | None, dict | None, set[str]]] = [
    ("valid", head(), other(), None, set()),
    ("born-today-in-cambodia", head(), other(birth_date=TODAY), None, set()),
    ("born-tomorrow", head(), other(birth_date=TODAY + timedelta(days=1)), None, {"birth_date"}),
    ("over-120", head(), other(relationship="parent", birth_date=date(1900, 1, 1)), None,
     {"birth_date"}),
    ("due-in-300-days", head(), other(relationship="spouse", sex="female",
     birth_date=date(1990, 1, 1), pregnant=True, pregnancy_expected_on=due(300)), None, set()),
    ("due-in-305-days", head(), other(relationship="spouse", sex="female",
     birth_date=date(1990, 1, 1), pregnant=True, pregnancy_expected_on=due(305)), None,
     {"pregnancy_expected_on"}),
    ("due-today", head(), other(relationship="spouse", sex="female",
     birth_date=date(1990, 1, 1), pregnant=True, pregnancy_expected_on=TODAY), None,
     {"pregnancy_expected_on"}),
    ("pregnant-without-due-date", head(), other(relationship="spouse", sex="female",
     birth_date=date(1990, 1, 1), pregnant=True), None, {"pregnancy_expected_on"}),
    ("pregnant-man", head(), other(relationship="spouse", birth_date=date(1990, 1, 1),
     pregnant=True, pregnancy_expected_on=due(30)), None, {"pregnant"}),
    ("pregnant-at-70", head(), other(relationship="sibling", sex="female",
     birth_date=date(1956, 1, 1), pregnant=True, pregnancy_expected_on=due(30)), None,
     {"pregnant"}),
    ("due-date-without-pregnancy", head(), other(pregnancy_expected_on=due(30)), None,
     {"pregnancy_expected_on"}),
    ("child-older-than-head", head(), other(birth_date=date(1980, 1, 1)), None, {"birth_date"}),
    ("child-10-years-younger", head(), other(birth_date=date(1995, 3, 14)), None,
     {"birth_date"}),
    ("estimated-child-10-years-younger", head(), other(birth_date=date(1995, 3, 14),
     birth_date_estimated=True), None, set()),
    ("grandchild-20-years-younger", head(), other(relationship="grandchild",
     birth_date=date(2005, 3, 14)), None, {"birth_date"}),
    ("parent-younger-than-head", head(), other(relationship="parent",
     birth_date=date(1990, 1, 1)), None, {"birth_date"}),
    ("card-without-severity", head(), other(disability_card_number="DC-1"), None,
     {"disability_card_number"}),
    ("poor-without-valid-until", head(), None, {"level": "POOR_1", "method": "ROUND",
     "round_number": 10, "assessed_on": ASSESSED}, {"valid_until"}),
    ("not-poor-without-method", head(), None, {"level": "NOT_POOR", "assessed_on": ASSESSED},
     {"method"}),
    ("card-not-poor", head(), None, {"level": "NOT_POOR", "method": "ON_DEMAND",
     "assessed_on": ASSESSED, "equity_card_number": "EC-1"}, {"equity_card_number"}),
    ("on-demand-with-round", head(), None, {"level": "NOT_POOR", "method": "ON_DEMAND",
     "round_number": 3, "assessed_on": ASSESSED}, {"round_number"}),
    ("valid-until-on-assessment-day", head(), None, {"level": "POOR_2", "method": "ON_DEMAND",
     "assessed_on": ASSESSED, "valid_until": ASSESSED}, {"valid_until"}),
    ("assessed-tomorrow", head(), None, {"level": "NOT_POOR", "method": "ON_DEMAND",
     "assessed_on": TODAY + timedelta(days=1)}, {"assessed_on"}),
    ("poor-and-valid", head(), None, {"level": "POOR_1", "method": "ROUND", "round_number": 10,
     "assessed_on": ASSESSED, "valid_until": VALID, "equity_card_number": "EC-2"}, set()),
]  # fmt: skip
MEMBER_CASES = [c for c in CASES if c[2] is not None]
POVERTY_CASES = [c for c in CASES if c[3] is not None]
RULE_NAME = {column: name for name, column in POVERTY_COLUMNS.items()}


def named(index: int, values: dict, role: str) -> dict:
    """Distinct Latin names (letters only), so no case is a duplicate of another."""
    letters = "".join(chr(65 + int(d)) for d in f"{index:03d}")
    return {
        "family_name_km": "សុខ",
        "given_name_km": "ចាន់ថា",
        "family_name_latin": "Sok",
        "given_name_latin": f"{role}{letters}",
        **values,
    }


def as_json(values: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def household_body(index: int) -> dict:
    _, head_values, other_values, poverty, _ = CASES[index]
    members = [named(index, head_values, "Head")]
    if other_values is not None:
        members.append(named(index, other_values, "Other"))
    body: dict[str, Any] = {
        "village_code": VILLAGE_PHNOM_PENH_THMEI,
        "members": [as_json(m) for m in members],
    }
    if poverty is not None:
        body["poverty_status"] = as_json(poverty)
    return body


def fields_of(response) -> set[str]:
    """The verdict of an answer: no fields when accepted, else the refused fields' names."""
    if response.status_code in (200, 201):
        return set()
    assert response.status_code == 422, response.text
    return {e["field"].rsplit(".", 1)[-1] for e in response.json()["errors"]}


def settings(infrastructure) -> Settings:
    return Settings(
        database_url=infrastructure.database_url("registry"),
        kafka_bootstrap_servers=infrastructure.bootstrap_servers,
        log_json=False,
        consumers_enabled=False,
        relay_enabled=False,
    )


@pytest.fixture
async def app(infrastructure, clean_databases):
    app = create_app(settings(infrastructure), clock=ManualClock(NOW))
    async with running(app):
        yield app


def officer(app):
    return client_for(app, CS_PHNOM_PENH_THMEI, audience="registry")


def expected() -> dict[str, set[str]]:
    return {case: fields for case, *_, fields in CASES}


async def test_registration_through_the_api(app):
    async with officer(app) as client:
        verdicts = {
            case: fields_of(await client.post("/households", json=household_body(i)))
            for i, (case, *_) in enumerate(CASES)
        }
    assert verdicts == expected()


async def test_adding_the_member_to_a_pending_household(app):
    verdicts = {}
    async with officer(app) as client:
        for i, (case, head_values, other_values, _, _) in enumerate(MEMBER_CASES):
            created = await client.post(
                "/households",
                json={
                    "village_code": VILLAGE_PHNOM_PENH_THMEI,
                    "members": [as_json(named(100 + i, head_values, "Head"))],
                },
            )
            assert created.status_code == 201, created.text
            response = await client.post(
                f"/households/{created.json()['id']}/members",
                json=as_json(named(100 + i, other_values, "Other")),
                headers={"If-Match": '"1"'},
            )
            verdicts[case] = fields_of(response)
    assert verdicts == {case: fields for case, *_, fields in MEMBER_CASES}


def import_file() -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for i, (case, *_) in enumerate(CASES):
        body = household_body(i)
        poverty = {POVERTY_COLUMNS[k]: v for k, v in body.get("poverty_status", {}).items()}
        for n, values in enumerate(body["members"]):
            row = {
                "household_ref": case,
                "village_code": body["village_code"],
                **(poverty if n == 0 else {}),
                **values,
            }
            for flag in ("pregnant", "birth_date_estimated"):
                if flag in row:
                    row[flag] = "yes" if row[flag] else "no"
            writer.writerow(row)
    return buffer.getvalue().encode()


async def test_the_same_households_in_a_file(app):
    async with officer(app) as client:
        upload = await client.post("/imports", files={"file": ("cases.csv", import_file())})
        assert upload.status_code == 202, upload.text
        import_id = upload.json()["id"]

        async def validated():
            body = (await client.get(f"/imports/{import_id}")).json()
            return body if body["status"] in ("validated", "failed") else None

        body = await wait_for(validated, timeout=30)
        assert body["status"] == "validated", body
        issues, cursor = [], None
        while True:
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = (await client.get(f"/imports/{import_id}/errors", params=params)).json()
            issues += page["items"]
            if not (cursor := page["next_cursor"]):
                break
    verdicts: dict[str, set[str]] = {case: set() for case, *_ in CASES}
    for issue in issues:
        if issue["severity"] == "error":
            column = issue["column"]
            verdicts[issue["household_ref"]].add(RULE_NAME.get(column, column))
    assert verdicts == expected()
    accepted = sum(1 for fields in expected().values() if not fields)
    assert body["progress"]["households_valid"] == accepted


async def test_the_same_households_through_change_requests(app, infrastructure):
    async with RegistryRows(infrastructure.database_url("registry")) as session:
        active = await make_household(session)  # a head born HEAD_BIRTH, verified
        await session.commit()
    verdicts, added = {}, {}
    async with officer(app) as client:
        for i, (case, *_) in enumerate(CASES):
            response = await client.post(
                "/change-requests",
                json={
                    "change_type": "register_household",
                    "household": household_body(i),
                    "justification": "found in the field",
                },
            )
            verdicts[case] = fields_of(response)
        for i, (case, _, other_values, _, _) in enumerate(MEMBER_CASES):
            response = await client.post(
                "/change-requests",
                json={
                    "change_type": "add_member",
                    "household_id": str(active.id),
                    "member": as_json(named(200 + i, other_values, "Other")),
                    "justification": "born or moved in",
                },
            )
            added[case] = fields_of(response)
        for case, _, _, poverty, _ in POVERTY_CASES:
            response = await client.post(
                "/change-requests",
                json={
                    "change_type": "change_poverty_status",
                    "household_id": str(active.id),
                    "poverty_status": as_json(poverty),
                    "justification": "new assessment",
                },
            )
            added[f"poverty:{case}"] = fields_of(response)
    assert verdicts == expected()
    assert added == {
        **{case: fields for case, *_, fields in MEMBER_CASES},
        **{f"poverty:{case}": fields for case, *_, fields in POVERTY_CASES},
    }
