"""RFC 9457 problem documents for every error the platform returns.

Every error leaves as `application/problem+json` with `type`, `title`, `status`, `detail`,
`instance` and `request_id`; validation errors add `errors[]`, each naming the field (a
dotted path and a JSON Pointer) and the reason. No stack trace or internal detail leaves.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.context import request_id_var

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:kh-sp:problem:"

_TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Validation failed",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}
_SLUGS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    412: "precondition-failed",
    413: "content-too-large",
    415: "unsupported-media-type",
    422: "validation",
    428: "precondition-required",
    429: "rate-limited",
    500: "internal",
    502: "bad-gateway",
    503: "unavailable",
    504: "gateway-timeout",
}


class FieldError(BaseModel):
    field: str  # dotted path, e.g. "members.0.birth_date"
    pointer: str  # JSON Pointer into the request, e.g. "#/members/0/birth_date"
    reason: str
    code: str | None = None


class ProblemDocument(BaseModel):
    """The shape of every error response (documented in OpenAPI)."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


class Problem(Exception):
    """Raise anywhere below a route to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        title: str | None = None,
        slug: str | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or title or _TITLES.get(status, "Error"))
        self.status = status
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.type = TYPE_BASE + (slug or _SLUGS.get(status, "error"))
        self.errors = errors
        self.headers = headers
        self.extra = extra or {}

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
    def conflict(cls, detail: str, *, slug: str = "conflict") -> Problem:
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
            400, "The request body is not valid JSON.", slug="malformed-body", errors=field_errors
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


# For `responses=` in route declarations, so OpenAPI shows the problem shape.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "model": ProblemDocument,
        "content": {PROBLEM_MEDIA_TYPE: {}},
        "description": _TITLES[status],
    }
    for status in (400, 401, 403, 404, 409, 412, 422, 428)
}


def install_storage_problem_handlers(app: FastAPI) -> None:
    """Concurrency failures the database detects, as the client should see them."""
    from sqlalchemy.orm.exc import StaleDataError

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        return problem_response(
            request,
            Problem(
                412,
                "The record was changed by someone else; fetch it again and retry.",
                slug="stale-version",
            ),
        )
