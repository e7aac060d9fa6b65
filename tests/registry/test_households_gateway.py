"""Households through the gateway, as people use them: the commune registers, the district
verifies, the sibling commune sees nothing; the gateway's table refuses the wrong tier or role
before the service's own jurisdiction check is reached."""

from __future__ import annotations

from tests.harness import envelopes, read_topic
from tests.registry.factories import VILLAGE_PHNOM_PENH_THMEI, VILLAGE_TUEK_THLA
from tests.registry.test_households import household_body


async def test_commune_registers_district_verifies_sibling_sees_nothing(
    platform, infrastructure, clean_databases
):
    async with platform.client("cs.phnom-penh-thmei") as commune:
        created = await commune.post(
            "/registry/households", json=household_body(), headers={"Idempotency-Key": "gw-1"}
        )
        assert created.status_code == 201, created.text
        household = created.json()
        url = f"/registry/households/{household['id']}"
        read = await commune.get(url)
        assert read.status_code == 200 and read.json()["members"][0]["phone"] == "+85512345678"
        status = await commune.put(
            f"{url}/poverty-status",
            json={
                "level": "POOR_2",
                "score": 60,
                "method": "ON_DEMAND",
                "assessed_on": "2026-11-01",
                "valid_until": "2029-11-01",
                "vulnerability_categories": ["under_18"],
            },
            headers={"If-Match": read.headers["etag"]},
        )
        assert status.status_code == 200, status.text
        read = await commune.get(url)

    async with platform.client("dmk.sen-sok") as district:
        verified = await district.post(f"{url}/verify", headers={"If-Match": read.headers["etag"]})
        assert verified.status_code == 200, verified.text
        assert verified.json()["status"] == "active"
        assert verified.json()["verified_by"] == "demo:dmk.sen-sok"

    async with platform.client("cs.tuek-thla") as sibling:
        assert (await sibling.get(url)).status_code == 404
        by_code = await sibling.get(f"/registry/households/by-code/{household['code']}")
        assert by_code.status_code == 404
        member = household["members"][0]["id"]
        assert (await sibling.get(f"/registry/members/{member}")).status_code == 404
        assert (await sibling.get(f"{url}/history")).status_code == 404
        listing = await sibling.get("/registry/households")
        assert listing.status_code == 200 and listing.json()["items"] == []
        search = await sibling.get(
            "/registry/members/search", params={"district": "1208", "q": "Sok Chantha"}
        )
        assert search.status_code == 200 and search.json()["items"] == []

    async with platform.client("cp.phnom-penh") as capital:  # a viewer above: masked
        seen = (await capital.get(url)).json()
        assert seen["status"] == "active"
        assert seen["members"][0]["national_id"] == "*****3040"
        history = (await capital.get(f"{url}/poverty-status/history")).json()
        assert [h["level"] for h in history["items"]] == ["POOR_2"]
        expiring = await capital.get(
            "/registry/households",
            params={"location": "1208", "poverty_valid_until_before": "2030-01-01"},
        )
        assert [h["code"] for h in expiring.json()["items"]] == [household["code"]]

    async with platform.client("cp.banteay-meanchey") as other_province:
        assert (await other_province.get(url)).status_code == 404

    def about(records):
        return [e for e in envelopes(records) if e.get("subject") == household["id"]]

    events = about(
        await read_topic(
            infrastructure.bootstrap_servers,
            "sp.registry.household",
            until=lambda records: len(about(records)) >= 3,
        )
    )
    assert [e["type"] for e in events] == [
        "kh.gov.sp.registry.household.registered.v1",
        "kh.gov.sp.registry.household.poverty_status_changed.v1",
        "kh.gov.sp.registry.household.verified.v1",
    ]
    assert events[0]["jurisdiction"] == VILLAGE_PHNOM_PENH_THMEI


async def test_the_gateway_refuses_the_wrong_tier_or_role(platform, clean_databases):
    async with platform.client("cs.phnom-penh-thmei") as commune:
        household = (await commune.post("/registry/households", json=household_body())).json()
        url = f"/registry/households/{household['id']}"
        # A commune officer never verifies: refused by the gateway's tier rule.
        refused = await commune.post(f"{url}/verify", headers={"If-Match": '"1"'})
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"

    async with platform.client("dmk.sen-sok") as district:
        # A district officer does not register (tier cs only).
        assert (
            await district.post("/registry/households", json=household_body())
        ).status_code == 403
        # Nor edit directly.
        edit = await district.patch(url, json={"address": "x"}, headers={"If-Match": '"1"'})
        assert edit.status_code == 403

    async with platform.client("cp.phnom-penh") as capital:  # viewer: no verifier role
        assert (await capital.post(f"{url}/verify", headers={"If-Match": '"1"'})).status_code == 403

    async with platform.client("client:moh-health-equity") as machine:
        assert (await machine.get(url)).status_code == 403
        assert (await machine.get("/registry/households")).status_code == 403

    async with platform.client("anonymous") as anonymous:
        assert (await anonymous.get(url)).status_code == 401


async def test_the_service_refuses_a_commune_officer_outside_the_commune(platform, clean_databases):
    # The gateway lets any CS registry officer through; the service checks the commune.
    async with platform.client("cs.tuek-thla") as sibling:
        refused = await sibling.post(
            "/registry/households", json=household_body(VILLAGE_PHNOM_PENH_THMEI)
        )
        assert refused.status_code == 403
        assert "outside your jurisdiction" in refused.json()["detail"]
        own = await sibling.post("/registry/households", json=household_body(VILLAGE_TUEK_THLA))
        assert own.status_code == 201
        url = f"/registry/households/{own.json()['id']}"

    async with platform.client("cs.phnom-penh-thmei") as other:
        edit = await other.patch(url, json={"address": "x"}, headers={"If-Match": '"1"'})
        assert edit.status_code == 403
        assert (await other.get(url)).status_code == 404
