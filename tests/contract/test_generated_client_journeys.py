"""The registry and grievance journeys driven through the generated Python client, as a portal
team would: typed models in, typed models out, headers as the document declares them.

The client talks to the real gateway of the `platform` fixture (its ASGI app as transport),
with the demo people's tokens.
"""

from __future__ import annotations

import uuid
from importlib import import_module

import httpx

GATEWAY = "http://gateway.test"


def _client(sp_client, platform, caller: str):
    transport = httpx.ASGITransport(app=platform.gateway, client=("203.0.113.90", 5000))
    token = platform.token(caller)
    if token is None:
        return sp_client.Client(base_url=GATEWAY, httpx_args={"transport": transport})
    return sp_client.AuthenticatedClient(
        base_url=GATEWAY, token=token, httpx_args={"transport": transport}
    )


def _api(name: str):
    tag, operation = name.split(":")
    return import_module(f"sp_client.api.{tag}.{operation}")


async def test_registry_journey_through_the_generated_client(
    sp_client, platform, clean_databases, merged_document
):
    models = import_module("sp_client.models")
    example = merged_document["paths"]["/registry/households"]["post"]["requestBody"]["content"][
        "application/json"
    ]["example"]
    commune = _client(sp_client, platform, "cs.phnom-penh-thmei")
    district = _client(sp_client, platform, "dmk.sen-sok")

    created = await _api("households:registry_register_household").asyncio_detailed(
        client=commune,
        body=models.RegistryHouseholdCreate.from_dict(example),
        idempotency_key=str(uuid.uuid4()),
    )
    assert created.status_code == 201, created.content
    household = created.parsed
    assert isinstance(household, models.RegistryHouseholdPublic)
    assert created.headers["location"] == f"/registry/households/{household.id}"
    assert created.headers["etag"] == f'"{household.version}"'

    read = await _api("households:registry_get_household").asyncio_detailed(
        household.id, client=commune
    )
    assert read.status_code == 200 and read.parsed.code == household.code

    stale = await _api("households:registry_verify_household").asyncio_detailed(
        household.id, client=district, if_match='"999"'
    )
    assert stale.status_code == 412
    assert isinstance(stale.parsed, models.ProblemDocument)
    assert stale.parsed.type_ == "urn:kh-sp:problem:stale-version"
    assert stale.parsed.instance == f"/registry/households/{household.id}/verify"

    verified = await _api("households:registry_verify_household").asyncio_detailed(
        household.id, client=district, if_match=read.headers["etag"]
    )
    assert verified.status_code == 200, verified.content
    assert verified.parsed.status == models.RegistryHouseholdStatus.ACTIVE

    listed = await _api("households:registry_list_households").asyncio_detailed(
        client=commune, location="120801"
    )
    assert listed.status_code == 200
    assert [h.code for h in listed.parsed.items] == [household.code]

    provinces = await _api("reference:registry_list_gazetteer_provinces").asyncio_detailed(
        client=_client(sp_client, platform, "anonymous")
    )
    assert provinces.status_code == 200 and len(provinces.parsed.items) == 25


async def test_grievance_journey_through_the_generated_client(
    sp_client, platform, clean_databases, merged_document
):
    models = import_module("sp_client.models")
    citizen = _client(sp_client, platform, "anonymous")
    commune = _client(sp_client, platform, "cs.phnom-penh-thmei")
    example = merged_document["paths"]["/grievance/public/grievances"]["post"]["requestBody"][
        "content"
    ]["application/json"]["example"]

    submitted = await _api("public:grievance_submit_grievance").asyncio_detailed(
        client=citizen, body=models.GrievancePublicSubmission.from_dict(example)
    )
    assert submitted.status_code == 201, submitted.content
    code = submitted.parsed.tracking_code

    tracked = await _api("public:grievance_track_grievance").asyncio_detailed(code, client=citizen)
    assert tracked.status_code == 200 and tracked.parsed.status == "submitted"

    listed = await _api("grievances:grievance_list_grievances").asyncio_detailed(client=commune)
    assert listed.status_code == 200, listed.content
    grievance = next(g for g in listed.parsed.items if g.tracking_code == code)
    one = await _api("grievances:grievance_get_grievance").asyncio_detailed(
        grievance.id, client=commune
    )
    assert one.status_code == 200

    acknowledged = await _api("grievances:grievance_acknowledge_grievance").asyncio_detailed(
        grievance.id,
        client=commune,
        body=models.GrievanceAcknowledge.from_dict({"public_message": "We received it."}),
        if_match=one.headers["etag"],
    )
    assert acknowledged.status_code == 200, acknowledged.content
    assert acknowledged.parsed.status == models.GrievanceStatus.ACKNOWLEDGED

    start_work = _api("grievances:grievance_start_work_on_grievance")
    started = await start_work.asyncio_detailed(
        grievance.id,
        client=commune,
        body=models.GrievanceStartWork.from_dict({}),
        if_match=one.headers["etag"],  # the version before the acknowledgement
    )
    assert started.status_code == 412 and isinstance(started.parsed, models.ProblemDocument)

    lists = await _api("reference:grievance_list_reference_code_lists").asyncio_detailed(
        client=citizen
    )
    assert lists.status_code == 200
    categories = next(c for c in lists.parsed.code_lists if c.name == "categories")
    assert {i.code for i in categories.items} == set(models.GrievanceCategory)
