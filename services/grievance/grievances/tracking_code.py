"""Citizen tracking codes: unguessable, short, and easy to read aloud over the phone.

A code is 9 random characters and 1 check character from a 28-symbol alphabet: the digits
2-9 and the letters without I, L, O (read as 1 and 0) and S, U, Z (heard or read as 5, V,
2). It is shown in groups as `K7M-4QX-9PTA`. That is 28^9 ≈ 10^13 codes: with a million
grievances on file a random guess hits one in ten million times, and the gateway (per IP)
and the service (failed lookups per client) throttle guessing. The check character
(Luhn mod N) catches any single mistyped character and most swapped neighbours.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRTVWXY"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
RANDOM_LENGTH = 9
LENGTH = RANDOM_LENGTH + 1
assert len(ALPHABET) == 28


def check_character(body: str) -> str:
    """Luhn mod N over `body` (which must use ALPHABET only)."""
    n = len(ALPHABET)
    factor, total = 2, 0
    for char in reversed(body):
        addend = factor * _INDEX[char]
        factor = 1 if factor == 2 else 2
        total += addend // n + addend % n
    return ALPHABET[(n - total % n) % n]


def new_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return body + check_character(body)


def normalise(raw: str) -> str | None:
    """The stored form of a code as typed (case, dashes and spaces ignored), or None when it
    cannot be one of ours; the caller answers both cases the same way."""
    text = "".join(raw.split()).replace("-", "").upper()
    if len(text) != LENGTH or any(c not in _INDEX for c in text):
        return None
    if check_character(text[:-1]) != text[-1]:
        return None
    return text


def display(code: str) -> str:
    return f"{code[:3]}-{code[3:6]}-{code[6:]}"
