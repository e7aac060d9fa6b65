"""Every I-SAF endpoint has its own row in the gateway's policy table (so it is reachable and
in the merged OpenAPI), no row routes a path the service lacks, and every operation is
documented with a summary."""

from __future__ import annotations

import re

from tests.gateway.test_policy_coverage import POLICY, published, template


def test_each_isaf_endpoint_has_its_own_policy_row_and_no_row_is_stale():
    endpoints = published("isaf")
    missing, shadowed = [], []
    for method, path in sorted(endpoints):
        match = POLICY.match("isaf", method, re.sub(r"\{[^}]+\}", "x1", path))
        if match.rule is None:
            missing.append(f"{method} {path}")
        elif template(match.rule.path) != template(path):
            shadowed.append(f"{method} {path} (matched by {match.rule.path})")
    assert missing == [] and shadowed == []
    routed = {(m, template(p)) for m, p in endpoints}
    stale = [
        f"{method} {rule.path}"
        for rule in POLICY.rules
        if rule.service == "isaf"
        for method in rule.methods
        if (method, template(rule.path)) not in routed
    ]
    assert stale == []


def test_every_isaf_operation_has_a_summary():
    from services.isaf.main import create_app

    paths = create_app().openapi()["paths"]
    undocumented = [
        f"{method.upper()} {path}"
        for path, operations in paths.items()
        for method, operation in operations.items()
        if not operation.get("summary")
    ]
    assert undocumented == []


def test_the_isaf_code_lists_are_public_reference_data_like_the_other_services():
    for path in ("/reference/code-lists", "/reference/code-lists/x1"):
        rule = POLICY.match("isaf", "GET", path).rule
        assert rule is not None and rule.public and rule.rate == POLICY.rate_classes["public-read"]
