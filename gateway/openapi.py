"""One OpenAPI document for the whole platform, merged from the services' own.

Each service's paths appear under its gateway prefix (`/registry/...`); only operations the
policy table routes are published, each with the security it needs (none for public routes).
Schema names are prefixed with the service so two services' `Page` never collide. Documents
are fetched again when older than a few seconds, so a restarted service shows its new API.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from typing import Any

import httpx

from gateway.policy import Policy
from gateway.upstreams import Upstream

log = logging.getLogger(__name__)

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _rename_refs(node: Any, service: str) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if (
                key == "$ref"
                and isinstance(value, str)
                and value.startswith("#/components/schemas/")
            ):
                out[key] = "#/components/schemas/" + service + "__" + value.rsplit("/", 1)[1]
            else:
                out[key] = _rename_refs(value, service)
        return out
    if isinstance(node, list):
        return [_rename_refs(v, service) for v in node]
    return node


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
        document = _rename_refs(copy.deepcopy(document), service)
        for name, schema in (document.get("components", {}).get("schemas") or {}).items():
            schemas[f"{service}__{name}"] = schema
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
