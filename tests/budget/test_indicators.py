"""Indicators: the registry read model kept from registry events (idempotent, newer versions
win), gazetteer counts, datasets checked against the gazetteer and immutable once used; a
poverty-weighted national run reads the registry's households."""

from __future__ import annotations

import uuid

from services.budget.indicators.consumer import _keep, _keep_member
from shared.consumer import ConsumerContext
from shared.events.catalog.registry import (
    HouseholdRegistered,
    HouseholdVerified,
    MemberRemoved,
    PovertyStatusChanged,
    RegisteredMember,
)
from tests.budget.conftest import (
    BANTEAY_MEANCHEY,
    NATIONAL_APPROVER,
    NATIONAL_PLANNER,
    PP_PLANNER,
    YEAR,
    census_csv,
    ok,
    open_year_with_envelope,
    publish,
)


async def feed(service, *events) -> None:
    """Apply registry events through the consumer's handlers, each in its own transaction."""
    context = ConsumerContext(clock=service.clock)
    for event in events:
        handler = _keep_member if isinstance(event, MemberRemoved) else _keep
        async with service.app.state.database.transaction() as session:
            await handler(session, event, None, context=context)


def household(village: str, level: str, *, members=((1990,), (2015,), (1950,))):
    household_id = uuid.uuid4()
    people = [
        RegisteredMember(member_id=uuid.uuid4(), relationship="head", sex="female",
                         birth_year=year)
        for (year,) in members
    ]  # fmt: skip
    base = {"household_id": household_id, "household_code": "HH" + household_id.hex[:6],
            "village_code": village}  # fmt: skip
    return household_id, people, [
        HouseholdRegistered(**base, status="pending_verification", record_version=1,
                            member_count=len(people), members=people),
        PovertyStatusChanged(**base, status="pending_verification", record_version=2,
                             level=level, previous_level=None, method="ON_DEMAND",
                             assessed_on=None, valid_until=None),
        HouseholdVerified(**base, status="active", record_version=3),
    ]  # fmt: skip


async def test_registry_events_feed_the_indicators_and_a_poverty_weighted_run(service):
    _, people, poor_1 = household("12080101", "POOR_1")
    _, _, poor_2 = household("12080201", "POOR_2", members=((2000,),))
    _, _, pending = household("01020101", "POOR_1")
    await feed(service, *poor_1, *poor_2, *pending[:2])  # the last is never verified
    # Redelivered and late events change nothing: version 2 again, then version 1.
    await feed(service, poor_1[1], poor_1[0])
    await feed(
        service,
        MemberRemoved(member_id=people[2].member_id, household_id=poor_1[0].household_id,
                      village_code="12080101", record_version=2, reason="deceased"),
    )  # fmt: skip
    async with service.client(PP_PLANNER) as province:
        table = await ok(await province.get("/indicators", params={"fiscal_year": YEAR,
                                                                   "area": "12"}))  # fmt: skip
        outside = await province.get("/indicators", params={"fiscal_year": YEAR, "area": "01"})
    sen_sok = next(u for u in table["units"] if u["admin_code"] == "1208")
    assert sen_sok["values"]["households"] == 2
    assert sen_sok["values"]["households_poor_1"] == 1
    assert sen_sok["values"]["households_poor_2"] == 1
    # Members: 2 left in the first household (one died) + 1; under 18 in 2027: born 2015.
    assert sen_sok["values"]["members"] == 3
    assert sen_sok["values"]["vulnerable_members"] == 1
    assert sen_sok["values"]["communes"] > 0 and sen_sok["values"]["villages"] > 0
    assert table["provenance"]["villages"]["source"] == "NCDD gazetteer"
    assert outside.status_code == 404

    async with service.client(NATIONAL_PLANNER) as national:
        await open_year_with_envelope(national, amount=1_000_000_000)
    run = await publish(
        service, NATIONAL_PLANNER, NATIONAL_APPROVER,
        {"fiscal_year": YEAR, "line_code": "social_assistance", "formula_code": "POVERTY_WEIGHTED"},
    )  # fmt: skip
    amounts = {u["admin_code"]: u for u in run["units"]}
    assert sum(u["amount_riel"] for u in run["units"]) == 1_000_000_000
    # Only Phnom Penh has active poor households: 80 % goes there; everyone gets 20 % / 25.
    assert amounts["12"]["amount_riel"] == 8_000_000 + 800_000_000
    assert amounts["01"]["amount_riel"] == 8_000_000
    poverty = amounts["12"]["components"][1]
    assert poverty["value"] == 3 and poverty["total"] == 3  # 2 x POOR_1 + 1 x POOR_2
    assert amounts["01"]["components"][1]["value"] is None  # no data: only the equal share


