"""From verified JWT claims to a principal (architecture section 4).

People carry `tier`, `admin_code` and `roles`; machine clients (OAuth2 client credentials)
carry `client_id` and `scope` and no tier. The admin code must fit the tier and exist in the
NCDD gazetteer: a token for a commune that does not exist is refused, not trusted.
"""

from __future__ import annotations

from typing import Any

from shared.gazetteer import get_gazetteer
from shared.principal import Principal
from shared.tiers import CODE_LENGTH, Tier


class ClaimsError(ValueError):
    pass


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise ClaimsError("the token has no subject")
    scopes = frozenset(str(claims.get("scope") or "").split())
    roles = claims.get("roles") or []
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise ClaimsError("roles must be a list of strings")
    tier_claim = claims.get("tier")
    if tier_claim is None:
        client_id = claims.get("client_id") or claims.get("azp")
        if not client_id:
            raise ClaimsError("the token names neither a tier (a person) nor a client_id")
        return Principal(
            sub=f"client:{client_id}",
            name=str(client_id),
            client=True,
            scopes=scopes,
            roles=frozenset(roles),
        )
    try:
        tier = Tier(tier_claim)
    except ValueError as exc:
        raise ClaimsError(f"unknown tier {tier_claim!r}") from exc
    admin_code = claims.get("admin_code") or ""
    if not isinstance(admin_code, str) or len(admin_code) != CODE_LENGTH[tier]:
        raise ClaimsError(f"admin_code {admin_code!r} does not fit tier {tier.value}")
    if tier is not Tier.NATIONAL and admin_code not in get_gazetteer():
        raise ClaimsError(f"admin_code {admin_code!r} is not in the NCDD gazetteer")
    return Principal(
        sub=sub,
        name=str(claims.get("name") or ""),
        tier=tier,
        admin_code=admin_code,
        roles=frozenset(roles),
        scopes=scopes,
    )
