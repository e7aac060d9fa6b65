"""The gateway's shortcuts on the hot path decide exactly as the careful ways they skip: the
compiled policy matcher picks the same rule (or the same 404/405) as trying each rule in turn,
and a plain request path reads the same as one decoded segment by segment. Thousands of
generated requests each, from a fixed seed, against the real policy table."""

from __future__ import annotations

import random

import pytest

from gateway import paths
from gateway.config import DEFAULT_POLICY
from gateway.paths import read_path
from gateway.policy import _METHODS, Policy
from shared.platform import SERVICES
from shared.problems import Problem


def test_the_compiled_matcher_picks_the_rule_trying_each_rule_in_turn_picks():
    policy = Policy.load(DEFAULT_POLICY, set(SERVICES))
    rng = random.Random(18)
    segments = sorted(
        {
            "x1" if part.startswith("{") else part
            for rule in policy.rules
            for part in rule.path.strip("/").split("/")
        }
        | {"", "zz", "1", "\n"}
    )
    templates = [rule.path.replace("{", "").replace("}", "") for rule in policy.rules]
    methods = [*sorted(_METHODS), "TRACE"]
    services = [*sorted(SERVICES), "nowhere"]
    for _ in range(20_000):
        if rng.random() < 0.5:
            path = rng.choice(templates) + rng.choice(["", "/", "//", "/x", "x"])
        else:
            path = "/" + "/".join(rng.choice(segments) for _ in range(rng.randint(0, 5)))
        service, method = rng.choice(services), rng.choice(methods)
        assert policy.match(service, method, path) == policy._match_slowly(service, method, path), (
            service,
            method,
            path,
        )


def _read(raw: bytes) -> object:
    try:
        return read_path(raw, "")
    except Problem as problem:
        return problem.detail


class _NeverPlain:
    @staticmethod
    def fullmatch(_raw: bytes) -> None:
        return None


def test_a_plain_path_reads_as_decoding_it_segment_by_segment_would(
    monkeypatch: pytest.MonkeyPatch,
):
    rng = random.Random(18)
    plain = [b"a", b"/", b".", b"..", b"-", b"~", b"x1", b"!", b"@", b":", b"'", b"%", b"%2F"]
    anything = [bytes([c]) for c in range(256)] + [b"%2e", b"%41", b"/./", b"/../", b"%C3%A9"]
    raws = [
        b"/" + b"".join(rng.choice(rng.choice([plain, anything])) for _ in range(rng.randint(0, 9)))
        for _ in range(20_000)
    ]
    quick = [_read(raw) for raw in raws]
    monkeypatch.setattr(paths, "_PLAIN", _NeverPlain)
    careful = [_read(raw) for raw in raws]
    assert quick == careful
