"""`Idempotency-Key` for creates: a retry with the same key returns the first response.

The key row is claimed inside the request's own transaction, so the stored response commits
or rolls back together with the record it describes. Two concurrent requests with one key
serialise on the primary key: the second waits for the first to commit, then replays it. A
key reused for a different request is refused (422), as the IETF draft recommends.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from shared.db.platform_tables import idempotency_key
from shared.db.session import SessionDep
from shared.principal import PrincipalDep
from shared.problems import IDEMPOTENCY_KEY_REUSED, Problem, field_error

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
# Kept this long, then purged by the outbox relay's maintenance pass.
RETENTION_SQL = "DELETE FROM idempotency_key WHERE created_at < now() - interval '24 hours'"


class Idempotency:
    def __init__(
        self, session: Any, principal: str, key: str | None, replay: Response | None = None
    ) -> None:
        self._session = session
        self._principal = principal
        self.key = key
        self.replay = replay

    async def respond(
        self, status_code: int, content: Any, headers: dict[str, str] | None = None
    ) -> JSONResponse:
        """The response to send, remembered under the key when there is one."""
        # UTF-8 as written, like every other answer: Khmer stays Khmer, not \uXXXX escapes.
        body = json.dumps(
            jsonable_encoder(content), separators=(",", ":"), ensure_ascii=False
        ).encode()
        response = Response(
            body, status_code=status_code, headers=headers, media_type="application/json"
        )
        if self.key is not None:
            await self._session.execute(
                update(idempotency_key)
                .where(
                    idempotency_key.c.principal == self._principal,
                    idempotency_key.c.key == self.key,
                )
                .values(status_code=status_code, headers=headers or {}, body=body)
            )
        return response  # type: ignore[return-value]


async def idempotency(
    request: Request, session: SessionDep, principal: PrincipalDep
) -> Idempotency:
    key = request.headers.get(HEADER)
    if key is None:
        return Idempotency(session, principal.sub, None)
    if not _KEY.match(key):
        raise Problem(
            400,
            "Idempotency-Key must be 1 to 255 visible ASCII characters.",
            errors=[field_error(["header", HEADER], "invalid format")],
        )
    body = await request.body()
    fingerprint = hashlib.sha256(
        request.method.encode() + b" " + request.url.path.encode() + b"\n" + body
    ).hexdigest()
    claimed = await session.execute(
        insert(idempotency_key)
        .values(
            principal=principal.sub,
            key=key,
            method=request.method,
            path=request.url.path,
            fingerprint=fingerprint,
        )
        .on_conflict_do_nothing()
        .returning(idempotency_key.c.key)
    )
    if claimed.first() is not None:
        return Idempotency(session, principal.sub, key)
    row = (
        (
            await session.execute(
                select(idempotency_key).where(
                    idempotency_key.c.principal == principal.sub, idempotency_key.c.key == key
                )
            )
        )
        .mappings()
        .one()
    )
    if row["fingerprint"] != fingerprint:
        raise Problem(
            422,
            "This Idempotency-Key was already used for a different request.",
            slug=IDEMPOTENCY_KEY_REUSED,
            errors=[field_error(["header", HEADER], "reused with another request")],
        )
    if row["status_code"] is None:
        raise Problem.conflict("A request with this Idempotency-Key is still being processed.")
    headers = dict(row["headers"] or {})
    headers["Idempotent-Replayed"] = "true"
    replay = Response(
        row["body"], status_code=row["status_code"], headers=headers, media_type="application/json"
    )
    return Idempotency(session, principal.sub, key, replay=replay)


# Tells the OpenAPI document that the route takes Idempotency-Key (shared.http.openapi).
idempotency.__sp_idempotency__ = True  # type: ignore[attr-defined]

IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
