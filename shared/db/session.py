"""The request-scoped session dependency."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.engine import Database


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    database = request.app.state.database
    async with database.transaction() as session:
        yield session


# scope="function" runs the commit after the endpoint returns but before the response is
# sent: a failed commit becomes an error response instead of a lie.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_database(request: Request) -> Database:
    """The service's database, for the hot reads that use `Database.reads()` instead of a
    session."""
    return request.app.state.database


DatabaseDep = Annotated[Database, Depends(get_database)]