async def test_datasets_are_checked_against_the_gazetteer_and_kept_once_used(service):
    good = census_csv("12", 6).decode()
    rows = good.strip().split("\n")
    unknown = "\n".join([*rows, "129999,5"]) + "\n"
    missing = "\n".join(rows[:-2]) + "\n"
    negative = good.replace(f"{rows[1].split(',')[0]},1000", f"{rows[1].split(',')[0]},-5", 1)
    meta = {"code": "population", "name": "Census", "source": "NIS census 2019",
            "reference_date": "2019-03-03", "level": "commune", "area": "12"}  # fmt: skip
    async with service.client(NATIONAL_PLANNER) as national:
        bad_unknown = await national.post(
            "/datasets", data=meta, files={"file": ("p.csv", unknown.encode())}
        )
        bad_missing = await national.post(
            "/datasets", data=meta, files={"file": ("p.csv", missing.encode())}
        )
        dataset = await ok(
            await national.post("/datasets", data=meta, files={"file": ("p.csv", good.encode())}),
            201,
        )
        national_zero = await ok(
            await national.post(
                "/datasets",
                data={**meta, "code": "schools", "area": "", "level": "province"},
                files={
                    "file": (
                        "s.csv",
                        b"admin_code,value\n"
                        + b"".join(
                            f"{int(c):d},3\n".encode() for c in [f"{i:02d}" for i in range(1, 26)]
                        ),
                    )
                },
            ),
            201,
        )
        await open_year_with_envelope(national)
    async with service.client(NATIONAL_PLANNER) as national:
        bad_value = await national.post(
            "/datasets", data=meta, files={"file": ("p.csv", negative.encode())}
        )
    async with service.client(BANTEAY_MEANCHEY) as province:
        refused = await province.post("/datasets", data=meta,
                                      files={"file": ("p.csv", good.encode())})  # fmt: skip
    assert bad_value.status_code == 422
    assert bad_value.json()["errors"][0]["field"] == "file.row 2.value"
    assert bad_unknown.status_code == 422
    assert "unknown units: 129999" in bad_unknown.json()["detail"]
    assert bad_missing.status_code == 422
    last_two = [r.split(",")[0] for r in rows[-2:]]
    assert all(code in bad_missing.json()["detail"] for code in last_two)
    assert dataset["row_count"] == len(rows) - 1
    assert national_zero["row_count"] == 25  # "1" read as province 01
    assert refused.status_code == 403
    async with service.client(NATIONAL_PLANNER) as national:
        run = await ok(await national.post("/allocation-runs", json={
            "fiscal_year": YEAR, "line_code": "social_assistance",
            "formula_code": "COMMUNE_FUND_2024_2028", "unit_level": "commune",
            "units": ["120801", "120802"]}), 201)  # fmt: skip
        removal = await national.delete(f"/datasets/{dataset['id']}")
        unused = await national.delete(f"/datasets/{national_zero['id']}")
    assert run["provenance"]["dataset.population"]["dataset_id"] == dataset["id"]
    assert removal.status_code == 409
    assert unused.status_code == 204
