"""Event models and the catalog that knows every event type."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

TYPE_PREFIX = "kh.gov.sp"
SCHEMA_BASE = "urn:kh-sp:events"


class DomainEvent(BaseModel):
    """Base of every event payload (the CloudEvents `data`).

    Subclasses set `service`, `aggregate`, `name` and `version`; the type string, topic and
    dataschema follow from them so they cannot drift apart.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: ClassVar[str]
    aggregate: ClassVar[str]
    name: ClassVar[str]
    version: ClassVar[int] = 1
    summary: ClassVar[str] = ""

    @classmethod
    def event_type(cls) -> str:
        return f"{TYPE_PREFIX}.{cls.service}.{cls.aggregate}.{cls.name}.v{cls.version}"

    @classmethod
    def topic(cls) -> str:
        return f"sp.{cls.service}.{cls.aggregate}"

    @classmethod
    def source(cls) -> str:
        return f"/sp/{cls.service}"

    @classmethod
    def dataschema(cls) -> str:
        return f"{SCHEMA_BASE}:{cls.event_type()}"

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        schema = cls.model_json_schema()
        schema["$id"] = cls.dataschema()
        return schema


class EventCatalog:
    """The registered event types of one or more services, by CloudEvents type."""

    def __init__(self, title: str = "events") -> None:
        self.title = title
        self._types: dict[str, type[DomainEvent]] = {}

    def register(self, cls: type[DomainEvent]) -> type[DomainEvent]:
        event_type = cls.event_type()
        if event_type in self._types and self._types[event_type] is not cls:
            raise ValueError(f"event type {event_type} is registered twice")
        self._types[event_type] = cls
        return cls

    def merge(self, other: EventCatalog) -> EventCatalog:
        for cls in other:
            self.register(cls)
        return self

    def get(self, event_type: str) -> type[DomainEvent] | None:
        return self._types.get(event_type)

    def topics(self) -> list[str]:
        return sorted({cls.topic() for cls in self._types.values()})

    def __iter__(self):
        return iter(sorted(self._types.values(), key=lambda c: c.event_type()))

    def __len__(self) -> int:
        return len(self._types)
