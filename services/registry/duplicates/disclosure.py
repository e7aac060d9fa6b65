"""What a caller may see of a duplicate pair whose other household lies outside its area.

A pair is on the worklist of both sides: the commune that registered the newer household
must know that it matches someone, and the reviewer of the other side sees the pair too. But
a household outside the caller's area stays outside it: the caller learns that a match exists
and which administration decides it (`handled_by`: the district, province or national level
whose area holds both households), never whose record it is: not its id, code, village,
address, members, IDs or phones. Otherwise registering a family with someone's national ID or
phone would turn any commune officer into a nationwide lookup by ID or phone.
"""

from __future__ import annotations

from typing import Any

from shared.principal import Principal
from shared.tiers import Tier


def handled_by(village_code: str, other_village_code: str) -> dict[str, str]:
    """The administration that decides a pair: the district, province or national level
    whose area holds both villages (a verifier there may dismiss or confirm it)."""
    if village_code[:4] == other_village_code[:4]:
        return {"tier": Tier.DMK.value, "admin_code": village_code[:4]}
    if village_code[:2] == other_village_code[:2]:
        return {"tier": Tier.CP.value, "admin_code": village_code[:2]}
    return {"tier": Tier.NATIONAL.value, "admin_code": ""}


def summary_for(principal: Principal, candidate: Any) -> dict[str, Any]:
    """The worklist row as this caller may see it (a DuplicateCandidate or its mapping)."""
    row = candidate if isinstance(candidate, dict) else candidate.model_dump()
    mine = principal.covers(row["village_code"])
    theirs = principal.covers(row["other_village_code"])
    shown = dict(row)
    shown["handled_by"] = handled_by(row["village_code"], row["other_village_code"])
    shown["household_withheld"] = not mine
    shown["other_household_withheld"] = not theirs
    if not mine:
        shown |= {"household_id": None, "village_code": None}
    if not theirs:
        shown |= {"other_household_id": None, "other_village_code": None}
    if not (mine and theirs):
        # The surviving household of a merge, and the member pairs, name both sides.
        survivor = row.get("surviving_household_id")
        visible = (shown["household_id"], shown["other_household_id"])
        if survivor is not None and survivor not in visible:
            shown["surviving_household_id"] = None
        shown["matches"] = [
            {
                **match,
                "member_id": match["member_id"] if mine else None,
                "other_member_id": match["other_member_id"] if theirs else None,
            }
            for match in row.get("matches") or []
        ]
        shown["merge_summary"] = None
    return shown
