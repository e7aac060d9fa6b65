"""Registry rows for tests that need households to exist (written straight to the test
database, as a migration or import would leave them; tests of registration itself go through
the API instead)."""

from __future__ import annotations

import itertools
import uuid
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from services.registry.households.codes import format_household_code
from services.registry.households.models import Household, Member

# Real villages of Khan Sen Sok: one per sangkat used by the tests' principals.
VILLAGE_PHNOM_PENH_THMEI = "12080102"  # sangkat 120801 (the CS officer's own)
VILLAGE_TUEK_THLA = "12080204"  # sangkat 120802 (the sibling)
VILLAGE_BANTEAY_MEANCHEY = "01020101"  # another province

_names = itertools.count(1)


def member(
    *,
    relationship: str = "head",
    sex: str = "female",
    birth_date: date = date(1985, 3, 14),
    family_name_km: str = "សុខ",
    given_name_km: str = "ចាន់ថា",
    family_name_latin: str = "Sok",
    given_name_latin: str = "Chantha",
    **fields,
) -> dict:
    return {
        "relationship": relationship,
        "sex": sex,
        "birth_date": birth_date,
        "family_name_km": family_name_km,
        "given_name_km": given_name_km,
        "family_name_latin": family_name_latin,
        "given_name_latin": given_name_latin,
        **fields,
    }


async def make_household(
    session: AsyncSession,
    *,
    village_code: str = VILLAGE_PHNOM_PENH_THMEI,
    status: str = "active",
    members: list[dict] | None = None,
    **fields,
) -> Household:
    """Insert a household with members (default: one female head) and flush."""
    number = (await session.execute(text("SELECT nextval('household_code_seq')"))).scalar_one()
    household = Household(
        id=uuid.uuid4(),
        code=format_household_code(number),
        village_code=village_code,
        status=status,
        created_by="test",
        updated_by="test",
        **fields,
    )
    session.add(household)
    await session.flush()
    for spec in members if members is not None else [member()]:
        row = Member(household_id=household.id, village_code=village_code, **spec)
        session.add(row)
        await session.flush()
        if spec.get("relationship") == "head":
            household.head_member_id = row.id
    await session.flush()
    await session.refresh(household)
    return household


class RegistryRows:
    """`async with RegistryRows(url) as session:` commits on exit."""

    def __init__(self, database_url: str) -> None:
        self._engine = create_async_engine(database_url)
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> AsyncSession:
        self._session = async_sessionmaker(self._engine, expire_on_commit=False)()
        return self._session

    async def __aexit__(self, exc_type, *_exc) -> None:
        assert self._session is not None
        if exc_type is None:
            await self._session.commit()
        else:
            await self._session.rollback()
        await self._session.close()
        await self._engine.dispose()
