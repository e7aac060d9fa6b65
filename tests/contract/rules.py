"""Our own rules for the merged OpenAPI document, beyond what the specification requires.

Each rule returns the places that break it, as `"<method> <path>: <what>"` lines, so a failing
test says exactly what to fix. The rules are what a portal team needs from a generated client:
every operation named and explained, its success documented, the headers it takes and sends
declared, every error a problem document under `application/problem+json`, only the error
statuses it can give, labels for every code in Khmer and English, and examples that validate.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

PROBLEM = "application/problem+json"
PROBLEM_REF = "#/components/schemas/ProblemDocument"
DEFAULT_DESCRIPTIONS = {"", "Successful Response", "OK"}
METHODS = ("get", "put", "post", "delete", "patch")


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    resource = Resource.from_contents(
        {"components": document["components"]}, default_specification=DRAFT202012
    )
    registry = Registry().with_resource("urn:doc", resource)
    return Draft202012Validator(_rebase(schema), registry=registry)


def _rebase(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: "urn:doc" + v if k == "$ref" and isinstance(v, str) and v[:1] == "#" else _rebase(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node


def documented(document: dict[str, Any]) -> list[str]:
    """A summary, a description, an operation id and a described success response each."""
    broken = []
    for method, path, op in operations(document):
        where = f"{method} {path}"
        for key in ("summary", "description", "operationId"):
            if not (op.get(key) or "").strip():
                broken.append(f"{where}: no {key}")
        success = {s: r for s, r in op.get("responses", {}).items() if s.startswith("2")}
        if not success:
            broken.append(f"{where}: no success response")
        for status, response in success.items():
            if response.get("description", "") in DEFAULT_DESCRIPTIONS:
                broken.append(f"{where}: {status} says only {response.get('description')!r}")
    return broken


DCI_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/DciErrorDocument"}}}


def problems_only(document: dict[str, Any]) -> list[str]:
    """Every error response is a ProblemDocument under application/problem+json, and only
    there; public operations list no 401/403, the others list both. The one exception is the
    DCI routes, whose standard fixes its own error document: there every error is that one."""
    broken = []
    for method, path, op in operations(document):
        where = f"{method} {path}"
        responses = op.get("responses", {})
        errors = {s: r for s, r in responses.items() if s.isdigit() and int(s) >= 400}
        if path.startswith("/registry/dci/"):
            broken += [
                f"{where}: {status} is not the DCI standard's error document"
                for status, response in errors.items()
                if response.get("content") != DCI_ERROR
            ]
            continue
        for status, response in responses.items():
            if not status.isdigit() or int(status) < 400:
                continue
            content = response.get("content") or {}
            if set(content) != {PROBLEM}:
                broken.append(f"{where}: {status} is sent as {sorted(content)}")
            elif content[PROBLEM].get("schema", {}).get("$ref") != PROBLEM_REF:
                broken.append(f"{where}: {status} has no ProblemDocument schema")
        public = op.get("security") == []
        auth = {"401", "403"} & set(responses)
        if public and auth:
            broken.append(f"{where}: a public operation lists {sorted(auth)}")
        if not public and auth != {"401", "403"}:
            broken.append(f"{where}: a protected operation lists only {sorted(auth)}")
    return broken


def headers_declared(document: dict[str, Any]) -> list[str]:
    """If-Match where 428 can come, Location on 201, Retry-After on 429 and 503, ETag where a
    record's version is sent."""
    broken = []
    for method, path, op in operations(document):
        where = f"{method} {path}"
        responses = op.get("responses", {})
        params = {p["name"]: p for p in op.get("parameters", []) if p.get("in") == "header"}
        if "428" in responses and not params.get("If-Match", {}).get("required"):
            broken.append(f"{where}: answers 428 but does not require If-Match")
        if "If-Match" in params and "412" not in responses:
            broken.append(f"{where}: takes If-Match but documents no 412")
        for status, header in (("201", "Location"), ("429", "Retry-After"), ("503", "Retry-After")):
            if status in responses and header not in (responses[status].get("headers") or {}):
                broken.append(f"{where}: {status} does not declare {header}")
        if "If-Match" in params:
            success = [r for s, r in responses.items() if s.startswith("2")]
            if not any("ETag" in (r.get("headers") or {}) for r in success):
                broken.append(f"{where}: takes If-Match but its answer declares no ETag")
    return broken


