"""Domain events: models, the CloudEvents envelope, the catalog and the AsyncAPI document.

Every event type is a pydantic model (`DomainEvent` subclass) that names its CloudEvents type
and topic. Service events are declared in `shared/events/catalog/<service>.py` because they
are a contract between services: a consumer in one service reads the model another service
publishes, and services may not import each other.
"""

from shared.events.envelope import CloudEvent, build_envelope, parse_envelope
from shared.events.model import DomainEvent, EventCatalog

__all__ = ["CloudEvent", "DomainEvent", "EventCatalog", "build_envelope", "parse_envelope"]
