"""The administrative tiers of Cambodia's sub-national administration.

A gazetteer code's length gives its level: 2 digits a Capital/Province (CP), 4 a
District/Municipality/Khan (DMK), 6 a Commune/Sangkat (CS), 8 a village (which has no
administration of its own). National principals carry the empty code.
"""

from enum import StrEnum


class Tier(StrEnum):
    NATIONAL = "national"
    CP = "cp"
    DMK = "dmk"
    CS = "cs"


# Length of an admin code for each tier that administers an area.
CODE_LENGTH: dict[Tier, int] = {Tier.NATIONAL: 0, Tier.CP: 2, Tier.DMK: 4, Tier.CS: 6}
VILLAGE_CODE_LENGTH = 8

# Escalation goes one tier up: CS -> DMK -> CP -> national.
PARENT_TIER: dict[Tier, Tier | None] = {
    Tier.CS: Tier.DMK,
    Tier.DMK: Tier.CP,
    Tier.CP: Tier.NATIONAL,
    Tier.NATIONAL: None,
}


def tier_for_code(code: str) -> Tier | None:
    """The administering tier for a code of that length, None for villages or bad lengths."""
    for tier, length in CODE_LENGTH.items():
        if len(code) == length:
            return tier
    return None
