"""Clients generated from the merged document: complete, and without a single warning.

A portal team generates its client from `/openapi.json`; a skipped operation or a dropped
response there is a feature the portal cannot call. Both generators must be silent.
"""

from __future__ import annotations

import re

from tests.contract.tools import generate_typescript_client


def test_the_python_client_generates_every_operation_without_warnings(
    python_client_build, merged_document
):
    root, code, output = python_client_build
    assert code == 0, output
    assert not re.search(r"warning|error|will not be generated|omitted", output, re.I), output
    generated = {p.stem for p in (root / "sp_client" / "api").rglob("*.py")}
    operations = {
        op["operationId"] for item in merged_document["paths"].values() for op in item.values()
    }
    assert operations <= generated, sorted(operations - generated)


def test_the_generated_python_client_imports(sp_client):
    from importlib import import_module

    models = import_module("sp_client.models")
    assert hasattr(models, "RegistryHouseholdCreate") and hasattr(models, "ProblemDocument")
    assert not hasattr(models, "Sex"), "schema names carry their service"


def test_the_typescript_client_generates_and_compiles_without_warnings(document_file, tmp_path):
    code, output = generate_typescript_client(document_file, tmp_path)
    assert code == 0, output
    assert not re.search(r"warn|error", output, re.I), output
    types = (tmp_path / "api.d.ts").read_text()
    assert '"/registry/households"' in types and "ProblemDocument" in types
