"""The platform's event catalog: every event type any service publishes.

Each service declares its events in a module here (`registry.py`, `grievance.py`, ...) and
registers them on that module's catalog; `platform_catalog()` merges them. The AsyncAPI
document and the gateway's `/asyncapi.json` are generated from it.
"""

from __future__ import annotations

import importlib
import pkgutil

from shared.events.model import EventCatalog


def platform_catalog() -> EventCatalog:
    merged = EventCatalog("Social protection platform events")
    for module in pkgutil.iter_modules(__path__):
        catalog = getattr(importlib.import_module(f"{__name__}.{module.name}"), "catalog", None)
        if isinstance(catalog, EventCatalog):
            merged.merge(catalog)
    return merged
