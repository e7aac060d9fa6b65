"""One OpenAPI document for the whole platform, merged from the services' own.

Each service's paths appear under its gateway prefix (`/registry/...`); only operations the
policy table routes are published, each with the security it needs (none for public routes).
Schema names are prefixed with the service (`RegistrySex`, `GrievanceSex`), titles included,
so two services' `Page` never collide and a generated client has one class per schema; the
platform's problem schemas appear once. Every error response is a problem document under
`application/problem+json`, with the statuses the gateway adds itself (401 and 403 only on
routes that need a token, 413, 429, 503). Documents
are fetched again when older than a few seconds, so a restarted service shows its new API.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import re
import time
from typing import Any

import httpx

from gateway.policy import Policy
from gateway.upstreams import Upstream
from shared.http.openapi import problem_response
from shared.problems import PROBLEM_MEDIA_TYPE

log = logging.getLogger(__name__)

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_SCHEMAS = "#/components/schemas/"
# The platform's own schemas (shared/problems.py): one copy, under their own name.
# Defined once in shared/ for every service: not prefixed with a service's name.
PLATFORM_SCHEMAS = frozenset({"ProblemDocument", "FieldError", "DciErrorDocument", "DciError"})
_QUALIFIERS = frozenset({"schemas", "models", "api"})


def _pascal(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text))


def schema_name(service: str, name: str) -> str:
    """The merged name of a service's schema: `RegistryHousehold`. A name FastAPI qualified
    with its module path (`services__registry__benefits__schemas__BenefitPublic`, two models
    of one name) keeps only the module it came from: `RegistryBenefitsBenefitPublic`."""
    parts = name.split("__")
    short = parts[-1]
    if len(parts) > 1:
        qualifier = parts[-2]
        if qualifier in _QUALIFIERS and len(parts) > 2:
            qualifier = parts[-3]
        short = _pascal(qualifier) + short
    if short in PLATFORM_SCHEMAS:
        return short
    prefix = _pascal(service)
    return _pascal(short) if short.startswith(prefix) else prefix + _pascal(short)


def _rename_refs(node: Any, names: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {key: _rename_refs(value, names) for key, value in node.items()}
    if isinstance(node, list):
        return [_rename_refs(v, names) for v in node]
    if isinstance(node, str) and node.startswith(_SCHEMAS):
        name = node[len(_SCHEMAS) :]
        return _SCHEMAS + names.get(name, name)
    return node


def _problem(status: int) -> dict[str, Any]:
    return problem_response(status)


# What the gateway takes in one path segment (gateway/paths.py): no slash or backslash, no
# control character, not `.` or `..` (a segment starting with a dot is left out, simply).
PATH_SEGMENT = "^[^/\\\\.\\u0000-\\u001f\\u007f-\\u009f][^/\\\\\\u0000-\\u001f\\u007f-\\u009f]*$"


def _path_segments(operation: dict[str, Any]) -> None:
    """A free-text path parameter says what the gateway takes in a path segment."""
    for parameter in operation.get("parameters", ()):
        schema = parameter.get("schema") or {}
        free_text = not {"pattern", "format", "enum", "const"} & set(schema)
        if parameter.get("in") == "path" and schema.get("type") == "string" and free_text:
            schema["pattern"] = PATH_SEGMENT


def _gateway_errors(operation: dict[str, Any], rule: Any) -> None:
    """The statuses the gateway itself answers for this operation: 401/403 only where a token
    is needed, 413 where a body is taken, 429 and 503 everywhere (rate limit, breaker)."""
    responses = operation.setdefault("responses", {})
    if rule.public:
        responses.pop("401", None)
        responses.pop("403", None)
    else:
        responses["401"] = _problem(401)
        responses.setdefault("403", _problem(403))
    if "requestBody" in operation:
        responses["413"] = _problem(413)
    responses.setdefault("429", _problem(429))
    responses.setdefault("503", _problem(503))
    for status, response in responses.items():
        if status.isdigit() and int(status) >= 400:
            if getattr(rule, "errors", "problem") == "dci":
                # DCI routes: the gateway's refusals too are the standard's HttpErrorResponse.
                schema = {"$ref": _SCHEMAS + "DciErrorDocument"}
                response["content"] = {"application/json": {"schema": schema}}
                continue
            # Only problem documents leave the platform, whatever a service declared.
            schema = {"$ref": _SCHEMAS + "ProblemDocument"}
            response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": schema}}
    operation["responses"] = dict(sorted(responses.items()))


def merge_documents(
    documents: dict[str, dict[str, Any]],
    policy: Policy,
    *,
    title: str,
    version: str,
    token_url: str | None,
) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for service, document in sorted(documents.items()):
        own = (document.get("components", {}).get("schemas") or {}).keys()
        names = {name: schema_name(service, name) for name in own}
        document = _rename_refs(copy.deepcopy(document), names)
        for name, schema in (document.get("components", {}).get("schemas") or {}).items():
            merged_name = names[name]
            if merged_name in schemas and schemas[merged_name] != {**schema, "title": merged_name}:
                log.warning("schema %s of %s differs from another service's", name, service)
            schemas[merged_name] = {**schema, "title": merged_name}
        for path, item in (document.get("paths") or {}).items():
            for method in _METHODS:
                operation = item.get(method)
                if operation is None:
                    continue
                match = policy.match(service, method.upper(), path)
                if match.rule is None:
                    continue  # not routed by the gateway, so not part of the public API
                operation = dict(operation)
                rule = match.rule
                if rule.public:
                    operation["security"] = []
                else:
                    operation["security"] = [{"bearer": []}] + (
                        [{"clientCredentials": sorted(rule.scopes)}] if rule.scopes else []
                    )
                    who = ", ".join(sorted(t.value for t in rule.tiers)) or "no person"
                    operation["description"] = (
                        (operation.get("description") or "")
                        + f"\n\n**Access:** tiers {who}"
                        + (f"; roles {', '.join(sorted(rule.roles))}" if rule.roles else "")
                        + (
                            f"; client scopes {', '.join(sorted(rule.scopes))}"
                            if rule.scopes
                            else ""
                        )
                        + f". Rate class `{rule.rate.name}`."
                    ).strip()
                _gateway_errors(operation, rule)
                _path_segments(operation)
                operation.setdefault("tags", [service])
                paths.setdefault(f"/{service}{path}", {})[method] = operation
    security_schemes: dict[str, Any] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token of the platform's identity provider.",
        },
    }
    if token_url:
        security_schemes["clientCredentials"] = {
            "type": "oauth2",
            "flows": {"clientCredentials": {"tokenUrl": token_url, "scopes": {}}},
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "The social protection platform's public API. Errors are "
            "RFC 9457 problem documents.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": security_schemes,
        },
        "security": [{"bearer": []}],
    }


class ApiDocument:
    def __init__(
        self,
        upstreams: dict[str, Upstream],
        policy: Policy,
        *,
        ttl: float,
        title: str,
        version: str,
        token_url: str | None,
    ) -> None:
        self.upstreams = upstreams
        self.policy = policy
        self.ttl = ttl
        self.title = title
        self.version = version
        self.token_url = token_url
        self._documents: dict[str, dict[str, Any]] = {}
        self._merged: dict[str, Any] | None = None
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def _fetch(self, upstream: Upstream) -> None:
        try:
            response = await upstream.client.get(f"{upstream.base_url}/openapi.json", timeout=3)
            response.raise_for_status()
            self._documents[upstream.name] = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            # Keep the last good copy: a service that is restarting still has an API.
            log.info("openapi of %s not refreshed: %s", upstream.name, exc)

    async def document(self) -> dict[str, Any]:
        if self._merged is not None and time.monotonic() - self._fetched_at < self.ttl:
            return self._merged
        async with self._lock:
            if self._merged is None or time.monotonic() - self._fetched_at >= self.ttl:
                await asyncio.gather(*(self._fetch(u) for u in self.upstreams.values()))
                self._merged = merge_documents(
                    self._documents,
                    self.policy,
                    title=self.title,
                    version=self.version,
                    token_url=self.token_url,
                )
                self._fetched_at = time.monotonic()
        return self._merged
