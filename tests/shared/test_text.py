"""Control characters are refused at the edge: the validated string types, and the guard every
service runs in front of its routes (query parameters and JSON strings at any depth)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError

from shared.problems import install_problem_handlers
from shared.text import ControlCharacterGuard, Line, Text


class Note(BaseModel):
    title: Line
    body: Text


@pytest.mark.parametrize("bad", ["a\x00b", "\x07", "esc\x1b[2J", "del\x7f", "c1\x85"])
def test_neither_type_takes_a_control_character(bad):
    for field in ("title", "body"):
        values = {"title": "ok", "body": "ok", field: bad}
        with pytest.raises(ValidationError) as refused:
            Note(**values)
        assert refused.value.errors()[0]["loc"] == (field,)


def test_text_keeps_its_line_breaks_and_a_line_does_not():
    note = Note(title="ផ្ទះលេខ ១២", body="First line\r\n\tsecond line")
    assert note.body == "First line\r\n\tsecond line"
    with pytest.raises(ValidationError):
        Note(title="two\nlines", body="")


def guarded_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/notes")
    async def create(note: dict) -> dict:
        return {"stored": note}

    @app.get("/search")
    async def search(q: str) -> dict:
        return {"q": q}

    app.add_middleware(ControlCharacterGuard)
    return app


async def call(method: str, url: str, **kwargs) -> httpx.Response:
    transport = httpx.ASGITransport(app=guarded_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.request(method, url, **kwargs)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Sok\u0000Dara"}, "name"),
        ({"members": [{"given_name": "ok"}, {"given_name": "x\u0000"}]}, "members.1.given_name"),
        ({"complainant": {"phone": "012\u001b345"}}, "complainant.phone"),
        ({"bad\u0000key": 1}, "bad\u0000key"),
    ],
)
async def test_a_json_string_with_a_control_character_is_a_422_naming_it(body, field):
    response = await call("POST", "/notes", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert error["field"] == field
    assert "control characters" in error["reason"]


async def test_a_query_parameter_with_a_control_character_is_a_422_naming_it():
    response = await call("GET", "/search", params={"q": "Da\u0000ra"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.q"


async def test_clean_requests_pass_untouched_line_breaks_and_khmer_included():
    body = {"description": "ខ្ញុំមិនបានទទួល\nthe October payment", "n": [1, None, True]}
    stored = await call("POST", "/notes", json=body)
    assert stored.status_code == 200
    assert stored.json() == {"stored": body}
    found = await call("GET", "/search", params={"q": "ដារា"})
    assert found.json() == {"q": "ដារា"}


async def test_malformed_json_is_left_to_the_framework():
    response = await call(
        "POST", "/notes", content=b'{"a": "\\u0000', headers={"content-type": "application/json"}
    )
    assert response.status_code in (400, 422)
