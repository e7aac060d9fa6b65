"""docker-compose.yml and deploy/k8s against their schemas, without a Docker engine or a cluster.

- docker-compose.yml: the Compose Specification's JSON schema (vendored in data/, see its
  README), draft 2020-12, with YAML merge keys resolved as compose resolves them. A misspelt
  key (`helthcheck:`) or a value of the wrong type (`restart: 5`) is an error naming its path.
- deploy/k8s: every document of every manifest against the OpenAPI schemas of Kubernetes
  KUBERNETES_VERSION that kubernetes-validate ships, in strict mode (unknown fields are
  errors). Each invalid document is reported with its file, index, kind and name.

Each check is a function returning the errors, run on the real files and, in the tests at
the bottom, on a broken copy that must produce errors: the tests can fail.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_SCHEMA = Path(__file__).parent / "data" / "compose-spec.json"
K8S_DIR = ROOT / "deploy" / "k8s"
# A release kubernetes-validate ships schemas for (1.25 to 1.37 in the locked version) and
# that current managed clusters run; the manifests use only GA APIs (apps/v1, batch/v1,
# autoscaling/v2, policy/v1, networking.k8s.io/v1).
KUBERNETES_VERSION = "1.34"
# Not Kubernetes objects: kustomize's own configuration.
NOT_KUBERNETES = {"kustomization.yaml"}


def load_compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@cache
def compose_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def compose_errors(document: dict[str, Any]) -> list[str]:
    return [
        f"{error.json_path}: {error.message}"
        for error in sorted(compose_validator().iter_errors(document), key=str)
    ]


def k8s_documents() -> list[tuple[str, int, dict[str, Any]]]:
    documents = []
    for path in sorted(K8S_DIR.glob("*.yaml")):
        if path.name in NOT_KUBERNETES:
            continue
        for index, document in enumerate(yaml.safe_load_all(path.read_text(encoding="utf-8"))):
            if document is not None:
                documents.append((path.name, index, document))
    return documents


def k8s_errors(documents: list[tuple[str, int, dict[str, Any]]]) -> list[str]:
    """One line per invalid document: where it is, what it is and its (first) error."""
    errors = []
    for name, index, document in documents:
        what = f"{name}[{index}] {document.get('kind')}/{document.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            # kubernetes-validate's error is the jsonschema error of the document.
            path = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in error.path)
            errors.append(f"{what}: {path or '(document)'}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError:
            errors.append(
                f"{what}: no schema for {document.get('apiVersion')} in Kubernetes "
                f"{KUBERNETES_VERSION}"
            )
        except Exception as error:  # a document without apiVersion/kind, for example
            errors.append(f"{what}: {type(error).__name__}: {error}")
    return errors


def test_compose_file_follows_the_compose_specification():
    errors = compose_errors(load_compose())
    assert not errors, "docker-compose.yml:\n" + "\n".join(errors)


def test_every_kubernetes_manifest_is_valid():
    documents = k8s_documents()
    kinds = {document["kind"] for _, _, document in documents}
    assert {"Deployment", "Job", "ConfigMap", "Secret", "Ingress", "NetworkPolicy"} <= kinds
    errors = k8s_errors(documents)
    assert not errors, "invalid Kubernetes documents:\n" + "\n".join(errors)


def test_kustomization_lists_every_manifest_but_the_secrets_template():
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text(encoding="utf-8"))
    manifests = {p.name for p in K8S_DIR.glob("*.yaml")} - NOT_KUBERNETES
    assert set(kustomization["resources"]) == manifests - {"secrets.template.yaml"}


# --- the checks catch what they are for --------------------------------------------------


def test_a_broken_compose_file_is_reported_by_path():
    broken = copy.deepcopy(load_compose())
    broken["services"]["postgres"]["restart"] = 5
    broken["services"]["gateway"]["helthcheck"] = broken["services"]["gateway"].pop("healthcheck")
    broken["volumes"]["postgresql-data"] = "x"
    errors = compose_errors(broken)
    assert "$.services.postgres.restart: 5 is not of type 'string'" in errors
    assert any(e.startswith("$.services.gateway:") and "'helthcheck'" in e for e in errors)
    assert "$.volumes['postgresql-data']: 'x' is not of type 'object', 'null'" in errors


def test_each_invalid_kubernetes_document_is_reported():
    documents = copy.deepcopy(k8s_documents())
    by_kind = {}
    for name, index, document in documents:
        by_kind.setdefault(document["kind"], (name, index, document))
    _, _, deployment = by_kind["Deployment"]
    deployment["spec"]["replicas"] = "two"
    _, _, configmap = by_kind["ConfigMap"]
    configmap["dataa"] = configmap.pop("data")  # strict: an unknown field
    errors = k8s_errors(documents)
    assert len(errors) == 2, errors
    assert any(
        "Deployment/" in e and ".spec.replicas: 'two' is not of type 'integer'" in e for e in errors
    ), errors
    assert any("ConfigMap/sp-platform-config" in e and "dataa" in e for e in errors), errors


@pytest.mark.parametrize("version", [KUBERNETES_VERSION])
def test_the_chosen_kubernetes_version_has_schemas(version):
    from kubernetes_validate.utils import all_versions, major_minor

    assert version in {major_minor(v) for v in all_versions()}


def uvicorn_commands() -> dict[str, list[str]]:
    """Every uvicorn command the deployments run, by where it is: compose services and the
    Kubernetes containers (args), and the image's default command (the gateway)."""
    commands: dict[str, list[str]] = {}
    for name, service in load_compose()["services"].items():
        command = service.get("command")
        if isinstance(command, list) and command[:1] == ["uvicorn"]:
            commands[f"compose:{name}"] = command
    for path in sorted(K8S_DIR.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not isinstance(document, dict) or document.get("kind") != "Deployment":
                continue
            for container in document["spec"]["template"]["spec"]["containers"]:
                args = container.get("args") or []
                if args[:1] == ["uvicorn"]:
                    commands[f"{path.name}:{container['name']}"] = args
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD"))
    commands["Dockerfile:CMD"] = json.loads(cmd.removeprefix("CMD").strip())
    return commands


def _options(argv: list[str]) -> list[str]:
    """`--name=value` and `--name value` alike, as a flat list."""
    flat: list[str] = []
    for arg in argv:
        flat.extend(arg.split("=", 1) if arg.startswith("--") and "=" in arg else [arg])
    return flat


def test_every_deployed_server_runs_with_the_platforms_server_options():
    """One socket write per small answer (shared/http/server.py) in every service and the
    gateway, however they are deployed."""
    from shared.http.server import SERVER_OPTIONS

    commands = uvicorn_commands()
    services = {"registry", "grievance", "isaf", "budget"}
    assert {name.split(":")[1] for name in commands if name.startswith("compose:")} >= services
    assert sum(name.endswith(tuple(services)) for name in commands if ".yaml:" in name) == 4
    for where, argv in commands.items():
        flat = _options(argv)
        at = [
            i for i in range(len(flat)) if flat[i : i + len(SERVER_OPTIONS)] == list(SERVER_OPTIONS)
        ]
        assert at, f"{where} runs uvicorn without {' '.join(SERVER_OPTIONS)}"
