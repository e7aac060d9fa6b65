"""RFC 9457 problem documents for every error the platform returns.

Every error leaves as `application/problem+json` with `type`, `title`, `status`, `detail`,
`instance` and `request_id`; validation errors add `errors[]`, each naming the field (a
dotted path and a JSON Pointer) and the reason. No stack trace or internal detail leaves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.context import request_id_var

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:kh-sp:problem:"


@dataclass(frozen=True)
class ProblemType:
    """One kind of problem a client can get: its `type` URN is `urn:kh-sp:problem:<slug>`,
    always with this status and title. Clients branch on the type, never on the detail."""

    slug: str
    status: int
    title: str
    description: str

    @property
    def type(self) -> str:
        return TYPE_BASE + self.slug


# The generic problem of each status (what `Problem(status, detail)` answers with).
BAD_REQUEST = ProblemType("bad-request", 400, "Bad request", "The request cannot be read.")
UNAUTHENTICATED = ProblemType(
    "unauthenticated", 401, "Unauthenticated", "No valid identity came with the request."
)
FORBIDDEN = ProblemType(
    "forbidden", 403, "Forbidden", "The caller's roles, tier or area do not allow this."
)
NOT_FOUND = ProblemType(
    "not-found", 404, "Not found", "No such resource, or none the caller's area contains."
)
METHOD_NOT_ALLOWED = ProblemType(
    "method-not-allowed", 405, "Method not allowed", "The resource does not take this method."
)
NOT_ACCEPTABLE = ProblemType(
    "not-acceptable", 406, "Not acceptable", "No representation matches the Accept header."
)
CONFLICT = ProblemType("conflict", 409, "Conflict", "The resource's state does not allow this now.")
PRECONDITION_FAILED = ProblemType(
    "precondition-failed", 412, "Precondition failed", "A request precondition did not hold."
)
CONTENT_TOO_LARGE = ProblemType(
    "content-too-large", 413, "Content too large", "The request body is over the limit."
)
UNSUPPORTED_MEDIA_TYPE = ProblemType(
    "unsupported-media-type", 415, "Unsupported media type", "The body's media type is not taken."
)
VALIDATION = ProblemType(
    "validation", 422, "Validation failed", "Fields are invalid; `errors[]` names each one."
)
PRECONDITION_REQUIRED = ProblemType(
    "precondition-required",
    428,
    "Precondition required",
    "A change needs If-Match with the version (ETag) the client last read.",
)
RATE_LIMITED = ProblemType(
    "rate-limited", 429, "Too many requests", "The caller's rate limit is spent; see Retry-After."
)
INTERNAL = ProblemType(
    "internal", 500, "Internal error", "Something failed on our side; the request id traces it."
)
BAD_GATEWAY = ProblemType("bad-gateway", 502, "Bad gateway", "A service behind the gateway failed.")
UNAVAILABLE = ProblemType(
    "unavailable", 503, "Service unavailable", "A service (or its breaker) is not taking requests."
)
GATEWAY_TIMEOUT = ProblemType(
    "gateway-timeout",
    504,
    "Gateway timeout",
    "A service did not answer in time.",
)
ERROR = ProblemType("error", 0, "Error", "Any other status (the status says which).")

# Specific problems: the same status as their generic one, and a type clients can act on.
DATABASE_UNAVAILABLE = ProblemType(
    "database-unavailable",
    503,
    "Service unavailable",
    "The service cannot reach its database just now; nothing was changed. Retry after the "
    "seconds in Retry-After.",
)
UNSTORABLE_VALUE = ProblemType(
    "unstorable-value",
    422,
    "Validation failed",
    "A value passed validation but the database refused it (out of range, not representable); "
    "nothing was changed.",
)
MALFORMED_BODY = ProblemType(
    "malformed-body", 400, "Bad request", "The request body is not valid JSON."
)
INVALID_TOKEN = ProblemType(
    "invalid-token", 401, "Unauthenticated", "The bearer token is missing, expired or invalid."
)
STALE_VERSION = ProblemType(
    "stale-version",
    412,
    "Precondition failed",
    "The record changed since the client read it (If-Match or the expected version is old); "
    "fetch it again and retry.",
)
IDEMPOTENCY_KEY_REUSED = ProblemType(
    "idempotency-key-reused",
    422,
    "Validation failed",
    "The Idempotency-Key was used before with a different request.",
)
INVALID_TRANSITION = ProblemType(
    "invalid-transition",
    409,
    "Conflict",
    "The record's status does not allow this action (e.g. resolving a closed grievance).",
)
VERSION_CONFLICT = ProblemType(
    "version-conflict",
    409,
    "Conflict",
    "A change request was made against a household version that has changed since.",
)
CHANGE_REFUSED = ProblemType(
    "change-refused", 409, "Conflict", "Applying a verified change request broke a rule."
)
CHANGE_REQUEST_REQUIRED = ProblemType(
    "change-request-required",
    409,
    "Conflict",
    "A verified household is changed through a change request, not directly.",
)
DIRECT_EDIT_INSTEAD = ProblemType(
    "direct-edit-instead",
    409,
    "Conflict",
    "The household is not verified yet: edit it directly instead of requesting a change.",
)
NOT_SUBMITTED = ProblemType(
    "not-submitted", 409, "Conflict", "The change request is not in a state for this action."
)
AWAITING_DESTINATION = ProblemType(
    "awaiting-destination",
    409,
    "Conflict",
    "A move must first be accepted by the destination commune.",
)
AWAITING_OTHER_DISTRICT = ProblemType(
    "awaiting-other-district",
    409,
    "Conflict",
    "A move across districts waits for the other district's verifier as well.",
)
HOUSEHOLD_CLOSED = ProblemType(
    "household-closed", 409, "Conflict", "The household is dissolved or merged."
)
HEAD_CANNOT_BE_REMOVED = ProblemType(
    "head-cannot-be-removed",
    409,
    "Conflict",
    "The head of household cannot be removed; name another head first.",
)
DUPLICATE_ALREADY_DECIDED = ProblemType(
    "duplicate-already-decided",
    409,
    "Conflict",
    "The duplicate candidate was already confirmed or dismissed.",
)
IMPORT_EXPIRED = ProblemType(
    "import-expired",
    409,
    "Conflict",
    "The import was left uncommitted past the retention period; its staged rows are gone.",
)
IMPORT_NOT_VALIDATED = ProblemType(
    "import-not-validated", 409, "Conflict", "The import is not validated yet (or has errors)."
)
ENROLMENT_EXISTS = ProblemType(
    "enrolment-exists",
    409,
    "Conflict",
    "The household (or member) already has a live enrolment in the programme.",
)
NOT_ELIGIBLE = ProblemType(
    "not-eligible", 409, "Conflict", "The household no longer meets the programme's rules."
)
PERIOD_TAKEN = ProblemType(
    "period-taken", 409, "Conflict", "A benefit for this period is already recorded."
)
GRIEVANCE_NOT_OPEN = ProblemType(
    "grievance-not-open", 409, "Conflict", "The grievance is closed to this change."
)
REOPEN_PERIOD_ENDED = ProblemType(
    "reopen-period-ended",
    409,
    "Conflict",
    "The period in which a resolved grievance may be reopened has ended.",
)
ALREADY_RATED = ProblemType(
    "already-rated", 409, "Conflict", "The complainant's satisfaction was already recorded."
)

CATALOGUE: dict[str, ProblemType] = {
    kind.slug: kind for kind in list(globals().values()) if isinstance(kind, ProblemType)
}
"""Every problem type the platform answers with, by slug (tabled in README, under "Errors")."""

GENERIC: dict[int, ProblemType] = {
    kind.status: kind
    for kind in (
        BAD_REQUEST, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, METHOD_NOT_ALLOWED, NOT_ACCEPTABLE,
        CONFLICT, PRECONDITION_FAILED, CONTENT_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, VALIDATION,
        PRECONDITION_REQUIRED, RATE_LIMITED, INTERNAL, BAD_GATEWAY, UNAVAILABLE, GATEWAY_TIMEOUT,
    )
}  # fmt: skip
"""The generic problem of each status (what `Problem(status, detail)` answers with)."""


def problem_type(status: int, slug: str | ProblemType | None = None) -> ProblemType:
    """The catalogue's entry: the given one, the one named `slug`, or the status's generic
    one. A slug not in the catalogue is a programming error (the catalogue test reads every
    slug the code names)."""
    if isinstance(slug, ProblemType):
        return slug
    if slug is None:
        return GENERIC.get(status, ERROR)
    try:
        return CATALOGUE[slug]
    except KeyError:
        raise ValueError(f"problem type {slug!r} is not in the catalogue") from None


class FieldError(BaseModel):
    """One invalid field: where it is and why."""

    field: str = Field(description="Dotted path, e.g. `members.0.birth_date`.")
    pointer: str = Field(
        description="JSON Pointer into the request, e.g. `#/members/0/birth_date`."
    )
    reason: str = Field(description="Why the value was refused.")
    code: str | None = Field(None, description="A machine-readable reason, e.g. `missing`.")


class ProblemDocument(BaseModel):
    """An RFC 9457 problem document: the shape of every error response."""

    type: str = Field(
        description="The problem's kind, `urn:kh-sp:problem:<slug>` (see README, Errors): "
        "clients branch on it.",
        examples=["urn:kh-sp:problem:validation"],
    )
    title: str = Field(description="The kind's short title.", examples=["Validation failed"])
    status: int = Field(description="The HTTP status.", examples=[422])
    detail: str | None = Field(None, description="What went wrong with this request.")
    instance: str | None = Field(
        None, description="The path of the request, as the client sent it to the gateway."
    )
    request_id: str | None = Field(None, description="Quote it when asking support.")
    errors: list[FieldError] | None = Field(None, description="Each invalid field.")


class Problem(Exception):
    """Raise anywhere below a route to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        title: str | None = None,
        slug: str | ProblemType | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        generic_title = GENERIC.get(status, ERROR).title
        super().__init__(detail or title or generic_title)
        self.status = status
        self.detail = detail
        self.title = title or generic_title
        self.type = problem_type(status, slug).type
        self.errors = errors
        self.headers = headers
        self.extra = extra or {}

    @classmethod
    def of(cls, kind: ProblemType, detail: str | None = None, **kwargs: Any) -> Problem:
        """A problem of a catalogue type, with its status."""
        return cls(kind.status, detail, slug=kind, **kwargs)

    @classmethod
    def unauthorized(cls, detail: str) -> Problem:
        return cls(401, detail, headers={"WWW-Authenticate": "Bearer"})

    @classmethod
    def forbidden(cls, detail: str) -> Problem:
        return cls(403, detail)

    @classmethod
    def not_found(cls, what: str) -> Problem:
        return cls(404, f"{what} was not found.")

    @classmethod
    def conflict(cls, detail: str, *, slug: str | ProblemType = CONFLICT) -> Problem:
        return cls(409, detail, slug=slug)

    @classmethod
    def invalid(cls, field: str, reason: str, *, status: int = 422) -> Problem:
        """One field is wrong: the common case for rules beyond the schema."""
        return cls(status, f"{field}: {reason}", errors=[field_error(field.split("."), reason)])


