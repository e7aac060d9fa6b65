"""A grievance about a registered household, across both services and the real broker:
the registry's household events route the grievance to the household's commune, and an
upheld exclusion-error grievance makes the registry open a reassessment case on it."""

from __future__ import annotations

import uuid

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
