"""HTTP conventions every service follows: idempotent creates, cursor pages, ETags."""
