"""Event models used only by the platform library's own tests."""

from typing import ClassVar

from shared.events.model import DomainEvent, EventCatalog

catalog = EventCatalog("platform tests")


@catalog.register
class ThingHappened(DomainEvent):
    """Something happened to a thing (the aggregate the library tests publish about)."""

    service: ClassVar[str] = "platformtest"
    aggregate: ClassVar[str] = "thing"
    name: ClassVar[str] = "happened"
    summary: ClassVar[str] = "A thing happened."

    thing_id: str
    n: int
    # Tells the test consumer's handler to fail, to exercise retries and the dead letters.
    fail: bool = False
