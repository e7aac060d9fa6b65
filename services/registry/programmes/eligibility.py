"""The eligibility engine: a programme's rules against a household and its members on a date.

Pure functions over plain facts (no database, no clock): the enrolment service snapshots
the result, the eligibility endpoint shows it. Every rule yields an `Outcome`: passed or not,
a stable `code` a portal can translate (Khmer labels live with the front end), an English
`reason`, and the parameters the reason was built from.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any
from uuid import UUID

from services.registry.programmes.rules import (
    AgeRule,
    AllRule,
    AnyRule,
    DisabilityRule,
    HasMemberRule,
    LocationRule,
    PovertyLevelRule,
    PregnantRule,
    Rule,
    SchoolEnrolmentRule,
    SexRule,
    VulnerabilityRule,
)

SEVERITY_RANK = {"mild": 1, "medium": 2, "severe": 3}


@dataclass(frozen=True)
class HouseholdFacts:
    village_code: str
    poverty_level: str
    poverty_valid_until: date | None = None
    vulnerability_categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class MemberFacts:
    id: UUID
    sex: str
    birth_date: date
    status: str = "active"
    pregnant: bool = False
    pregnancy_expected_on: date | None = None
    disability_severity: str | None = None
    school_enrolment: str | None = None


@dataclass(frozen=True)
class Outcome:
    """The result of one rule (and, for combinators, of the rules below it)."""

    rule: str  # the rule's kind
    passed: bool
    code: str
    reason: str
    id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    rules: tuple[Outcome, ...] = ()
    member_ids: tuple[UUID, ...] = ()  # has_member: the members that satisfied it

    def failing(self) -> list[Outcome]:
        """The failed rules that made this outcome fail, innermost first-level reasons
        (an `any` that failed lists every alternative; a passed rule lists nothing)."""
        if self.passed:
            return []
        if not self.rules:
            return [self]
        return [leaf for child in self.rules for leaf in child.failing()]

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "id": self.id,
            "passed": self.passed,
            "code": self.code,
            "reason": self.reason,
            "params": self.params,
        }
        if self.rules:
            data["rules"] = [child.as_dict() for child in self.rules]
        if self.member_ids:
            data["member_ids"] = [str(m) for m in self.member_ids]
        return data


@dataclass(frozen=True)
class MemberEligibility:
    member_id: UUID
    eligible: bool
    outcome: Outcome


@dataclass(frozen=True)
class Eligibility:
    """A programme's verdict for a household on a date.

    Household programmes have one `outcome`. Individual programmes have one per active
    member in `members`; `outcome` is then the first qualifying member's (or the first
    member's when none qualifies), and `qualifying_member_ids` names who qualifies.
    """

    target: str
    eligible: bool
    outcome: Outcome
    members: tuple[MemberEligibility, ...] = ()
    qualifying_member_ids: tuple[UUID, ...] = ()

    def failing(self) -> list[Outcome]:
        return [] if self.eligible else self.outcome.failing()


# --- ages -------------------------------------------------------------------------------


def age_in_months(birth_date: date, on: date) -> int:
    """Completed months from birth to `on` (negative before birth)."""
    months = (on.year - birth_date.year) * 12 + (on.month - birth_date.month)
    if on.day < birth_date.day:
        months -= 1
    return months


def age(birth_date: date, on: date, unit: str) -> int:
    months = age_in_months(birth_date, on)
    return months if unit == "months" else months // 12


# --- descriptions -------------------------------------------------------------------------


def describe(rule: Rule) -> str:
    """A short English description of what a rule asks for."""
    match rule:
        case AllRule():
            return "all of (" + "; ".join(describe(r) for r in rule.rules) + ")"
        case AnyRule():
            return "any of (" + "; ".join(describe(r) for r in rule.rules) + ")"
        case PovertyLevelRule():
            return "IDPoor level " + " or ".join(rule.levels)
        case VulnerabilityRule():
            return "vulnerability category " + " or ".join(rule.categories)
        case LocationRule():
            return "located in " + " or ".join(rule.prefixes)
        case HasMemberRule():
            count = "a member" if rule.min_count == 1 else f"{rule.min_count} members"
            return f"{count} who {_member_phrase(rule.where)}"
        case _:
            return _member_phrase(rule)


def _member_phrase(rule: Rule) -> str:
    match rule:
        case AgeRule():
            if rule.min is not None and rule.max is not None:
                return f"is aged {rule.min}-{rule.max} {rule.unit}"
            if rule.min is not None:
                return f"is aged {rule.min} {rule.unit} or more"
            return f"is aged {rule.max} {rule.unit} or less"
        case SexRule():
            return f"is {rule.sex}"
        case PregnantRule():
            return "is pregnant"
        case DisabilityRule():
            return f"has a {rule.min_severity} or more severe disability"
        case SchoolEnrolmentRule():
            return "is enrolled in " + " or ".join(rule.levels) + " school"
        case AllRule():
            return " and ".join(_member_phrase(r) for r in rule.rules)
        case AnyRule():
            return " or ".join(_member_phrase(r) for r in rule.rules)
        case _:
            return describe(rule)


# --- evaluation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    household: HouseholdFacts
    members: tuple[MemberFacts, ...]
    on: date
    member: MemberFacts | None = None


def _result(rule: Rule, passed: bool, code: str, reason: str, **params: Any) -> Outcome:
    return Outcome(
        rule=rule.kind,
        id=rule.id,
        passed=passed,
        code=f"{rule.kind}.{code}",
        reason=reason,
        params={k: _plain(v) for k, v in params.items()},
    )


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def evaluate_rule(rule: Rule, ctx: _Context) -> Outcome:
    household, member, on = ctx.household, ctx.member, ctx.on
    match rule:
        case AllRule() | AnyRule():
            children = tuple(evaluate_rule(child, ctx) for child in rule.rules)
            passed_count = sum(child.passed for child in children)
            if isinstance(rule, AllRule):
                passed = passed_count == len(children)
                code, reason = (
                    ("ok", "every condition is met")
                    if passed
                    else (
                        "failed",
                        f"{len(children) - passed_count} of {len(children)} conditions are not met",
                    )
                )
            else:
                passed = passed_count > 0
                code, reason = (
                    ("ok", f"{passed_count} of {len(children)} alternatives are met")
                    if passed
                    else ("none", "none of the alternatives is met")
                )
            return replace(_result(rule, passed, code, reason), rules=children)

        case PovertyLevelRule():
            levels = list(rule.levels)
            if household.poverty_level not in levels:
                return _result(
                    rule,
                    False,
                    "not_listed",
                    f"IDPoor level is {household.poverty_level}, not " + " or ".join(levels),
                    level=household.poverty_level,
                    levels=levels,
                )
            valid_until = household.poverty_valid_until
            if rule.require_valid and valid_until is not None and valid_until < on:
                return _result(
                    rule,
                    False,
                    "expired",
                    f"IDPoor status {household.poverty_level} expired on {valid_until}",
                    level=household.poverty_level,
                    valid_until=valid_until,
                )
            return _result(
                rule,
                True,
                "ok",
                f"IDPoor level is {household.poverty_level}",
                level=household.poverty_level,
                valid_until=valid_until,
            )

        case VulnerabilityRule():
            held = sorted(set(household.vulnerability_categories) & set(rule.categories))
            if held:
                return _result(
                    rule, True, "ok", "vulnerability category " + ", ".join(held), held=held
                )
            return _result(
                rule,
                False,
                "none",
                "no vulnerability category among " + ", ".join(rule.categories),
                categories=list(rule.categories),
            )

        case LocationRule():
            inside = any(household.village_code.startswith(p) for p in rule.prefixes)
            return _result(
                rule,
                inside,
                "ok" if inside else "outside",
                f"village {household.village_code} is "
                + ("" if inside else "not ")
                + "in "
                + " or ".join(rule.prefixes),
                village_code=household.village_code,
                prefixes=list(rule.prefixes),
            )

        case HasMemberRule():
            matching = tuple(
                m.id
                for m in ctx.members
                if m.status == "active"
                and evaluate_rule(rule.where, _Context(household, ctx.members, on, m)).passed
            )
            passed = len(matching) >= rule.min_count
            what = _member_phrase(rule.where)
            if passed:
                reason = f"{len(matching)} active member(s) who {what}"
            elif not matching:
                reason = f"no active member who {what}"
            else:
                reason = (
                    f"only {len(matching)} active member(s) who {what}; {rule.min_count} needed"
                )
            return Outcome(
                rule=rule.kind,
                id=rule.id,
                passed=passed,
                code="has_member.ok" if passed else "has_member.too_few",
                reason=reason,
                params={"count": len(matching), "min_count": rule.min_count, "condition": what},
                member_ids=matching,
            )

    if member is None:
        return _result(rule, False, "no_member", "a member rule was evaluated without a member")

    match rule:
        case AgeRule():
            if member.birth_date > on:
                return _result(
                    rule, False, "not_born", f"born after {on}", birth_date=member.birth_date
                )
            value = age(member.birth_date, on, rule.unit)
            params = {"age": value, "unit": rule.unit, "min": rule.min, "max": rule.max}
            if rule.min is not None and value < rule.min:
                return _result(
                    rule,
                    False,
                    "below_min",
                    f"aged {value} {rule.unit}, under {rule.min}",
                    **params,
                )
            if rule.max is not None and value > rule.max:
                return _result(
                    rule,
                    False,
                    "above_max",
                    f"aged {value} {rule.unit}, over {rule.max}",
                    **params,
                )
            return _result(rule, True, "ok", f"aged {value} {rule.unit}", **params)

        case SexRule():
            ok = member.sex == rule.sex
            return _result(
                rule, ok, "ok" if ok else "other", f"sex is {member.sex}", sex=member.sex
            )

        case PregnantRule():
            if not member.pregnant:
                return _result(rule, False, "not_pregnant", "not recorded as pregnant")
            expected = member.pregnancy_expected_on
            if expected is not None and expected < on:
                return _result(
                    rule,
                    False,
                    "expected_date_passed",
                    f"pregnancy was expected to end on {expected}",
                    expected_on=expected,
                )
            return _result(rule, True, "ok", "pregnant", expected_on=expected)

        case DisabilityRule():
            severity = member.disability_severity
            if severity is None:
                return _result(rule, False, "none", "no disability recorded")
            if SEVERITY_RANK[severity] < SEVERITY_RANK[rule.min_severity]:
                return _result(
                    rule,
                    False,
                    "too_mild",
                    f"disability is {severity}, less severe than {rule.min_severity}",
                    severity=severity,
                    min_severity=str(rule.min_severity),
                )
            return _result(rule, True, "ok", f"{severity} disability", severity=severity)

        case SchoolEnrolmentRule():
            level = member.school_enrolment
            ok = level in rule.levels
            return _result(
                rule,
                ok,
                "ok" if ok else "not_listed",
                f"school enrolment is {level or 'not recorded'}",
                school_enrolment=level,
                levels=list(rule.levels),
            )
    raise TypeError(f"unknown rule {rule!r}")  # pragma: no cover - the union is closed


def evaluate(
    rule: Rule,
    *,
    target: str,
    household: HouseholdFacts,
    members: Sequence[MemberFacts],
    on: date,
) -> Eligibility:
    """A programme's rules for a household (and each of its active members for a programme
    that targets individuals) on a date."""
    everyone = tuple(members)
    if target == "household":
        outcome = evaluate_rule(rule, _Context(household, everyone, on))
        return Eligibility(target=target, eligible=outcome.passed, outcome=outcome)

    results = tuple(
        MemberEligibility(member.id, outcome.passed, outcome)
        for member in everyone
        if member.status == "active"
        for outcome in [evaluate_rule(rule, _Context(household, everyone, on, member))]
    )
    qualifying = tuple(r.member_id for r in results if r.eligible)
    if not results:
        outcome = Outcome(
            rule="member", passed=False, code="member.none_active", reason="no active member"
        )
    else:
        outcome = next((r.outcome for r in results if r.eligible), results[0].outcome)
    return Eligibility(
        target=target,
        eligible=bool(qualifying),
        outcome=outcome,
        members=results,
        qualifying_member_ids=qualifying,
    )


def evaluate_member(
    rule: Rule,
    *,
    household: HouseholdFacts,
    members: Sequence[MemberFacts],
    member_id: UUID,
    on: date,
) -> Eligibility:
    """An individual programme's rules for one member of the household."""
    everyone = tuple(members)
    member = next((m for m in everyone if m.id == member_id), None)
    if member is None or member.status != "active":
        outcome = Outcome(
            rule="member",
            passed=False,
            code="member.not_active",
            reason="the member is not an active member of the household",
            params={"member_id": str(member_id)},
        )
        return Eligibility(target="individual", eligible=False, outcome=outcome)
    outcome = evaluate_rule(rule, _Context(household, everyone, on, member))
    return Eligibility(
        target="individual",
        eligible=outcome.passed,
        outcome=outcome,
        members=(MemberEligibility(member.id, outcome.passed, outcome),),
        qualifying_member_ids=(member.id,) if outcome.passed else (),
    )


def failing_codes(outcomes: Iterable[Outcome]) -> list[str]:
    """`id-or-kind: reason` for each failing rule, as events and snapshots name them."""
    return [f"{o.id or o.code}: {o.reason}" for o in outcomes]
