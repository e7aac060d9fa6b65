"""The transactional outbox: `emit()` in the caller's transaction, `OutboxRelay` to Kafka."""

from shared.outbox.emit import Outgoing, emit, emit_many
from shared.outbox.relay import OutboxRelay

__all__ = ["OutboxRelay", "Outgoing", "emit", "emit_many"]
