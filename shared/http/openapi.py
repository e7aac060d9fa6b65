"""The OpenAPI document of a service, finished so that generated clients are complete.

FastAPI's own document knows the routes and models; it does not know what the platform's
dependencies do to a request. `finish_document` adds what they do, for every route of every
service, so a new service gets it by using `create_service_app`:

- `If-Match` (required) on routes that change a record through `for_change`, with their
  412 and 428; `Idempotency-Key` on creates that take `IdempotencyDep`;
- `ETag` on success responses whose body carries the record's `version`, `Location` on 201,
  `Retry-After` on 429 and 503;
- error responses as RFC 9457 problem documents under `application/problem+json` only, and
  only the statuses the route can give: 400 (unknown query parameter, malformed body), 404
  when the path names a record, 422 when the request carries anything to validate, plus what
  the route declares itself (`responses=`);
- a description on every success response, and on every operation;
- Khmer and English labels of every enumeration registered with `shared.http.labels`
  (`x-enum-labels` and `x-enum-descriptions`);
- an example for every request body: the model's own when it declares one, else one built
  from the schema (field examples, defaults, the first enum value), always valid against it;
  likewise for every required parameter, and an optional one whose schema names values.

The gateway merges the services' documents (gateway/openapi.py) and adds what it answers
itself (401, 403, 413, 429, 503).
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from shared.http.labels import enum_labels
from shared.http.params import flat_parameters
from shared.problems import GENERIC, PROBLEM_MEDIA_TYPE, FieldError, ProblemDocument

SCHEMAS = "#/components/schemas/"
PROBLEM_REF = {"$ref": SCHEMAS + "ProblemDocument"}
IF_MATCH_MARK = "__sp_if_match__"
IDEMPOTENCY_MARK = "__sp_idempotency__"

IF_MATCH_PARAMETER = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": 'The `ETag` of the record as last read (e.g. `"3"`): a change to a record '
    "that changed since is refused with 412, a change without it with 428.",
    "schema": {"type": "string", "examples": ['"1"']},
    "example": '"1"',
}
IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique text (a UUID, say) of 1 to 255 visible ASCII characters: a "
    "retry with the same key and body returns the first answer (with "
    "`Idempotent-Replayed: true`) and creates nothing twice.",
    "schema": {"type": "string", "pattern": r"^[\x21-\x7e]{1,255}$"},
    "example": "4f7d1c1e-5b1a-4b8e-9d0c-2a6f3f0e9b11",
}
HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": "The record's version, to send back in `If-Match` when changing it.",
        "schema": {"type": "string", "examples": ['"1"']},
    },
    "Location": {
        "description": "The path of the new resource, through the gateway.",
        "schema": {"type": "string"},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the "
        "same Idempotency-Key (nothing was created again).",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "string", "examples": ["5"]},
    },
}
_SUCCESS_DEFAULTS = {"Successful Response", "OK", ""}
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")
_WORD = re.compile(r"[A-Za-z0-9]+")


def problem_response(status: int) -> dict[str, Any]:
    """An error response: a problem document, with Retry-After where the status sends it."""
    kind = GENERIC.get(status)
    response: dict[str, Any] = {
        "description": f"{kind.title}: {kind.description}" if kind else "Error",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": dict(PROBLEM_REF)}},
    }
    if status in (429, 503):
        response["headers"] = {"Retry-After": dict(HEADERS["Retry-After"])}
    return response


# An error format a standard fixes for its routes (the DCI routes answer the standard's
# HttpErrorResponse, shared/http/dci.py): where a route declares it, its errors keep it.
STANDARD_ERROR_SCHEMAS = ("DciErrorDocument",)


def standard_error_schema(responses: dict[str, Any]) -> str | None:
    """The standard error schema (a component name) a route's declared errors use, if any."""
    for status, response in responses.items():
        if not (status.isdigit() and int(status) >= 400):
            continue
        schema = ((response.get("content") or {}).get("application/json") or {}).get("schema")
        ref = (schema or {}).get("$ref", "")
        for name in STANDARD_ERROR_SCHEMAS:
            if ref.endswith("/" + name):
                return name
    return None


