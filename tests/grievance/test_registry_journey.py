"""A grievance about a registered household, across both services and the real broker:
the registry's household events route the grievance to the household's commune, and an
upheld exclusion-error grievance makes the registry open a reassessment case on it."""

from __future__ import annotations

import uuid

import asyncpg

from shared.db.engine import asyncpg_dsn
from tests.grievance.test_gateway import household_row
from tests.harness import wait_for
from tests.registry.test_journey import family_with_a_baby


async def test_an_upheld_exclusion_error_opens_a_reassessment_case_in_the_registry(
    platform, infrastructure, clean_databases
):
    # The commune registers a household and the district verifies it, in the registry.
    async with platform.client("cs.phnom-penh-thmei") as commune:
        created = await commune.post("/registry/households", json=family_with_a_baby())
        assert created.status_code == 201, created.text
        household = created.json()
        url = f"/registry/households/{household['id']}"
        etag = (await commune.get(url)).headers["etag"]
    async with platform.client("dmk.sen-sok") as district:
        verified = await district.post(f"{url}/verify", headers={"If-Match": etag})
        assert verified.status_code == 200, verified.text

    # The grievance service learns where the household lives from the registry's events.
    household_id = uuid.UUID(household["id"])

    async def known():
        return await household_row(infrastructure, household_id)

    row = await wait_for(known, timeout=30)
    assert row["village_code"] == "12080102"

    # A citizen complains by household code; the commune of that household handles it.
    async with platform.client("anonymous", client_ip="203.0.113.77") as citizen:
        submitted = await citizen.post(
            "/grievance/public/grievances",
            json={
                "category": "exclusion_error",
                "description": "Our Family Package stopped after the baby was born.",
                "location_code": "120801",
                "anonymous": True,
                "household_code": household["code"],
            },
        )
        assert submitted.status_code == 201, submitted.text
    code = submitted.json()["tracking_code"]
    async with platform.client("cs.phnom-penh-thmei") as commune:
        queue = (await commune.get("/grievance/worklists/assigned")).json()["items"]
        grievance = next(g for g in queue if g["tracking_code"] == code)
        assert grievance["household_id"] == household["id"]
        path = f"/grievance/grievances/{grievance['id']}"
        acknowledged = await commune.post(
            f"{path}/acknowledge", json={}, headers={"If-Match": f'"{grievance["version"]}"'}
        )
        assert acknowledged.status_code == 200, acknowledged.text
        resolved = await commune.post(
            f"{path}/resolve",
            json={"decision": "upheld", "resolution_summary": "The household will be reassessed."},
            headers={"If-Match": acknowledged.headers["etag"]},
        )
        assert resolved.status_code == 200, resolved.text

        # The registry opens one reassessment case on the household's commune.
        async def reassessment():
            listing = await commune.get("/registry/cases", params={"household_id": household["id"]})
            items = listing.json()["items"]
            return items or None

        [case] = await wait_for(reassessment, timeout=30)
    assert case["case_type"] == "reassessment"
    assert case["origin"] == f"grievance:{grievance['id']}"
    assert case["assigned_admin_code"] == "120801"

    # The sibling commune sees neither the grievance nor the case.
    async with platform.client("cs.tuek-thla") as sibling:
        assert (await sibling.get(path)).status_code == 404
        assert (await sibling.get(f"/registry/cases/{case['id']}")).status_code == 404


async def member_row(infrastructure, member_id: uuid.UUID):
    conn = await asyncpg.connect(asyncpg_dsn(infrastructure.database_url("grievance")))
    try:
        return await conn.fetchrow("SELECT * FROM household_member WHERE member_id = $1", member_id)
    finally:
        await conn.close()


