"""Every endpoint a service publishes has its own row in the gateway's policy table, so it is
reachable through the gateway and appears in the merged OpenAPI; and no row routes a path
the service does not have."""

from __future__ import annotations

import importlib
import re

import pytest

from gateway.policy import Policy
from shared.platform import SERVICES
from tests.harness import ROOT

POLICY = Policy.load(ROOT / "gateway" / "policy.yml", set(SERVICES))
OPERATIONAL = {"/health", "/ready", "/metrics", "/openapi.json"}


def published(service: str) -> set[tuple[str, str]]:
    app = importlib.import_module(f"services.{service}.main").create_app()
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path not in OPERATIONAL
        for method in operations
    }


def template(path: str) -> str:
    """`/households/{household_id}` -> `/households/{}`: parameter names may differ."""
    return re.sub(r"\{[^}]+\}", "{}", path)


@pytest.mark.parametrize("service", ["registry", "grievance"])
def test_each_endpoint_has_its_own_policy_row(service):
    missing, shadowed = [], []
    for method, path in sorted(published(service)):
        concrete = re.sub(r"\{[^}]+\}", "x1", path)
        match = POLICY.match(service, method, concrete)
        if match.rule is None:
            missing.append(f"{method} {path}")
        elif template(match.rule.path) != template(path):
            shadowed.append(f"{method} {path} (matched by {match.rule.path})")
    assert missing == [], "endpoints the gateway does not route"
    assert shadowed == [], "endpoints routed by another endpoint's row"


@pytest.mark.parametrize("service", ["registry", "grievance"])
def test_no_policy_row_routes_a_path_the_service_lacks(service):
    endpoints = {(method, template(path)) for method, path in published(service)}
    stale = [
        f"{method} {rule.path}"
        for rule in POLICY.rules
        if rule.service == service
        for method in rule.methods
        if (method, template(rule.path)) not in endpoints
    ]
    assert stale == []