def standard_error_response(name: str, status: int, description: str | None) -> dict[str, Any]:
    kind = GENERIC.get(status)
    response: dict[str, Any] = {
        "description": description or (f"{kind.title}: {kind.description}" if kind else "Error"),
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }
    if status in (429, 503):
        response["headers"] = {"Retry-After": dict(HEADERS["Retry-After"])}
    return response


def _marked(dependant: Dependant, mark: str) -> bool:
    if getattr(dependant.call, mark, False):
        return True
    return any(_marked(d, mark) for d in dependant.dependencies)


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema and seen < 20:
        ref = schema["$ref"]
        if not ref.startswith(SCHEMAS):
            break
        schema = document.get("components", {}).get("schemas", {}).get(ref[len(SCHEMAS) :], {})
        seen += 1
    return schema


def _has_version(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    schema = _resolve(document, schema)
    version = (schema.get("properties") or {}).get("version")
    return isinstance(version, dict) and version.get("type") == "integer"


def example_for(
    document: dict[str, Any], schema: dict[str, Any], depth: int = 0, seen: frozenset = frozenset()
) -> Any:
    """A value valid against `schema`: its own example, its default, or one built from its
    properties (required ones and those with examples), enums and formats. Of a union it takes
    the first option that does not recurse into a schema it is already inside."""
    if depth > 30:
        return None
    if "$ref" in schema:
        seen = seen | {schema["$ref"]}
        return example_for(document, _resolve(document, schema), depth + 1, seen)
    if schema.get("examples"):
        return copy.deepcopy(schema["examples"][0])
    if "example" in schema:
        return copy.deepcopy(schema["example"])
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return copy.deepcopy(schema["default"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            fresh = [s for s in options if s.get("$ref") not in seen] or options
            return example_for(document, fresh[0], depth + 1, seen)
    if "allOf" in schema:
        return example_for(document, schema["allOf"][0], depth + 1, seen)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        required = set(schema.get("required") or ())
        out = {}
        for name, prop in (schema.get("properties") or {}).items():
            resolved = _resolve(document, prop) if "$ref" in prop else prop
            if name in required or "examples" in prop or "examples" in resolved:
                out[name] = example_for(document, prop, depth + 1, seen)
        return out
    if kind == "array":
        item = example_for(document, schema.get("items") or {}, depth + 1, seen)
        return [item] * max(1, int(schema.get("minItems", 1)))
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), int(schema.get("exclusiveMinimum", 0)) + 1)
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "string":
        formats = {
            "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "date": "2026-01-15",
            "date-time": "2026-01-15T09:30:00+07:00",
            "email": "officer@example.org",
            "uri": "https://example.org/",
        }
        if schema.get("format") in formats:
            return formats[schema["format"]]
        return _string_example(schema)
    return None


# Values tried, in order, for a string with a pattern (codes of the gazetteer and of households,
# periods): the first that fits is the example; none fitting, no example.
_STRING_CANDIDATES = ("x", "12", "1208", "120801", "12080102", "HH000000013", "2026-11", "1")


def _string_example(schema: dict[str, Any]) -> str | None:
    low, high = int(schema.get("minLength", 1)), int(schema.get("maxLength", 10_000))
    pattern = schema.get("pattern")
    if pattern is None or pattern.startswith("^[^"):  # free text (no control characters)
        return "x" * max(1, low)
    for candidate in _STRING_CANDIDATES:
        if low <= len(candidate) <= high and re.search(pattern, candidate):
            return candidate
    return None


def _success_description(route: Any, operation: dict[str, Any], status: str) -> str:
    if route.response_description not in _SUCCESS_DEFAULTS:
        return route.response_description
    if status == "201":
        return f"Created. {operation.get('summary', '')}".strip()
    if status == "204":
        return "Done; no content."
    model = route.response_model
    doc = (getattr(model, "__doc__", None) or "").strip()
    if doc and getattr(model, "__module__", "").split(".")[0] in ("services", "shared"):
        return doc.split("\n\n")[0].replace("\n", " ")
    return f"{operation.get('summary', 'The answer')}."


def _names_an_area(operation: dict[str, Any]) -> bool:
    """A query parameter holding a gazetteer code: an area outside the caller's is a 404."""
    return any(
        p.get("in") == "query" and '"format": "ncdd-' in json.dumps(p.get("schema"))
        for p in operation.get("parameters", ())
    )


def _add_parameter(operation: dict[str, Any], parameter: dict[str, Any]) -> None:
    parameters = operation.setdefault("parameters", [])
    lowered = parameter["name"].lower()
    parameters[:] = [p for p in parameters if p.get("name", "").lower() != lowered]
    parameters.append(copy.deepcopy(parameter))


def _finish_operation(document: dict[str, Any], route: APIRoute, operation: dict[str, Any]) -> None:
    flat = flat_parameters(route.dependant)
    if _marked(route.dependant, IF_MATCH_MARK):
        _add_parameter(operation, IF_MATCH_PARAMETER)
    if _marked(route.dependant, IDEMPOTENCY_MARK):
        _add_parameter(operation, IDEMPOTENCY_PARAMETER)
    if not operation.get("summary"):
        operation["summary"] = " ".join(_WORD.findall(route.name)).capitalize()
    if not (operation.get("description") or "").strip():
        doc = (route.description or "").strip()
        operation["description"] = doc or f"{operation['summary']}."

    responses: dict[str, Any] = operation.setdefault("responses", {})
    standard = standard_error_schema(responses)
    takes_if_match = any(p.get("name") == "If-Match" for p in operation.get("parameters", ()))
    for status in ("401", "412", "428"):
        # 401 is the gateway's to document (but a standard's route answers its own, such as
        # a bad message signature); 412 and 428 come only with If-Match.
        if (status != "401" and takes_if_match) or (status == "401" and standard):
            continue
        responses.pop(status, None)
    errors = {int(s) for s in responses if s.isdigit() and int(s) >= 400}
    errors.add(400)  # unknown query parameters, malformed bodies, unreadable paths
    if flat["path"] or _names_an_area(operation):
        errors.add(404)  # a record named in the path, or an area outside the caller's
    if any(flat.values()):
        errors.add(422)
    if takes_if_match:
        errors.update({412, 428})
    if any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", ())):
        errors.update({409, 422})
    for status in sorted(errors):
        description = (responses.get(str(status)) or {}).get("description")
        if standard:
            responses[str(status)] = standard_error_response(standard, status, description)
            continue
        response = problem_response(status)
        if description and description not in ("Validation Error",) and status != 422:
            response["description"] = description
        responses[str(status)] = response

    for status, response in responses.items():
        if not status.startswith("2"):
            continue
        if (response.get("description") or "") in _SUCCESS_DEFAULTS:
            response["description"] = _success_description(route, operation, status)
        headers = response.setdefault("headers", {})
        if status == "201":
            headers.setdefault("Location", dict(HEADERS["Location"]))
        if any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", ())):
            headers.setdefault("Idempotent-Replayed", dict(HEADERS["Idempotent-Replayed"]))
        schema = ((response.get("content") or {}).get("application/json") or {}).get("schema")
        if schema and _has_version(document, schema):
            headers.setdefault("ETag", dict(HEADERS["ETag"]))
        if not headers:
            del response["headers"]

    for parameter in operation.get("parameters", ()):
        schema = parameter.get("schema") or {}
        if "example" in parameter or "examples" in parameter:
            continue
        # An optional parameter gets one only from what its schema says (its examples, its
        # enum, a default): an invented filter value would be a request nobody makes.
        declared = json.dumps(schema)
        if parameter.get("required") or any(
            key in declared for key in ('"examples"', '"enum"', '"default": ', '"const"')
        ):
            example = example_for(document, schema)
            if example is not None:
                parameter["example"] = example

    body = (operation.get("requestBody") or {}).get("content") or {}
    for media in body.values():
        schema = media.get("schema") or {}
        if "example" in media or "examples" in media:
            continue
        resolved = _resolve(document, schema)
        if resolved.get("examples"):
            media["example"] = copy.deepcopy(resolved["examples"][0])
        else:
            media["example"] = example_for(document, schema)


# What `shared.text.ControlCharacterGuard` refuses in any string of a request: C0 controls
# but tab, line feed and carriage return, DEL and the C1 controls.
NO_CONTROL_CHARACTERS = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"


def _no_control_characters(node: Any) -> None:
    """Every free-text string (no pattern, format, enum or const of its own) states that it
    takes no control characters, as the service's guard enforces for every request."""
    if isinstance(node, dict):
        if node.get("type") == "string" and not {"pattern", "format", "enum", "const"} & set(node):
            node["pattern"] = NO_CONTROL_CHARACTERS
        for value in node.values():
            _no_control_characters(value)
    elif isinstance(node, list):
        for value in node:
            _no_control_characters(value)


def _finish_components(document: dict[str, Any], owner: str | None = None) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_VALIDATION:
        schemas.pop(name, None)
    for model in (ProblemDocument, FieldError):
        schema = model.model_json_schema(ref_template=SCHEMAS + "{model}")
        schema.pop("$defs", None)
        schemas[model.__name__] = schema
    schemas["FieldError"]["description"] = "One invalid field: where it is and why."
    for name, schema in schemas.items():
        schema["title"] = name
        _label(schema, enum_labels(name, schema.get("enum"), owner))
        for inline in _inline_enums(schema):
            _label(inline, enum_labels(None, inline["enum"], owner))


def _label(schema: dict[str, Any], labels: dict[str, dict[str, str]] | None) -> None:
    if labels:
        schema["x-enum-labels"] = labels
        schema["x-enum-descriptions"] = [
            f"{labels[str(v)]['en']} / {labels[str(v)]['km']}" for v in schema["enum"]
        ]


def _inline_enums(node: Any, top: bool = True) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if not top and isinstance(node.get("enum"), list) and "x-enum-labels" not in node:
            found.append(node)
        for value in node.values():
            found.extend(_inline_enums(value, top=False))
    elif isinstance(node, list):
        for value in node:
            found.extend(_inline_enums(value, top=False))
    return found


def _api_routes(app: FastAPI) -> list[Any]:
    """The app's API routes as the document shows them (included routers flattened, with
    their prefixes and dependencies): route contexts on FastAPI versions that have them."""
    try:
        from fastapi.routing import iter_route_contexts  # type: ignore[attr-defined]
    except ImportError:  # an older FastAPI: included routes are copied into app.routes
        return [r for r in app.routes if isinstance(r, APIRoute)]
    return [c for c in iter_route_contexts(app.routes) if isinstance(c.original_route, APIRoute)]


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = (
            {node["$ref"][len(SCHEMAS) :]}
            if str(node.get("$ref", "")).startswith(SCHEMAS)
            else set()
        )
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node)) if node else set()
    return set()