async def test_a_grievance_names_only_a_member_of_its_household(
    platform, infrastructure, clean_databases
):
    """The grievance service learns the registry's members from its events: staff intake about
    a household accepts its member and refuses a person of another commune's household."""
    households = {}
    for commune, village in (("cs.phnom-penh-thmei", "12080102"), ("cs.tuek-thla", "12080204")):
        async with platform.client(commune) as client:
            created = await client.post(
                "/registry/households", json={**family_with_a_baby(), "village_code": village}
            )
            assert created.status_code == 201, created.text
            household = created.json()
            url = f"/registry/households/{household['id']}"
            etag = (await client.get(url)).headers["etag"]
            # A member joining the pending household is announced as member.added.
            joined = await client.post(
                f"{url}/members",
                json={"family_name_km": "សុខ", "given_name_km": "វិបុល",
                      "family_name_latin": "Sok", "given_name_latin": "Vibol", "sex": "male",
                      "birth_date": "2010-02-03", "relationship": "child"},
                headers={"If-Match": etag},
            )  # fmt: skip
            assert joined.status_code == 201, joined.text
            vibol = next(m for m in joined.json()["members"] if m["given_name_latin"] == "Vibol")
            households[commune] = (household, vibol["id"])

    async def announced(member_id: str):
        async def row():
            return await member_row(infrastructure, uuid.UUID(member_id))

        return await wait_for(row, timeout=30)

    for _household, member_id in households.values():
        await announced(member_id)
    own, _ = households["cs.phnom-penh-thmei"]
    # The head came with the household's registration (household.registered carries its
    # members); the other commune's Vibol joined later (member.added): both paths count.
    own_member = own["head_member_id"]
    await announced(own_member)
    _, far_member = households["cs.tuek-thla"]
    body = {
        "channel": "commune_office",
        "category": "exclusion_error",
        "description": "The boy was not counted for the scholarship.",
        "household_id": own["id"],
        "anonymous": True,
    }
    async with platform.client("cs.phnom-penh-thmei") as commune:
        refused = await commune.post(
            "/grievance/grievances", json={**body, "member_id": far_member}
        )
        accepted = await commune.post(
            "/grievance/grievances", json={**body, "member_id": own_member}
        )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "member_id"
    assert accepted.status_code == 201, accepted.text


async def grievance_row(infrastructure, tracking_code: str):
    conn = await asyncpg.connect(asyncpg_dsn(infrastructure.database_url("grievance")))
    try:
        return await conn.fetchrow(
            "SELECT household_id, location_code, claimed_household_code FROM grievance "
            "WHERE tracking_code = $1",
            tracking_code.replace("-", ""),
        )
    finally:
        await conn.close()


async def test_a_household_announced_after_the_grievance_is_linked_then(
    platform, infrastructure, clean_databases
):
    """A citizen names a household code the grievance service has not heard of yet (the
    registry's event is still on its way): the grievance is linked when the event arrives, in
    the commune the citizen named, and a code announced in another commune links nothing."""
    import random

    from services.registry.households.codes import format_household_code
    from shared.events.catalog.registry import HouseholdRegistered
    from tests.grievance.test_gateway import publish_household_event

    ordered_key = uuid.uuid4()  # one partition for both events
    numbers = random.sample(range(10_000_000, 99_999_999), 2)
    here, elsewhere = (format_household_code(n) for n in numbers)
    codes = {}
    async with platform.client("anonymous", client_ip="203.0.113.78") as citizen:
        for code in (here, elsewhere):
            submitted = await citizen.post(
                "/grievance/public/grievances",
                json={"category": "exclusion_error", "description": "Left out of the list.",
                      "location_code": "120801", "anonymous": True, "household_code": code},
            )  # fmt: skip
            assert submitted.status_code == 201, submitted.text
            codes[code] = submitted.json()["tracking_code"]
    assert (await grievance_row(infrastructure, codes[here]))["household_id"] is None

    # The other commune's household first: both events go out in order, so once the first
    # grievance is linked the late-links consumer has seen the other household too.
    households = {elsewhere: (uuid.uuid4(), "12080204"), here: (uuid.uuid4(), "12080102")}
    for code, (household_id, village) in households.items():
        await publish_household_event(
            infrastructure,
            HouseholdRegistered(
                household_id=household_id, household_code=code, village_code=village,
                status="pending_verification", record_version=1, member_count=1,
            ),
            ordered_key,
        )  # fmt: skip

    async def linked():
        row = await grievance_row(infrastructure, codes[here])
        return row if row["household_id"] is not None else None

    row = await wait_for(linked, timeout=30)
    assert row["household_id"] == households[here][0]
    assert row["location_code"] == "12080102"
    other = await grievance_row(infrastructure, codes[elsewhere])
    assert other["household_id"] is None, "a household in another commune was linked"
