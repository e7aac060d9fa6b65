"""The platform fixture: every service process is up behind the gateway with the real policy."""


async def test_gateway_reports_every_service_ready(platform):
    async with platform.client("anonymous") as client:
        response = await client.get("/health")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok", body
    assert set(body["services"]) == {"registry", "grievance", "isaf", "budget"}
