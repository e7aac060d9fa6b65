"""The access policy table, compiled once at start-up into per-service matchers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shared.principal import Principal
from shared.tiers import Tier

_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class RateClass:
    name: str
    per_second: float
    burst: int


@dataclass(frozen=True)
class Rule:
    service: str
    path: str
    methods: frozenset[str]
    public: bool
    tiers: frozenset[Tier]
    roles: frozenset[str]
    scopes: frozenset[str]
    rate: RateClass
    timeout: float | None
    max_body: int | None
    # How the gateway's own refusals on this route read: RFC 9457 problems, or the DCI
    # standard's `{"errors": [{code, message}]}` (shared.http.dci) for DCI clients.
    errors: str = "problem"

    def allows(self, principal: Principal) -> bool:
        if self.public:
            return True
        if principal.client:
            return bool(self.scopes & principal.scopes)
        if principal.tier is None or principal.tier not in self.tiers:
            return False
        return not self.roles or bool(self.roles & principal.roles)


@dataclass(frozen=True)
class Match:
    rule: Rule | None
    method_allowed: bool
    allowed_methods: tuple[str, ...] = ()  # on a known path: what a 405 names in `Allow`
    errors: str = "problem"  # on a known path: the format its rules answer refusals in


def _pattern_source(path: str) -> str:
    """The regular expression (without anchors) a rule's path matches: `{name}` is one
    non-empty segment, a trailing slash is optional."""
    if not path.startswith("/"):
        raise PolicyError(f"path {path!r} must start with /")
    parts = []
    for segment in path.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            parts.append("[^/]+")
        elif re.fullmatch(r"[A-Za-z0-9._~-]*", segment):
            parts.append(re.escape(segment))
        else:
            raise PolicyError(f"path {path!r}: segment {segment!r} is neither literal nor {{name}}")
    return "/" + "/".join(parts) + "/?"


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + _pattern_source(path) + "$")


class Policy:
    """Rules in file order; the first rule whose path and method match a request is its rule.

    Matching runs once per proxied request, so it is compiled: per service and method, one
    regular expression alternating the paths of the rules that take the method (GET rules for
    HEAD too), in file order; the name of the alternative that matched is the rule. Python's
    regex engine tries alternatives in order, so this is the first matching rule, exactly as
    trying each rule's own pattern in turn (`_match_slowly`, which also serves the 404/405
    answers, where every rule of the path is needed for `Allow`)."""

    def __init__(self, rules: list[Rule], rate_classes: dict[str, RateClass]) -> None:
        self.rules = rules
        self.rate_classes = rate_classes
        self._by_service: dict[str, list[tuple[re.Pattern[str], Rule]]] = {}
        for rule in rules:
            self._by_service.setdefault(rule.service, []).append((_pattern(rule.path), rule))
        self._compiled: dict[tuple[str, str], tuple[re.Pattern[str], dict[str, Match]]] = {}
        for service, entries in self._by_service.items():
            for method in _METHODS:
                alternatives = []
                matches: dict[str, Match] = {}
                for i, (_, rule) in enumerate(entries):
                    if method in rule.methods or (method == "HEAD" and "GET" in rule.methods):
                        alternatives.append(f"(?P<r{i}>{_pattern_source(rule.path)})")
                        matches[f"r{i}"] = Match(rule, True, errors=rule.errors)
                if alternatives:
                    combined = re.compile("^(?:" + "|".join(alternatives) + ")$")
                    self._compiled[(service, method)] = (combined, matches)

    def match(self, service: str, method: str, path: str) -> Match:
        compiled = self._compiled.get((service, method))
        if compiled is not None:
            found = compiled[0].match(path)
            if found is not None:
                return compiled[1][found.lastgroup]  # type: ignore[index]
        return self._match_slowly(service, method, path)

    def _match_slowly(self, service: str, method: str, path: str) -> Match:
        allowed: set[str] = set()
        errors = "problem"
        for pattern, rule in self._by_service.get(service, ()):
            if pattern.match(path):
                if method in rule.methods or (method == "HEAD" and "GET" in rule.methods):
                    return Match(rule, True, errors=rule.errors)
                allowed.update(rule.methods)
                errors = rule.errors
        if "GET" in allowed:
            allowed.add("HEAD")
        return Match(None, not allowed, tuple(sorted(allowed)), errors)

    @classmethod
    def load(cls, path: Path, services: set[str]) -> Policy:
        return cls.from_dict(yaml.safe_load(path.read_text()) or {}, services)

    @classmethod
    def from_dict(cls, document: dict[str, Any], services: set[str]) -> Policy:
        rate_classes = {
            name: RateClass(name, float(spec["per_second"]), int(spec["burst"]))
            for name, spec in (document.get("rate_classes") or {}).items()
        }
        if "standard" not in rate_classes:
            raise PolicyError("the policy needs a 'standard' rate class")
        rules = []
        for i, entry in enumerate(document.get("routes") or []):
            where = f"routes[{i}]"
            service = entry.get("service")
            if service not in services:
                raise PolicyError(f"{where}: unknown service {service!r}")
            methods = frozenset(m.upper() for m in entry.get("methods") or [])
            if not methods or methods - _METHODS:
                raise PolicyError(f"{where}: methods must be some of {sorted(_METHODS)}")
            public = bool(entry.get("public", False))
            tiers = frozenset(Tier(t) for t in entry.get("tiers") or [])
            scopes = frozenset(entry.get("scopes") or [])
            if not public and not tiers and not scopes:
                raise PolicyError(f"{where}: a rule must be public or name tiers or scopes")
            rate = entry.get("rate", "standard")
            if rate not in rate_classes:
                raise PolicyError(f"{where}: unknown rate class {rate!r}")
            errors = entry.get("errors", "problem")
            if errors not in ("problem", "dci"):
                raise PolicyError(f"{where}: errors must be problem or dci")
            rules.append(
                Rule(
                    service=service,
                    path=entry["path"],
                    methods=methods,
                    public=public,
                    tiers=tiers,
                    roles=frozenset(entry.get("roles") or []),
                    scopes=scopes,
                    rate=rate_classes[rate],
                    timeout=entry.get("timeout"),
                    max_body=entry.get("max_body"),
                    errors=errors,
                )
            )
        return cls(rules, rate_classes)
