"""The transactional outbox: `emit()` in the caller's transaction, `OutboxRelay` to Kafka."""

from shared.outbox.emit import emit
from shared.outbox.relay import OutboxRelay

__all__ = ["OutboxRelay", "emit"]
