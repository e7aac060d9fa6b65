"""Verification: "has this household (or person) received programme X, and when last?"

People (SNA staff) verify within their jurisdiction: anything outside it is 404, as if it did
not exist. Machine clients holding `registry.verification.read` (e.g. the Ministry of Health's
health-equity system) verify nationwide, and get no names: they already know whom they asked
about, and the household's programmes, states and last benefits are what they need. Nobody
gets a phone number or a national ID back from this query.
"""

from __future__ import annotations

import asyncpg

from services.registry.households.repository import ReadLog
from services.registry.verification import repository
from services.registry.verification.schemas import VerificationQuery
from shared.db.engine import Database
from shared.jurisdiction import jurisdiction_parameters, jurisdiction_shape
from shared.principal import Principal
from shared.problems import Problem

CLIENT_SCOPE = "registry.verification.read"


def _check_caller(principal: Principal) -> None:
    if principal.client:
        if not principal.has_scope(CLIENT_SCOPE):
            raise Problem.forbidden(f"Verification needs the {CLIENT_SCOPE} scope.")
    elif principal.tier is None:
        raise Problem.forbidden("Verification is for registry staff and authorised systems.")


async def verify_rows(
    database: Database, *, principal: Principal, query: VerificationQuery
) -> list[asyncpg.Record]:
    """`verify` in one statement on the read pool (the route's hot path): a row per match and
    programme state (`repository.verification_statement`); the access rows of a person's
    read commit with it. Clients verify nationwide; people within their jurisdiction."""
    _check_caller(principal)
    if principal.client:
        shape, parameters, log = "national", {}, None
    else:
        shape, parameters = jurisdiction_shape(principal), jurisdiction_parameters(principal)
        log = ReadLog.of(principal, purpose="registry_verify_beneficiary", sensitive_fields=False)
    async with database.reads() as connection:
        rows = await repository.verify_rows(
            connection, query=query, shape=shape, parameters=parameters, log=log
        )
    if not rows:
        raise Problem.not_found("No household matching the query in your jurisdiction")
    return rows