def unique_schema_names(document: dict[str, Any]) -> list[str]:
    """One title per schema, equal to its name, with no module path in it."""
    broken = []
    seen: dict[str, str] = {}
    for name, schema in document["components"]["schemas"].items():
        title = schema.get("title", name)
        if "__" in name or "." in name:
            broken.append(f"schema {name}: a module path in the name")
        if title != name:
            broken.append(f"schema {name}: titled {title!r}")
        if title in seen:
            broken.append(f"schema {name}: title {title!r} also used by {seen[title]}")
        seen[title] = name
    return broken


def _enums(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if isinstance(node.get("enum"), list) and node.get("type", "string") == "string":
            yield where, node
        for key, value in node.items():
            yield from _enums(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _enums(value, f"{where}[{i}]")


def enums_labelled(document: dict[str, Any]) -> list[str]:
    """Every code a client can send or receive in a body has an English and a Khmer label
    (query selectors such as `format=csv` are not shown to people)."""
    broken = []
    for where, schema in _enums(document["components"]["schemas"], "#/components/schemas"):
        labels = schema.get("x-enum-labels") or {}
        for value in schema["enum"]:
            label = labels.get(str(value)) or {}
            if not (label.get("en") and label.get("km")):
                broken.append(f"{where}: {value!r} has no en/km label")
                break
    return broken


def examples_valid(document: dict[str, Any]) -> list[str]:
    """Every request body has an example, and every example validates against its schema."""
    broken = []
    for method, path, op in operations(document):
        where = f"{method} {path}"
        body = (op.get("requestBody") or {}).get("content") or {}
        for media_type, media in body.items():
            if "example" not in media and not media.get("examples"):
                broken.append(f"{where}: the {media_type} body has no example")
                continue
            if media_type != "application/json":
                continue
            examples = [media["example"]] if "example" in media else []
            examples += [e.get("value") for e in (media.get("examples") or {}).values()]
            validator = _validator(document, media.get("schema") or {})
            for example in examples:
                for error in validator.iter_errors(example):
                    broken.append(f"{where}: body example: {error.message}")
        for param in op.get("parameters", []):
            if "example" in param:
                validator = _validator(document, param.get("schema") or {})
                for error in validator.iter_errors(param["example"]):
                    broken.append(f"{where}: {param['name']} example: {error.message}")
    for name, schema in document["components"]["schemas"].items():
        for prop, sub in (schema.get("properties") or {}).items():
            for example in sub.get("examples") or ():
                for error in _validator(document, sub).iter_errors(example):
                    broken.append(f"schema {name}.{prop} example {example!r}: {error.message}")
    return broken


def every_operation_has_an_example(document: dict[str, Any]) -> list[str]:
    """Something to copy for every operation: a body, parameter or answer example."""
    broken = []
    for method, path, op in operations(document):
        media = list(((op.get("requestBody") or {}).get("content") or {}).values())
        for status, response in op.get("responses", {}).items():
            if status.startswith("2"):
                media += list((response.get("content") or {}).values())
        found = any("example" in m or m.get("examples") for m in media)
        found |= any(
            "example" in p or p.get("examples") or (p.get("schema") or {}).get("examples")
            for p in op.get("parameters", [])
        )
        if not found:
            broken.append(f"{method} {path}: no example to copy")
    return broken


RULES = (
    documented,
    problems_only,
    headers_declared,
    unique_schema_names,
    enums_labelled,
    examples_valid,
    every_operation_has_an_example,
)
