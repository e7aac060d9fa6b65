"""Optimistic concurrency over HTTP: `ETag` from a record's version, `If-Match` on updates.

A record's `version` column is also SQLAlchemy's `version_id_col`, so two writers that both
passed the header check still cannot both win: the second UPDATE matches no row and the
request ends in 412 (see `install_storage_problem_handlers`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Depends, Request, Response

from shared.problems import STALE_VERSION, Problem, field_error


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def require_if_match(request: Request, current_version: int) -> None:
    """428 when the header is missing, 412 when it names another version."""
    header = request.headers.get("if-match")
    if header is None:
        raise Problem(
            428,
            "Send If-Match with the ETag you last read, so no change is lost.",
            errors=[field_error(["header", "If-Match"], "required for updates")],
        )
    if header.strip() == "*":
        return
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    if etag(current_version) not in tags:
        raise Problem(
            412,
            f"The record is at version {current_version}; fetch it again and reapply your change.",
            slug=STALE_VERSION,
            errors=[field_error(["header", "If-Match"], "stale version")],
        )


def for_change(find: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """A dependency: the record the dependency `find` loads (with its own 404 and 403), once
    `If-Match` names its version (428/412 otherwise). Services build their loaders with it:
    `CaseForChange = Annotated[Case, Depends(for_change(find_case))]`."""

    async def checked(request: Request, record: Any = Depends(find)) -> Any:
        require_if_match(request, record.version)
        return record

    # Tells the OpenAPI document that the route takes a required If-Match (shared.http.openapi).
    checked.__sp_if_match__ = True  # type: ignore[attr-defined]
    return checked
