"""HTTP routes of bulk imports: upload, progress, report, commit."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy.exc import IntegrityError

from services.registry.imports import repository, service
from services.registry.imports.models import HouseholdImport
from services.registry.imports.parsing import template_csv
from services.registry.imports.schemas import REPORT_COLUMNS, ImportIssuePublic, ImportPublic
from shared.db import SessionDep
from shared.http.idempotency import HEADER as IDEMPOTENCY_HEADER
from shared.http.pagination import Page, PageDep
from shared.principal import PrincipalDep
from shared.problems import PROBLEM_RESPONSES, Problem, field_error

router = APIRouter(prefix="/imports", tags=["imports"])

_ERRORS = {k: PROBLEM_RESPONSES[k] for k in (400, 403, 404, 409, 422)}
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


async def _schedule(request: Request, import_id: uuid.UUID) -> None:
    service.worker_of(request.app).schedule(import_id)


def _accepted(household_import: HouseholdImport, *, replayed: bool = False) -> JSONResponse:
    headers = {"Location": f"/imports/{household_import.id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(
        ImportPublic.of(household_import).model_dump(mode="json"),
        status_code=202,
        headers=headers,
    )


@router.post(
    "",
    status_code=202,
    response_model=ImportPublic,
    summary="Upload a CSV or XLSX file of households with members",
    description="One row per member (see `GET /imports/template.csv` and the README's "
    "'Bulk import' section). The file is stored and validated in the background: poll "
    "`GET /imports/{id}` for progress, read the report at `GET /imports/{id}/errors`, then "
    "`POST /imports/{id}/commit`. Villages must lie in the uploader's area. 415 for a file "
    "that is neither CSV nor XLSX, 422 for an empty file or missing columns, 413 past 500 MB. "
    "A retry with the same `Idempotency-Key` returns the first import.",
    responses={
        **_ERRORS,
        413: {"description": "The file is too large"},
        415: {"description": "The file is neither CSV nor XLSX"},
    },
)
async def create_import(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    background: BackgroundTasks,
    file: Annotated[UploadFile, File(description="The CSV (UTF-8) or XLSX file.")],
) -> Response:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not (0 < len(key) <= 255 and key.isascii() and key.isprintable()):
        raise Problem(
            400,
            "Idempotency-Key must be 1 to 255 visible ASCII characters.",
            errors=[field_error(["header", IDEMPOTENCY_HEADER], "invalid format")],
        )
    if key is not None:
        earlier = await repository.find_by_idempotency_key(session, principal.sub, key)
        if earlier is not None:
            return _accepted(earlier, replayed=True)
    try:
        household_import = await service.start_import(
            session,
            principal=principal,
            file_name=file.filename or "upload",
            file=file.file,
            idempotency_key=key,
        )
    except IntegrityError:
        raise Problem.conflict(
            "An upload with this Idempotency-Key is still being processed."
        ) from None
    background.add_task(_schedule, request, household_import.id)
    return _accepted(household_import)


@router.get(
    "",
    response_model=Page[ImportPublic],
    summary="List imports in your area",
    description="Imports uploaded in the caller's area (a district sees its communes'), "
    "oldest first, with their status and progress.",
    responses=_ERRORS,
)
async def list_imports(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    status: Annotated[
        Literal["uploaded", "validating", "validated", "committing", "committed", "failed"] | None,
        Query(description="Only imports in this status."),
    ] = None,
) -> Page[ImportPublic]:
    rows, next_cursor = await service.list_imports(
        session, principal=principal, page=page, status=status
    )
    return Page(items=[ImportPublic.of(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/template.csv",
    summary="Download the import template",
    description="A CSV with every column of the import format and an example household.",
    response_class=Response,
    responses={
        200: {
            "content": {"text/csv": {"example": template_csv()}},
            "description": "The template: the header row and an example household.",
        }
    },
)
async def get_import_template(principal: PrincipalDep) -> Response:
    return Response(
        template_csv(),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="household-import-template.csv"'},
    )


@router.get(
    "/{import_id}",
    response_model=ImportPublic,
    summary="Read an import's status and progress",
    description="Rows read and validated, households valid / invalid / already imported, "
    "households and members committed. 404 outside the caller's area.",
    responses=_ERRORS,
)
async def get_import(
    import_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> ImportPublic:
    found = await service.get_import(session, principal=principal, import_id=import_id)
    return ImportPublic.of(found)


@router.get(
    "/{import_id}/errors",
    response_model=Page[ImportIssuePublic],
    summary="Read an import's validation report",
    description="Every issue found, by row and column: errors (the row's household is not "
    "imported) and warnings (likely duplicates, households imported before).",
    responses=_ERRORS,
)
async def list_import_errors(
    import_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    severity: Annotated[
        Literal["error", "warning"] | None, Query(description="Only issues of this severity.")
    ] = None,
) -> Page[ImportIssuePublic]:
    rows, next_cursor = await service.list_issues(
        session, principal=principal, import_id=import_id, page=page, severity=severity
    )
    return Page(items=[ImportIssuePublic.of(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/{import_id}/errors.csv",
    summary="Download an import's validation report as CSV",
    description="The same issues as `/errors`, all of them, as a CSV to open beside the file.",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "The report"}, **_ERRORS},
)
async def download_import_errors(
    import_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> StreamingResponse:
    found = await service.get_import(session, principal=principal, import_id=import_id)
    engine = request.app.state.database.engine

    async def lines() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(REPORT_COLUMNS)
        yield ("\ufeff" + buffer.getvalue()).encode()
        async for rows in repository.stream_issues(engine, found.id):
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(rows)
            yield buffer.getvalue().encode()

    stem = found.file_name.rsplit(".", 1)[0][:100] or "import"
    return StreamingResponse(
        lines(),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{_safe(stem)}-errors.csv"'},
    )


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


@router.post(
    "/{import_id}/commit",
    status_code=202,
    response_model=ImportPublic,
    summary="Commit an import's valid households",
    description="Creates every household whose rows are all valid (pending verification), "
    "with its members, history and events, in the background; a household with any error "
    "is skipped whole. Idempotent: asking again, or importing the same file again, creates "
    "nothing new. 409 before validation has finished.",
    responses=_ERRORS,
)
async def commit_import(
    import_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    background: BackgroundTasks,
) -> Response:
    household_import = await service.request_commit(
        session, principal=principal, import_id=import_id
    )
    background.add_task(_schedule, request, household_import.id)
    return _accepted(household_import)
