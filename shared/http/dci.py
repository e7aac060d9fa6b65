"""The DCI standard's HTTP error format, for routes that speak DCI (the registry's
`/dci/...`): `application/json` `{"errors": [{"code", "message"}]}` with the standard's
`Error` codes (`err.request.unauthorized`, `err.signature.invalid`, ...), instead of the
platform's RFC 9457 problem documents. The gateway answers its own refusals (401, 403, 429 ...)
on those routes in this format too (policy rows with `errors: dci`), so a strict DCI client
reads every error it can get.

The first error names the problem as a whole; one more per field error, `field: reason`.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from shared.problems import Problem

# The standard's Error codes (social_api / registry_core `Error.code`) by HTTP status.
ERROR_CODES = {
    400: "err.request.bad",
    401: "err.request.unauthorized",
    403: "err.request.forbidden",
    404: "err.request.not_found",
    405: "err.request.bad",
    408: "err.request.timeout",
    409: "err.request.bad",
    413: "err.request.bad",
    415: "err.request.bad",
    422: "err.request.bad",
    429: "err.request.too_many_requests",
    502: "err.service.unavailable",
    503: "err.service.unavailable",
    504: "err.request.timeout",
}
# A Problem may name its code exactly (e.g. err.signature.invalid) in `extra`.
CODE_KEY = "dci_error_code"


class DciError(BaseModel):
    code: str = Field(description="The DCI standard's Error code, e.g. `err.request.bad`.")
    message: str = Field(max_length=999)


class DciErrorDocument(BaseModel):
    """The DCI standard's HttpErrorResponse."""

    errors: list[DciError]


def error_code(problem: Problem) -> str:
    return problem.extra.get(CODE_KEY) or ERROR_CODES.get(
        problem.status, "err.service.unavailable" if problem.status >= 500 else "err.request.bad"
    )


def error_document(problem: Problem) -> dict[str, Any]:
    code = error_code(problem)
    errors = [{"code": code, "message": (problem.detail or problem.title)[:999]}]
    for field in problem.errors or ():
        errors.append({"code": code, "message": f"{field.field}: {field.reason}"[:999]})
    return {"errors": errors}


def error_response(problem: Problem) -> JSONResponse:
    return JSONResponse(
        error_document(problem),
        status_code=problem.status,
        media_type="application/json",
        headers=problem.headers,
    )


# For `responses=` of DCI routes: the standard's error shape in OpenAPI.
def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "model": DciErrorDocument,
            "description": f"DCI HttpErrorResponse (`{ERROR_CODES.get(status, 'err.request.bad')}`"
            + (", `err.signature.missing`, `err.signature.invalid`" if status == 401 else "")
            + ")",
        }
        for status in statuses
    }