def field_error(
    location: list[str | int] | tuple, reason: str, code: str | None = None
) -> FieldError:
    parts = [str(p) for p in location]
    return FieldError(
        field=".".join(parts) or "body",
        pointer="#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts),
        reason=reason,
        code=code,
    )


def problem_response(
    request: Request | None, problem: Problem, instance: str | None = None
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem.type,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.url.path if request is not None else instance,
        "request_id": request_id_var.get(),
    }
    if problem.errors:
        body["errors"] = [e.model_dump(exclude_none=True) for e in problem.errors]
    body.update(problem.extra)
    return JSONResponse(
        {k: v for k, v in body.items() if v is not None},
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


def _validation_problem(errors: list[dict[str, Any]]) -> Problem:
    field_errors: list[FieldError] = []
    malformed = False
    for err in errors:
        loc = list(err.get("loc", ()))
        # FastAPI prefixes where the value came from; the body is the client's document.
        if loc and loc[0] == "body":
            loc = loc[1:]
        if err.get("type") == "json_invalid":
            malformed = True
            field_errors.append(
                field_error(
                    [],
                    f"malformed JSON: {err.get('ctx', {}).get('error', err.get('msg'))}",
                    "json_invalid",
                )
            )
            continue
        ctx = err.get("ctx") or {}
        if err.get("type") in ("union_tag_invalid", "union_tag_not_found") and ctx.get(
            "discriminator"
        ):
            # The discriminator's own field is what the client got wrong (or left out).
            loc = [*loc, str(ctx["discriminator"]).strip("'")]
        reason = err.get("msg", "invalid")
        if reason.startswith("Value error, "):
            reason = reason[len("Value error, ") :]
        field_errors.append(field_error(loc, reason, err.get("type")))
    if malformed:
        return Problem(
            400, "The request body is not valid JSON.", slug=MALFORMED_BODY, errors=field_errors
        )
    fields = ", ".join(e.field for e in field_errors)
    return Problem(422, f"Invalid fields: {fields}.", errors=field_errors)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _request_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(request, _validation_problem(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem_response(
            request, Problem(exc.status_code, detail, headers=getattr(exc, "headers", None))
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            request,
            Problem(
                500, "Something went wrong on our side; the request id identifies it in our logs."
            ),
        )


# For `responses=` in route declarations: the statuses a route gives beyond those the platform
# adds by itself (shared/http/openapi.py puts each under `application/problem+json`, with the
# ProblemDocument schema, and nowhere else).
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "content": {
            PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDocument"}}
        },
        "description": f"{GENERIC[status].title}: {GENERIC[status].description}",
    }
    for status in (400, 401, 403, 404, 409, 412, 422, 428, 429)
}


# SQLSTATE classes: 22 data exception (the request's value), 08 connection exception, 57P
# operator intervention (shutting down, cannot connect now), 53 insufficient resources.
_INPUT_CLASSES = ("22",)
_UNAVAILABLE_CLASSES = ("08", "57P", "53")
RETRY_AFTER_SECONDS = 5


def _sqlstate(exc: BaseException) -> str | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        state = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(state, str):
            return state
        current = getattr(current, "orig", None) or current.__cause__
    return None


def storage_failure(exc: BaseException) -> str | None:
    """ "input" when the database refused a value of the request, "unavailable" when it could
    not be reached (refused, reset, shutting down, pool timed out), else None."""
    import asyncpg
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    state = _sqlstate(exc)
    if state is not None:
        if state.startswith(_INPUT_CLASSES):
            return "input"
        if state.startswith(_UNAVAILABLE_CLASSES):
            return "unavailable"
        return None
    # asyncpg refuses a value client-side too (the wrong type for a parameter): the request's.
    if isinstance(exc, asyncpg.exceptions._base.DataError) or isinstance(
        getattr(exc, "orig", None) and exc.orig.__cause__, asyncpg.exceptions._base.DataError
    ):
        return "input"
    if isinstance(exc, PoolTimeout | OSError | asyncpg.InterfaceError):
        return "unavailable"
    if isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        return "unavailable"
    cause = exc.__cause__ or getattr(exc, "orig", None)
    if cause is not None and cause is not exc and isinstance(cause, OSError):
        return "unavailable"
    return None


def storage_problem(exc: BaseException) -> Problem | None:
    kind = storage_failure(exc)
    if kind == "input":
        # The database's message names the value's type, never the statement's parameters.
        return Problem.of(
            UNSTORABLE_VALUE,
            "A value of the request cannot be stored.",
            errors=[field_error([], "a value is out of range or not representable")],
        )
    if kind == "unavailable":
        return Problem.of(
            DATABASE_UNAVAILABLE,
            "The service cannot reach its database; try again shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return None


def install_storage_problem_handlers(app: FastAPI) -> None:
    """Failures the database detects, as the client should see them: a concurrent change is
    412, a value the database refuses is 422, a database out of reach is 503 with Retry-After
    (never 500: the gateway's breaker counts 5xx, and a client should retry, not give up)."""
    import asyncpg
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import TimeoutError as PoolTimeout
    from sqlalchemy.orm.exc import StaleDataError

    async def _storage(request: Request, exc: Exception) -> JSONResponse:
        problem = storage_problem(exc)
        if problem is None:
            log.exception("unhandled error on %s %s", request.method, request.url.path)
            problem = Problem.of(
                INTERNAL,
                "Something went wrong on our side; the request id identifies it in our logs.",
            )
        elif problem.status == 503:
            log.warning("database unreachable on %s %s: %s", request.method, request.url.path,
                        type(exc).__name__)  # fmt: skip
        return problem_response(request, problem)

    for kind in (DBAPIError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError, PoolTimeout):
        app.add_exception_handler(kind, _storage)

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        return problem_response(
            request,
            Problem(
                412,
                "The record was changed by someone else; fetch it again and retry.",
                slug=STALE_VERSION,
            ),
        )
