"""The merged OpenAPI document is valid OpenAPI 3.1 and keeps our own rules (rules.py)."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from shared.http.openapi import _api_routes
from shared.platform import SERVICES
from tests.contract.rules import RULES
from tests.contract.tools import validate_specification


def test_the_document_is_valid_openapi(document_file):
    code, output = validate_specification(document_file)
    assert code == 0 and "OK" in output, output


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_the_document_keeps_our_rule(merged_document, rule):
    broken = rule(merged_document)
    assert broken == [], f"{rule.__doc__}\n" + "\n".join(broken)


def test_every_operation_of_each_service_is_published(merged_document, platform):
    """Every operation is in the merged document, once, under its service's prefix."""
    ids = [op["operationId"] for item in merged_document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert {i.split("_", 1)[0] for i in ids} >= {"registry", "grievance"}


@pytest.mark.parametrize("service", [s for s in SERVICES if s in ("registry", "grievance")])
def test_every_body_example_is_accepted_by_the_routes_own_model(service):
    """Examples a portal copies must pass the service's validation, not only the schema's:
    each request body example is validated by the model the route itself reads."""
    import importlib

    app = importlib.import_module(f"services.{service}.main").create_app()
    document = app.openapi()
    checked = 0
    failed: list[str] = []
    for route in _api_routes(app):
        if route.body_field is None or not route.include_in_schema:
            continue
        for method in route.methods:
            operation = document["paths"][route.path_format][method.lower()]
            media = operation["requestBody"]["content"].get("application/json")
            if media is None:
                continue
            examples = [media["example"]] if "example" in media else []
            examples += [e["value"] for e in (media.get("examples") or {}).values()]
            assert examples, f"{method} {route.path_format}: no example"
            adapter = TypeAdapter(route.body_field.field_info.annotation)
            for example in examples:
                try:
                    adapter.validate_python(example)
                except ValueError as exc:
                    failed.append(f"{method} {route.path_format}: {exc}")
                checked += 1
    assert failed == [], "\n".join(failed)
    assert checked > 5
