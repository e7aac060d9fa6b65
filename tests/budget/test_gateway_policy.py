"""Every budget endpoint has its own row in the gateway's policy table, and no budget row
routes a path the service lacks (the same check the gateway's tests make for the registry and
grievance services)."""

from __future__ import annotations

import re

from tests.gateway.test_policy_coverage import POLICY, published, template


def test_each_budget_endpoint_has_its_own_policy_row():
    missing, shadowed = [], []
    for method, path in sorted(published("budget")):
        match = POLICY.match("budget", method, re.sub(r"\{[^}]+\}", "x1", path))
        if match.rule is None:
            missing.append(f"{method} {path}")
        elif template(match.rule.path) != template(path):
            shadowed.append(f"{method} {path} (matched by {match.rule.path})")
    assert missing == []
    assert shadowed == []


def test_no_budget_row_routes_a_path_the_service_lacks():
    endpoints = {(method, template(path)) for method, path in published("budget")}
    stale = [
        f"{method} {rule.path}"
        for rule in POLICY.rules
        if rule.service == "budget"
        for method in rule.methods
        if (method, template(rule.path)) not in endpoints
    ]
    assert stale == []
