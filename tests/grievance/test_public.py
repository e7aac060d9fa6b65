"""Citizen routes: submit anonymously, track by code, reopen, rate; no personal data out."""

from __future__ import annotations

import json
import uuid

from services.grievance.grievances.tracking_code import ALPHABET, display, new_code
from services.grievance.households import repository as households
from tests.grievance.conftest import act, public_submission
from tests.harness import GRIEVANCE_CS_PHNOM_PENH_THMEI

PERSONAL = ("Sok Dara", "855", "female", "18_35", "idpoor", "complainant", "description")


async def submit(client, **overrides) -> dict:
    response = await client.post("/public/grievances", json=public_submission(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_citizen_submits_anonymously_and_tracks_by_code(service):
    async with service.client(None) as citizen:
        receipt = await submit(citizen)
        code = receipt["tracking_code"]
        tracked = await citizen.get(f"/public/grievances/{code}")
        spoken = await citizen.get(f"/public/grievances/{code.replace('-', ' ').lower()}")
    assert len(code) == 12 and set(code.replace("-", "")) <= set(ALPHABET)
    assert receipt["handled_by_tier"] == "cs"
    assert tracked.status_code == 200
    body = tracked.json()
    assert body["status"] == "submitted" and body["handled_by"] == "Phnom Penh Thmei"
    assert body["category_label"] == "Payment problem"
    assert spoken.status_code == 200


async def test_public_answers_never_carry_personal_data(service):
    async with service.client(None) as citizen:
        receipt = await submit(
            citizen,
            anonymous=False,
            complainant={"name": "Sok Dara", "phone": "+855 12 345 678", "sex": "female",
                         "age_group": "18_35", "vulnerabilities": ["idpoor"]},
        )  # fmt: skip
    code = receipt["tracking_code"]
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        listed = (await commune.get("/grievances")).json()["items"][0]
        assert listed["complainant"]["name"] == "Sok Dara"
        await act(commune, listed, "acknowledge", {"public_message": "We are checking."})
        await commune.post(
            f"/grievances/{listed['id']}/timeline",
            json={"kind": "internal_note", "text": "Called Sok Dara on +855 12 345 678."},
        )
    async with service.client(None) as citizen:
        tracked = await citizen.get(f"/public/grievances/{code}")
    text = json.dumps(receipt) + tracked.text
    for personal in PERSONAL:
        assert personal not in text, personal
    kinds = [e["kind"] for e in tracked.json()["timeline"]]
    assert kinds == ["submitted", "acknowledged"]
    assert tracked.json()["timeline"][1]["text"] == "We are checking."


async def test_unknown_and_mistyped_codes_look_the_same(service):
    async with service.client(None) as citizen:
        real = (await submit(citizen))["tracking_code"]
        mistyped = real[:-1] + next(c for c in ALPHABET if c != real[-1])
        answers = [
            await citizen.get(f"/public/grievances/{code}")
            for code in (display(new_code()), mistyped, "hello", "0" * 40)
        ]
    assert {a.status_code for a in answers} == {404}
    bodies = [{k: v for k, v in a.json().items() if k not in ("instance", "request_id")}
              for a in answers]  # fmt: skip
    assert all(b == bodies[0] for b in bodies)


async def test_too_many_failed_lookups_are_throttled_per_client(service):
    limit = service.app.state.settings.tracking_failures_per_hour
    headers = {"X-Forwarded-For": "198.51.100.23"}
    async with service.client(None) as citizen:
        real = (await submit(citizen))["tracking_code"]
        for _ in range(limit):
            miss = await citizen.get(f"/public/grievances/{display(new_code())}", headers=headers)
            assert miss.status_code == 404
        blocked = await citizen.get(f"/public/grievances/{real}", headers=headers)
        other = await citizen.get(
            f"/public/grievances/{real}", headers={"X-Forwarded-For": "198.51.100.24"}
        )
    assert blocked.status_code == 429 and "retry-after" in blocked.headers
    assert other.status_code == 200


async def test_reopen_within_the_period_and_not_after(service):
    async with service.client(None) as citizen:
        code = (await submit(citizen))["tracking_code"]
        early = await citizen.post(f"/public/grievances/{code}/reopen", json={"reason": "No"})
    assert early.status_code == 409
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        item = (await commune.get("/grievances")).json()["items"][0]
        await act(commune, item, "acknowledge")
        await act(commune, item, "resolve",
                  {"decision": "not_upheld", "resolution_summary": "Paid on 3 Nov."})  # fmt: skip
    service.clock.advance(days=10)
    async with service.client(None) as citizen:
        reopened = await citizen.post(
            f"/public/grievances/{code}/reopen", json={"reason": "I did not receive it."}
        )
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["status"] == "reopened"
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        item = (await commune.get(f"/grievances/{item['id']}")).json()
        assert item["due_kind"] == "acknowledge" and item["reopen_count"] == 1
        await act(commune, item, "acknowledge")
        await act(commune, item, "resolve",
                  {"decision": "upheld", "resolution_summary": "Paid again."})  # fmt: skip
    service.clock.advance(days=31)
    async with service.client(None) as citizen:
        late = await citizen.post(f"/public/grievances/{code}/reopen", json={"reason": "again"})
        blank = await citizen.post(f"/public/grievances/{code}/reopen", json={"reason": ""})
    assert late.status_code == 409
    assert late.json()["type"].endswith("reopen-period-ended")
    assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "reason"


async def test_rating_after_resolution_once(service):
    async with service.client(None) as citizen:
        code = (await submit(citizen))["tracking_code"]
        early = await citizen.post(f"/public/grievances/{code}/rating", json={"rating": 5})
    assert early.status_code == 409
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        item = (await commune.get("/grievances")).json()["items"][0]
        await act(commune, item, "acknowledge")
        await act(commune, item, "resolve",
                  {"decision": "upheld", "resolution_summary": "Paid."})  # fmt: skip
    async with service.client(None) as citizen:
        out_of_range = await citizen.post(f"/public/grievances/{code}/rating", json={"rating": 6})
        rated = await citizen.post(f"/public/grievances/{code}/rating", json={"rating": 4})
        again = await citizen.post(f"/public/grievances/{code}/rating", json={"rating": 1})
    assert out_of_range.status_code == 422
    assert out_of_range.json()["errors"][0]["field"] == "rating"
    assert rated.status_code == 200 and rated.json()["rating"] == 4
    assert again.status_code == 409


async def test_public_input_is_checked_field_by_field(service, infrastructure):
    cases = [
        ({"location_code": "12"}, "location_code"),
        ({"location_code": "abc"}, "location_code"),
        ({"category": "nonsense"}, "category"),
        ({"channel": "hotline"}, "channel"),
        ({"description": "x" * 5000}, "description"),
        ({"anonymous": False}, "complainant"),
        ({"anonymous": True, "complainant": {"name": "A"}}, "complainant"),
        ({"household_id": "6d1c9a4e-8f57-4f5e-9d45-1f0c1e2b3a4c"}, "household_id"),
    ]
    async with service.client(None) as citizen:
        for change, field in cases:
            response = await citizen.post("/public/grievances", json=public_submission(**change))
            assert response.status_code == 422, (change, response.text)
            assert field in [e["field"] for e in response.json()["errors"]], change
        short_key = await citizen.post(
            "/public/grievances", json=public_submission(), headers={"Idempotency-Key": "1"}
        )
        assert short_key.status_code == 400
        key = {"Idempotency-Key": "c7a4f1d0-2b9e-4e55-9a61-8d3c2f7b1e90"}
        first = await citizen.post("/public/grievances", json=public_submission(), headers=key)
        again = await citizen.post("/public/grievances", json=public_submission(), headers=key)
    assert first.json()["tracking_code"] == again.json()["tracking_code"]


async def test_a_taken_tracking_code_is_drawn_again(service, monkeypatch):
    async with service.client(None) as citizen:
        first = await submit(citizen)
        taken = first["tracking_code"].replace("-", "")
        fresh = new_code()
        draws = iter([taken, fresh])
        monkeypatch.setattr("services.grievance.grievances.service.new_code", lambda: next(draws))
        second = await submit(citizen)
    assert second["tracking_code"] == display(fresh)
    async with service.client(GRIEVANCE_CS_PHNOM_PENH_THMEI) as commune:
        listed = (await commune.get("/grievances")).json()["items"]
    assert len(listed) == 2


async def test_the_public_answer_does_not_tell_whether_a_household_code_exists(service):
    """Codes are sequential: if a known code moved the grievance to its household's commune,
    `handled_by` would list poor households by commune. A code known in Phnom Penh Thmei,
    given with Tuek Thla's commune, and an unknown code give the same public answer."""
    async with service.app.state.database.transaction() as session:
        await households.upsert(
            session,
            household_id=uuid.uuid4(),
            household_code="HH000000042",
            village_code="12080102",
            status="active",
            record_version=1,
            now=service.clock.now(),
        )
    views = []
    async with service.client(None) as citizen:
        for code in ("HH000000042", "HH000009999"):
            receipt = await submit(citizen, location_code="120802", household_code=code)
            tracked = (await citizen.get(f"/public/grievances/{receipt['tracking_code']}")).json()
            views.append(
                {k: v for k, v in tracked.items() if k not in ("tracking_code", "submitted_at")}
            )
    assert views[0] == views[1]
    assert views[0]["handled_by"] == "Tuek Thla"
