"""Reports over a subtree: allocated, released, spent, delays and execution per line and
unit (staff: the caller's area; the public disclosure: published figures only)."""
