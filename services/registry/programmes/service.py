"""Programme rules: the national tier defines programmes; everyone reads them.

Who may define a programme: a national principal with the `registry.verifier` role (the
ministry staff who maintain the registry's reference data). A dedicated role was not added:
the gateway rule and `roles.PROGRAMME_ADMIN` are the two places to change if the
ministries want one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.audit import diff, record_change
from services.registry.programmes import repository
from services.registry.programmes.models import Programme
from services.registry.programmes.rules import RULE_ADAPTER, check_rules_fit_target, parse_rules
from services.registry.programmes.schemas import ProgrammeCreate, ProgrammeUpdate
from shared import clock
from shared.http.pagination import PageParams
from shared.principal import Principal
from shared.problems import STALE_VERSION, Problem


async def find_programme(session: AsyncSession, *, code: str) -> Programme | None:
    return await repository.get_by_code(session, code)


async def get_programme(session: AsyncSession, *, code: str) -> Programme:
    programme = await repository.get_by_code(session, code)
    if programme is None:
        raise Problem.not_found(f"Programme {code}")
    return programme


async def list_programmes(
    session: AsyncSession, *, active: bool | None, page: PageParams
) -> tuple[list[Programme], str | None]:
    return await repository.page_of_programmes(session, active=active, page=page)


async def active_programmes(session: AsyncSession) -> list[Programme]:
    return await repository.active_programmes(session)


async def all_programmes(session: AsyncSession) -> list[Programme]:
    return await repository.all_programmes(session)


def _snapshot(programme: Programme) -> dict[str, Any]:
    return {
        "name_km": programme.name_km,
        "name_en": programme.name_en,
        "description_en": programme.description_en,
        "owner_ministry": programme.owner_ministry,
        "target": programme.target,
        "eligibility": programme.eligibility,
        "benefit_amount_khr": programme.benefit_amount_khr,
        "benefit_in_kind_item": programme.benefit_in_kind_item,
        "benefit_period": programme.benefit_period,
        "active": programme.active,
    }


async def create_programme(
    session: AsyncSession, *, principal: Principal, data: ProgrammeCreate
) -> Programme:
    if await repository.get_by_code(session, data.code) is not None:
        raise Problem.conflict(f"A programme with code {data.code} already exists.")
    values = data.model_dump(mode="json", exclude={"eligibility"})
    programme = Programme(
        **values,
        eligibility=RULE_ADAPTER.dump_python(data.eligibility, mode="json", exclude_none=True),
        created_by=principal.sub,
        updated_by=principal.sub,
    )
    repository.add(session, programme)
    await session.flush()
    record_change(
        session,
        principal=principal,
        entity="programme",
        entity_id=programme.id,
        action="created",
        changes=diff({}, _snapshot(programme)),
    )
    return programme


async def update_programme(
    session: AsyncSession,
    *,
    principal: Principal,
    code: str,
    changes: ProgrammeUpdate,
    expected_version: int | None = None,
) -> Programme:
    programme = await get_programme(session, code=code)
    if expected_version is not None and programme.version != expected_version:
        raise Problem(412, "The programme was changed meanwhile.", slug=STALE_VERSION)
    before = _snapshot(programme)
    given = changes.model_fields_set
    values = changes.model_dump(mode="json", include=given - {"eligibility"})
    if "eligibility" in given and changes.eligibility is not None:
        values["eligibility"] = RULE_ADAPTER.dump_python(
            changes.eligibility, mode="json", exclude_none=True
        )
    after = {**before, **values}
    # Rules beyond one field: the merged programme must still be coherent.
    try:
        check_rules_fit_target(parse_rules(after["eligibility"]), after["target"])
    except ValueError as exc:
        raise Problem.invalid("eligibility", str(exc)) from exc
    if (after["benefit_amount_khr"] is None) == (after["benefit_in_kind_item"] is None):
        field = "benefit_in_kind_item" if "benefit_in_kind_item" in given else "benefit_amount_khr"
        raise Problem.invalid(
            field, "a programme pays either benefit_amount_khr or benefit_in_kind_item"
        )
    changed = diff(before, after)
    if not changed:
        return programme
    for key, value in values.items():
        setattr(programme, key, value)
    programme.updated_at = clock.now()
    programme.updated_by = principal.sub
    await session.flush()
    record_change(
        session,
        principal=principal,
        entity="programme",
        entity_id=programme.id,
        action="updated",
        changes=changed,
    )
    return programme