def _request_schemas(document: dict[str, Any]) -> set[str]:
    """The component schemas a request can carry (bodies and parameters, transitively)."""
    schemas = document.get("components", {}).get("schemas", {})
    todo = set()
    for item in document.get("paths", {}).values():
        for operation in item.values():
            todo |= _refs(operation.get("requestBody")) | _refs(operation.get("parameters"))
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        todo |= _refs(schemas[name])
    return seen


def finish_document(app: FastAPI, document: dict[str, Any]) -> dict[str, Any]:
    settings = getattr(app.state, "settings", None)
    _finish_components(document, getattr(settings, "service_name", None))
    schemas = document.get("components", {}).get("schemas", {})
    for name in _request_schemas(document) - {"ProblemDocument", "FieldError"}:
        _no_control_characters(schemas[name])
    for item in document.get("paths", {}).values():
        for operation in item.values():
            # Path segments: the gateway states what it takes there (gateway/openapi.py).
            params = [p for p in operation.get("parameters", []) if p.get("in") != "path"]
            _no_control_characters(params)
    for route in _api_routes(app):
        if not route.include_in_schema:
            continue
        item = document.get("paths", {}).get(route.path_format, {})
        for method in route.methods:
            operation = item.get(method.lower())
            if operation is not None:
                _finish_operation(document, route, operation)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the finished document at `/openapi.json` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            app.openapi_schema = finish_document(app, document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
