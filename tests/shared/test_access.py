"""Role rules: who may, as a check and as a FastAPI dependency (403 otherwise)."""

from __future__ import annotations

import pytest

from shared.access import RoleRule
from shared.principal import Principal
from shared.problems import Problem
from shared.tiers import Tier

RULE = RoleRule(
    ("a.maker", "a.checker"), tiers=(Tier.DMK, Tier.NATIONAL), detail="Makers at the district."
)
PEOPLE = RoleRule(("a.maker",), person=True, detail="People only.")


def person(tier: Tier | None, *roles: str, client: bool = False) -> Principal:
    code = {None: "", Tier.NATIONAL: "", Tier.CP: "12", Tier.DMK: "1208", Tier.CS: "120801"}
    return Principal(
        sub="p", tier=tier, admin_code=code[tier], roles=frozenset(roles), client=client
    )


def test_a_rule_needs_one_of_its_roles_at_one_of_its_tiers():
    assert RULE.allows(person(Tier.DMK, "a.checker"))
    assert RULE.allows(person(Tier.NATIONAL, "a.maker", "viewer"))
    assert not RULE.allows(person(Tier.CS, "a.maker"))  # wrong tier
    assert not RULE.allows(person(Tier.DMK, "viewer"))  # wrong role
    assert not RULE.allows(person(None, "a.maker", client=True))  # a machine has no tier


def test_a_person_rule_refuses_machine_clients_whatever_their_roles():
    assert PEOPLE.allows(person(Tier.CS, "a.maker"))
    assert not PEOPLE.allows(person(None, "a.maker", client=True))


async def test_as_a_dependency_it_returns_the_caller_or_answers_403_with_its_detail():
    allowed = person(Tier.DMK, "a.maker")
    assert await RULE(allowed) is allowed
    with pytest.raises(Problem) as refused:
        await RULE(person(Tier.CS, "a.maker"))
    assert (refused.value.status, refused.value.detail) == (403, "Makers at the district.")
    assert refused.value.type == "urn:kh-sp:problem:forbidden"
