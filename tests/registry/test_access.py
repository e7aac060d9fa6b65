"""The registry's role dependencies answer 403 with the rule's detail before anything else."""

from __future__ import annotations

import uuid

from tests.harness import CP_PHNOM_PENH, DMK_SEN_SOK
from tests.registry.conftest import as_


async def test_a_viewer_cannot_open_a_case(app):
    async with as_(app, CP_PHNOM_PENH) as client:
        refused = await client.post(
            "/cases", json={"household_id": str(uuid.uuid4()), "case_type": "referral"}
        )
    assert refused.status_code == 403
    body = refused.json()
    assert body["type"] == "urn:kh-sp:problem:forbidden"
    assert body["detail"] == "Cases are worked by registry officers and verifiers."


async def test_only_national_verifiers_define_programmes(app):
    async with as_(app, DMK_SEN_SOK) as client:  # a verifier, but of a district
        created = await client.post("/programmes", json={"code": "X"})
        changed = await client.patch(
            "/programmes/FAMILY_PACKAGE", json={"active": False}, headers={"If-Match": '"1"'}
        )
    for refused in (created, changed):
        assert refused.status_code == 403, refused.text
        assert refused.json()["detail"] == (
            "Programmes are defined at the national level by registry verifiers."
        )


async def test_a_decision_on_an_unseen_enrolment_is_404_before_the_role_is_judged(app):
    async with as_(app, CP_PHNOM_PENH) as client:  # a viewer: not a decider
        unseen = await client.post(f"/enrolments/{uuid.uuid4()}/approve")
    assert unseen.status_code == 404
