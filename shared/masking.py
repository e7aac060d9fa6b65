"""Masking of national ID numbers and phone numbers: one format everywhere.

A person without the right to see them gets `*****3040` for a national ID (the last four
digits) and `+855******78` for a phone number (the country code and the last two): enough to
tell two people apart on a call, not enough to use. Every service masks through here, so a
household, a history entry, a change request and a duplicate pair show the same thing.
"""

from __future__ import annotations

from typing import Any

NATIONAL_ID = "national_id"
PHONE = "phone"
SENSITIVE_FIELDS: tuple[str, ...] = (NATIONAL_ID, PHONE)


def mask_national_id(value: str) -> str:
    return "*" * max(len(value) - 4, 0) + value[-4:]


def mask_phone(value: str) -> str:
    if len(value) <= 6:
        return "*" * max(len(value) - 2, 0) + value[-2:]
    return value[:4] + "*" * (len(value) - 6) + value[-2:]


def mask_value(field: str, value: Any) -> Any:
    """`value` of `field` masked (a phone as a phone, anything else as a national ID); what
    is not a non-empty string is returned as it is."""
    if not isinstance(value, str) or not value:
        return value
    return mask_phone(value) if field == PHONE else mask_national_id(value)


def mask_sensitive(data: Any) -> Any:
    """A copy of `data` (dicts and lists, nested) with every sensitive field's value masked:
    a plain value, or each side of a `{"from": ..., "to": ...}` change."""
    if isinstance(data, dict):
        out: dict[Any, Any] = {}
        for key, value in data.items():
            if key in SENSITIVE_FIELDS:
                if isinstance(value, dict):
                    value = {k: mask_value(key, v) for k, v in value.items()}
                else:
                    value = mask_value(key, value)
            else:
                value = mask_sensitive(value)
            out[key] = value
        return out
    if isinstance(data, list):
        return [mask_sensitive(item) for item in data]
    return data
