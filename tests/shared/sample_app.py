"""A small service built only from the platform library, to test its HTTP conventions.

A "note" placed at a village: created idempotently, read with an ETag, updated with If-Match,
listed with cursor pages and jurisdiction filtering, exactly the way a real service would.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import ClassVar

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import SettingsConfigDict
from sqlalchemy import select
from sqlmodel import Field as SQLField

from shared.db.session import SessionDep
from shared.db.versioning import Versioned
from shared.gazetteer import VillageCode
from shared.http.concurrency import require_if_match, set_etag
from shared.http.idempotency import IdempotencyDep
from shared.http.pagination import Page, PageDep, paginate
from shared.jurisdiction import jurisdiction_filter, require_in_jurisdiction
from shared.outbox import emit
from shared.principal import PrincipalDep
from shared.problems import Problem
from shared.service_app import create_service_app
from shared.settings import ServiceSettings
from tests.shared.sample_events import ThingHappened


class SampleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SAMPLE_", extra="ignore")
    service_name: ClassVar[str] = "sample"


class Note(Versioned, table=True):
    __tablename__ = "test_note"
    id: uuid.UUID = SQLField(default_factory=uuid.uuid4, primary_key=True)
    title: str
    priority: int
    village_code: str | None = SQLField(default=None, index=True)
    created_at: datetime = SQLField(default_factory=lambda: datetime.now(UTC))


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    priority: int = Field(ge=1, le=5)
    village_code: VillageCode


class NoteUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)


class NotePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    title: str
    priority: int
    village_code: str | None
    version: int


router = APIRouter(prefix="/notes")


async def _get_visible(session, principal, note_id: uuid.UUID) -> Note:
    note = (
        await session.execute(
            select(Note).where(
                Note.id == note_id, jurisdiction_filter(principal, Note.village_code)
            )
        )
    ).scalar_one_or_none()
    if note is None:
        raise Problem.not_found("The note")
    return note


@router.post("", status_code=201, response_model=NotePublic)
async def create_note(
    body: NoteCreate, session: SessionDep, principal: PrincipalDep, idempotency: IdempotencyDep
) -> Response:
    if idempotency.replay:
        return idempotency.replay
    require_in_jurisdiction(principal, body.village_code, what="A note")
    note = Note(**body.model_dump())
    session.add(note)
    await session.flush()
    await emit(
        session,
        ThingHappened(thing_id=str(note.id), n=0),
        subject=note.id,
        jurisdiction=note.village_code,
    )
    return await idempotency.respond(
        201,
        NotePublic.model_validate(note),
        headers={"Location": f"/notes/{note.id}", "ETag": '"1"'},
    )


@router.get("/{note_id}", response_model=NotePublic)
async def get_note(
    note_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, response: Response
) -> Note:
    note = await _get_visible(session, principal, note_id)
    set_etag(response, note.version)
    return note


@router.patch("/{note_id}", response_model=NotePublic)
async def update_note(
    note_id: uuid.UUID,
    body: NoteUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
) -> Note:
    note = await _get_visible(session, principal, note_id)
    require_if_match(request, note.version)
    note.title = body.title
    await session.flush()
    set_etag(response, note.version)
    return note


@router.get("", response_model=Page[NotePublic])
async def list_notes(session: SessionDep, principal: PrincipalDep, page: PageDep) -> Page:
    rows, next_cursor = await paginate(
        session,
        select(Note).where(jurisdiction_filter(principal, Note.village_code)),
        order_by=[Note.created_at, Note.id],
        page=page,
    )
    return Page(items=[NotePublic.model_validate(r) for r in rows], next_cursor=next_cursor)


def sample_settings(database_url: str, bootstrap_servers: str, **overrides) -> SampleSettings:
    """A library test service's settings: no relay, plain log lines."""
    return SampleSettings(
        database_url=database_url,
        kafka_bootstrap_servers=bootstrap_servers,
        relay_enabled=False,
        log_json=False,
        **overrides,
    )


def app_with_routes(database_url: str, bootstrap_servers: str, routers: list, **app_options):
    """A service built by create_service_app around a test's own routes, with the library
    test settings and no consumers (`app_options`: create_service_app's, e.g. `clock`)."""
    return create_service_app(
        sample_settings(database_url, bootstrap_servers, consumers_enabled=False),
        title="library test",
        description="library test",
        routers=routers,
        **app_options,
    )


def create_sample_app(database_url: str, bootstrap_servers: str, **overrides):
    settings = sample_settings(database_url, bootstrap_servers, **overrides)
    return create_service_app(
        settings, title="Sample", description="Library test service", routers=[router]
    )
