"""The declarative language of programme eligibility rules, as stored on a programme (JSONB).

A rule is a JSON object whose `kind` says what it tests. Combinators `all` and `any` hold
other rules. Household rules look at the household (IDPoor level, vulnerability categories,
location); member rules look at one member (age, sex, pregnancy, disability, school).
`has_member` turns member rules into a household rule: "at least one active member (or
`min_count` members) satisfies this". In a programme that targets individuals the member
rules apply to the member being considered; in a household programme they may only appear
inside `has_member` (checked by `check_rules_fit_target`).

Every rule may carry an `id`, a short name shown with its result ("child_under_2").

Example (Family Package, simplified):

    {"kind": "all", "rules": [
        {"kind": "poverty_level", "levels": ["POOR_1", "POOR_2"]},
        {"kind": "any", "rules": [
            {"kind": "has_member", "id": "pregnant_member", "where": {"kind": "pregnant"}},
            {"kind": "has_member", "id": "child_under_2",
             "where": {"kind": "age", "unit": "months", "max": 23}}]}]}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from services.registry.households.models import (
    DisabilitySeverity,
    PovertyLevel,
    SchoolEnrolment,
    Sex,
    VulnerabilityCategory,
)

RuleId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,59}$", description="Short rule name.")]


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: RuleId | None = None

    @property
    def applies_to(self) -> Literal["household", "member", "either"]:
        return "household"


# --- household rules ----------------------------------------------------------------------


class PovertyLevelRule(_Rule):
    """The household's current IDPoor level is one of `levels` (and, by default, its
    equity card has not expired on the evaluation date)."""

    kind: Literal["poverty_level"]
    levels: list[PovertyLevel] = Field(min_length=1)
    require_valid: bool = Field(
        True, description="Fail when the IDPoor status's valid-until date has passed."
    )


class VulnerabilityRule(_Rule):
    """The household holds at least one of these on-demand IDPoor vulnerability categories."""

    kind: Literal["vulnerability"]
    categories: list[VulnerabilityCategory] = Field(min_length=1)


class LocationRule(_Rule):
    """The household's village code starts with one of these gazetteer code prefixes."""

    kind: Literal["location"]
    prefixes: list[Annotated[str, Field(pattern=r"^([0-9]{2}){1,4}$")]] = Field(min_length=1)

    @field_validator("prefixes")
    @classmethod
    def _known_codes(cls, prefixes: list[str]) -> list[str]:
        from shared.gazetteer import get_gazetteer

        unknown = [p for p in prefixes if p not in get_gazetteer()]
        if unknown:
            raise ValueError(f"not in the NCDD gazetteer: {', '.join(unknown)}")
        return prefixes


class HasMemberRule(_Rule):
    """At least `min_count` active members satisfy `where`."""

    kind: Literal["has_member"]
    where: Rule
    min_count: int = Field(1, ge=1, le=50)

    @model_validator(mode="after")
    def _where_is_about_members(self) -> HasMemberRule:
        for rule in walk(self.where):
            if rule.applies_to == "household":
                raise ValueError(f"has_member.where may hold only member rules, not {rule.kind!r}")
        return self


# --- member rules -------------------------------------------------------------------------


class _MemberRule(_Rule):
    @property
    def applies_to(self) -> Literal["household", "member", "either"]:
        return "member"


class AgeRule(_MemberRule):
    """The member's age on the evaluation date, in completed months or years, lies within
    [min, max] (both inclusive; "under 2" is `{"unit": "months", "max": 23}`)."""

    kind: Literal["age"]
    unit: Literal["months", "years"] = "years"
    min: int | None = Field(None, ge=0, le=1500)
    max: int | None = Field(None, ge=0, le=1500)

    @model_validator(mode="after")
    def _bounds(self) -> AgeRule:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class SexRule(_MemberRule):
    kind: Literal["sex"]
    sex: Sex


class PregnantRule(_MemberRule):
    """The member is recorded as pregnant, and the expected date (if any) has not passed."""

    kind: Literal["pregnant"]


class DisabilityRule(_MemberRule):
    """The member has a disability at least as severe as `min_severity`
    (mild < medium < severe)."""

    kind: Literal["disability"]
    min_severity: DisabilitySeverity = DisabilitySeverity.MILD


class SchoolEnrolmentRule(_MemberRule):
    kind: Literal["school_enrolment"]
    levels: list[SchoolEnrolment] = Field(min_length=1)


# --- combinators --------------------------------------------------------------------------


class AllRule(_Rule):
    """Every rule passes."""

    kind: Literal["all"]
    rules: list[Rule] = Field(min_length=1, max_length=50)

    @property
    def applies_to(self) -> Literal["household", "member", "either"]:
        return _combined(self.rules)


class AnyRule(_Rule):
    """At least one rule passes."""

    kind: Literal["any"]
    rules: list[Rule] = Field(min_length=1, max_length=50)

    @property
    def applies_to(self) -> Literal["household", "member", "either"]:
        return _combined(self.rules)


def _combined(rules: list[Rule]) -> Literal["household", "member", "either"]:
    kinds = {rule.applies_to for rule in rules} - {"either"}
    if kinds == {"member"}:
        return "member"
    if kinds == {"household"}:
        return "household"
    return "either"


Rule = Annotated[
    AllRule
    | AnyRule
    | PovertyLevelRule
    | VulnerabilityRule
    | LocationRule
    | HasMemberRule
    | AgeRule
    | SexRule
    | PregnantRule
    | DisabilityRule
    | SchoolEnrolmentRule,
    Field(discriminator="kind"),
]

for _model in (AllRule, AnyRule, HasMemberRule):
    _model.model_rebuild()

RULE_ADAPTER: TypeAdapter[Rule] = TypeAdapter(Rule)


def parse_rules(document: dict) -> Rule:
    """The rule tree of a stored (already validated) JSON document."""
    return RULE_ADAPTER.validate_python(document)


def walk(rule: Rule) -> Iterator[Rule]:
    """The rule and every rule below it, depth first (has_member's `where` included)."""
    yield rule
    if isinstance(rule, AllRule | AnyRule):
        for child in rule.rules:
            yield from walk(child)
    elif isinstance(rule, HasMemberRule):
        yield from walk(rule.where)


def check_rules_fit_target(rule: Rule, target: str) -> None:
    """A household programme may test members only through has_member: a bare member rule
    would not say which member it means. Raises ValueError with the reason."""
    if target != "household":
        return

    def visit(node: Rule) -> None:
        if isinstance(node, HasMemberRule):
            return
        if isinstance(node, AllRule | AnyRule):
            for child in node.rules:
                visit(child)
            return
        if node.applies_to == "member":
            raise ValueError(
                f"a household programme tests members only inside has_member; "
                f"wrap the {node.kind!r} rule in {{'kind': 'has_member', 'where': ...}}"
            )

    visit(rule)
