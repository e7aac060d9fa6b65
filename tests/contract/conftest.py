"""The merged OpenAPI document as the gateway serves it, and the clients generated from it."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.contract.tools import generate_python_client


@pytest.fixture(scope="session")
async def merged_document(platform) -> dict:
    async with platform.client() as client:
        response = await client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="session")
def document_file(merged_document, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("contract") / "openapi.json"
    path.write_text(json.dumps(merged_document, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def python_client_build(document_file, tmp_path_factory) -> tuple[Path, int, str]:
    """The generated Python client's folder (a package named `sp_client`), exit code, output."""
    root = tmp_path_factory.mktemp("python-client")
    code, output = generate_python_client(document_file, root / "sp_client")
    return root, code, output


@pytest.fixture(scope="session")
def sp_client(python_client_build) -> ModuleType:
    root, code, output = python_client_build
    assert code == 0, output
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module("sp_client")
    finally:
        sys.path.remove(str(root))
