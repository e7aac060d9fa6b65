"""Who may call what: role and tier rules, usable as FastAPI dependencies.

A service names its roles and the rules built on them once (`services/<name>/roles.py`) and
gives its routes `Annotated` aliases (`services/<name>/access.py`):

    CASE_WORKER = RoleRule(
        (OFFICER, VERIFIER), person=True,
        detail="Cases are worked by registry officers and verifiers.",
    )
    CaseWorker = Annotated[Principal, Depends(CASE_WORKER)]

    async def open_case(body: CaseOpen, principal: CaseWorker, ...): ...

A rule is only about the caller (roles, tier): whether a record lies in the caller's area is
the jurisdiction's business (`shared.jurisdiction`, in the repositories), and whether the
record's state allows an action is the service's. Where a route must find the record before
it may judge the caller (404 before 403), the service's loader dependency calls
`rule.check(principal)` after loading.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.principal import Principal, PrincipalDep
from shared.problems import Problem
from shared.tiers import Tier


@dataclass(frozen=True)
class RoleRule:
    """Holders of any of `roles` may; with `tiers`, only at one of those tiers; with
    `person`, only people (a tier), not machine clients or anonymous callers. 403 with
    `detail` otherwise."""

    roles: tuple[str, ...]
    detail: str
    tiers: tuple[Tier, ...] | None = None
    person: bool = False

    def allows(self, principal: Principal) -> bool:
        if (self.person or self.tiers is not None) and principal.tier is None:
            return False
        if self.tiers is not None and principal.tier not in self.tiers:
            return False
        return principal.has_role(*self.roles)

    def check(self, principal: Principal) -> Principal:
        if not self.allows(principal):
            raise Problem.forbidden(self.detail)
        return principal

    async def __call__(self, principal: PrincipalDep) -> Principal:
        """As a dependency: the caller, if the rule allows them."""
        return self.check(principal)
