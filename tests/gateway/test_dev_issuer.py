"""The development issuer's token printer mints tokens the gateway `make run` started really
accepts (its port, its issuer), for as long as the README says, and the README's token table
lists exactly the demo people and clients it mints for."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import jwt

from gateway.identity.dev_issuer import CLIENTS, PEOPLE, TOKEN_TTL_SECONDS, DevIssuer
from shared.migrations import default_database_url
from tests.harness import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def printed_tokens(*args: str, **env: str) -> dict[str, dict]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SP_GATEWAY_PORT", "GATEWAY_DEV_ISSUER_URL")
    }
    done = subprocess.run(
        [sys.executable, "-m", "gateway.identity.dev_issuer", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**environment, **env},
        check=True,
    )
    tokens = dict(re.findall(r"^export (TOKEN_[A-Z0-9_]+)=(\S+)$", done.stdout, re.M))
    assert tokens, done.stdout + done.stderr
    return {
        name: {**jwt.decode(token, options={"verify_signature": False}), "_out": done.stdout}
        for name, token in tokens.items()
    }


def test_tokens_name_the_issuer_of_the_port_the_gateway_runs_on():
    on_8300 = printed_tokens(SP_GATEWAY_PORT="8300")
    assert {c["iss"] for c in on_8300.values()} == {"http://127.0.0.1:8300/dev/idp"}
    assert "http://127.0.0.1:8300/health" in next(iter(on_8300.values()))["_out"]
    by_flag = printed_tokens("--port", "8400", SP_GATEWAY_PORT="8300")
    assert {c["iss"] for c in by_flag.values()} == {"http://127.0.0.1:8400/dev/idp"}
    default = printed_tokens()
    assert {c["iss"] for c in default.values()} == {"http://127.0.0.1:8000/dev/idp"}
    # What the gateway is told explicitly wins, as it does for the gateway.
    explicit = printed_tokens(GATEWAY_DEV_ISSUER_URL="http://sp.test:9000/dev/idp")
    assert {c["iss"] for c in explicit.values()} == {"http://sp.test:9000/dev/idp"}


def test_people_and_machine_clients_tokens_last_the_twelve_hours_the_readme_says():
    assert TOKEN_TTL_SECONDS == 12 * 3600
    assert "tokens (12 hours)" in README
    issuer = DevIssuer("http://127.0.0.1:8000/dev/idp", "sp-platform")
    for token in (issuer.person_token("dmk.sen-sok"), issuer.client_token("moh-health-equity")):
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == 12 * 3600


def test_the_readme_token_table_lists_what_is_minted():
    rows = re.findall(r"^\| (.+?) \| (.+?) \| (.+?) \| (.+?) \|$", README, re.M)
    people = {
        re.sub(r"`| \(.*\)", "", r[0]): r for r in rows if r[1] in ("national", "cp", "dmk", "cs")
    }
    assert set(people) == {p.username for p in PEOPLE}
    for person in PEOPLE:
        _, tier, code, roles = people[person.username]
        assert tier == person.tier
        assert code.strip("`") == (person.admin_code or "—")
        if roles != "the same":
            assert sorted(r.strip() for r in roles.split(",")) == sorted(person.roles)
    clients = {
        re.sub(r"client `(.+)`", r"\1", r[0]): r[3] for r in rows if r[0].startswith("client `")
    }
    assert set(clients) == {c.client_id for c in CLIENTS}
    for client in CLIENTS:
        listed = re.findall(r"`([^`]+)`", clients[client.client_id])
        assert (listed[0].split() if listed else []) == client.scopes


def test_the_import_cli_finds_the_local_database_on_the_port_make_run_used(monkeypatch):
    monkeypatch.delenv("REGISTRY_DATABASE_URL", raising=False)
    monkeypatch.setenv("SP_POSTGRES_PORT", "56000")
    assert default_database_url("registry") == (
        "postgresql+asyncpg://postgres@127.0.0.1:56000/registry"
    )
    monkeypatch.delenv("SP_POSTGRES_PORT")
    assert default_database_url("registry").startswith(
        "postgresql+asyncpg://postgres@127.0.0.1:55432/"
    )
