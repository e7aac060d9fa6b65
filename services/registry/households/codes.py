"""Human household codes: `HH` + 8 digits + a check digit, e.g. `HH000012347`.

Read aloud over the phone and typed by hand at commune offices, so a single wrong or swapped
digit must be caught: the Damm check digit detects every single-digit error and every
adjacent transposition. Numbers come from the `household_code_seq` sequence, so imports can
take a block in one round trip.
"""

from __future__ import annotations

import re

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
CODE_PATTERN = re.compile(r"^HH\d{9}$")
SEQUENCE = "household_code_seq"


def _damm(digits: str) -> int:
    interim = 0
    for digit in digits:
        interim = _DAMM[interim][int(digit)]
    return interim


def format_household_code(number: int) -> str:
    digits = f"{number:08d}"
    return f"HH{digits}{_damm(digits)}"


def is_valid_household_code(code: str) -> bool:
    code = code.strip().upper()
    return bool(CODE_PATTERN.match(code)) and _damm(code[2:]) == 0
