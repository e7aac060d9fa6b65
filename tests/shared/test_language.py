"""The caller's language from `Accept-Language`: Khmer or English, by q-value."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from shared.http.language import LanguageDep, preferred_language


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("km", "km"),
        ("en", "en"),
        ("km-KH", "km"),
        ("KM-kh,en;q=0.5", "km"),
        ("en-GB,km;q=0.9", "en"),
        ("en;q=0.4, km;q=0.8", "km"),
        ("fr, de;q=0.9", "en"),
        ("fr, km;q=0.1", "km"),
        ("km;q=0", "en"),
        ("km;q=0, en;q=0", "en"),
        ("km;q=zero, en;q=0.2", "en"),
        ("km;q=0.5, en;q=0.5", "km"),
        ("en;q=0.5, km;q=0.5", "en"),
        (" km ; q=0.7 ,en;q=0.6", "km"),
    ],
)
def test_preferred_language_honours_q_values(header, expected):
    assert preferred_language(header) == expected


async def test_dependency_reads_the_header_and_names_the_language():
    app = FastAPI()

    @app.get("/greeting")
    async def greeting(language: LanguageDep) -> dict[str, str]:
        return {"language": language}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        khmer = await client.get("/greeting", headers={"Accept-Language": "km,en;q=0.5"})
        default = await client.get("/greeting")

    assert khmer.json() == {"language": "km"}
    assert khmer.headers["Content-Language"] == "km"
    assert default.json() == {"language": "en"}
    assert default.headers["Content-Language"] == "en"
