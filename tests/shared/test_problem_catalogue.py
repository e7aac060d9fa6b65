"""Every problem type the code can answer with is in the catalogue (shared.problems), and the
catalogue is what README's "Problem types" documents."""

from __future__ import annotations

import re

import pytest

from shared import problems
from shared.problems import CATALOGUE, GENERIC, Problem, ProblemType
from tests.harness import ROOT

SOURCES = [
    path
    for folder in ("services", "gateway", "shared")
    for path in sorted((ROOT / folder).rglob("*.py"))
    if "migrations" not in path.parts
]
SLUG_LITERAL = re.compile(r"""slug\s*=\s*["']([^"']+)["']""")
STATUS_LITERAL = re.compile(r"""\bProblem\(\s*(\d{3})\b""")


def test_the_code_names_problem_types_by_their_catalogue_entry_never_by_a_string():
    """`slug=HOUSEHOLD_CLOSED`, never `slug="household-closed"`: a typo then fails at import,
    and every type the code answers with is in the catalogue by construction."""
    assert SLUG_LITERAL.findall('raise Problem(409, "x", slug="made-up")') == ["made-up"]
    named = {
        (path.relative_to(ROOT).as_posix(), slug)
        for path in SOURCES
        for slug in SLUG_LITERAL.findall(path.read_text(encoding="utf-8"))
    }
    assert named == set()


def test_every_status_the_code_raises_has_its_generic_problem():
    statuses = {
        int(status)
        for path in SOURCES
        for status in STATUS_LITERAL.findall(path.read_text(encoding="utf-8"))
    }
    assert statuses
    assert statuses - set(GENERIC) == set()


def test_a_problem_outside_the_catalogue_cannot_be_raised():
    with pytest.raises(ValueError, match="not in the catalogue"):
        Problem(409, "no such kind", slug="made-up")
    assert Problem(409, "x", slug="already-rated").type == "urn:kh-sp:problem:already-rated"
    assert Problem.of(problems.STALE_VERSION, "x").status == 412


def test_the_catalogue_is_consistent_and_documented():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for slug, kind in CATALOGUE.items():
        assert isinstance(kind, ProblemType) and kind.slug == slug
        assert kind.description
        generic = GENERIC.get(kind.status)
        if generic is not None:  # a specific type keeps its status's title
            assert kind.title == generic.title, slug
        assert f"`{slug}`" in readme, f"README's problem types table lacks {slug}"
