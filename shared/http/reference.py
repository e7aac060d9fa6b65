"""The code lists a service registered (`shared.http.labels`), served to portals.

`reference_router("grievance")` gives `GET /reference/code-lists` (all of them) and
`GET /reference/code-lists/{name}` (one), each code with its English and Khmer labels and the
label in the caller's language (`Accept-Language`), cacheable (`ETag`, `If-None-Match` -> 304).
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Request, Response
from pydantic import BaseModel, Field

from shared.http.caching import ETAG_HEADERS, IF_NONE_MATCH, NOT_MODIFIED, cached_json
from shared.http.labels import CodeList, code_lists
from shared.http.language import LanguageDep
from shared.problems import Problem


class CodeListItem(BaseModel):
    """One code with its labels."""

    code: str = Field(description="The value to send and store.", examples=["female"])
    en: str = Field(description="English label.", examples=["Female"])
    km: str = Field(description="Khmer label.", examples=["ស្រី"])
    label: str = Field(description="The label in the language asked for (Accept-Language).")


class CodeListOut(BaseModel):
    """A code list: its codes in display order, with Khmer and English labels."""

    name: str = Field(description="The list's name.", examples=["sex"])
    schema_name: str = Field(description="The enumeration it labels in OpenAPI.")
    description: str
    items: list[CodeListItem]


class CodeLists(BaseModel):
    """Every code list of the service."""

    language: Literal["km", "en"]
    code_lists: list[CodeListOut]


class OneCodeList(CodeListOut):
    """One code list."""

    language: Literal["km", "en"]


def _out(listed: CodeList, language: str) -> dict:
    return {
        "name": listed.name,
        "schema_name": listed.enum_name,
        "description": listed.description,
        "items": [{**item, "label": item[language]} for item in listed.entries()],
    }


def reference_router(owner: str, *, tags: list[str] | None = None) -> APIRouter:
    router = APIRouter(tags=tags or ["reference"])
    names = tuple(code_lists(owner))
    name_doc = f"One of: {', '.join(names)}."
    responses = {200: {"headers": ETAG_HEADERS}, **NOT_MODIFIED}

    @router.get(
        "/reference/code-lists",
        summary="Every code list, with Khmer and English labels",
        response_model=CodeLists,
        responses=responses,
        response_description="The code lists, each code with `en`, `km` and `label`.",
    )
    async def list_reference_code_lists(
        request: Request,
        language: LanguageDep,
        if_none_match: Annotated[str | None, Header(**IF_NONE_MATCH)] = None,
    ) -> Response:
        """What a form needs to offer choices: each list's codes in display order with both
        labels. Cache it: the `ETag` changes only when a list does."""
        lists = [_out(c, language) for c in code_lists(owner).values()]
        return cached_json(request, {"language": language, "code_lists": lists})

    @router.get(
        "/reference/code-lists/{name}",
        summary="One code list, with Khmer and English labels",
        response_model=OneCodeList,
        responses=responses,
        response_description="The list's codes with `en`, `km` and `label`.",
    )
    async def get_reference_code_list(
        name: Annotated[str, Path(description=name_doc)],
        request: Request,
        language: LanguageDep,
        if_none_match: Annotated[str | None, Header(**IF_NONE_MATCH)] = None,
    ) -> Response:
        """One list by name (`GET .../reference/code-lists` names them all)."""
        listed = code_lists(owner).get(name)
        if listed is None:
            raise Problem(404, f"No code list {name!r}; there are: {', '.join(names)}.")
        return cached_json(request, {"language": language, **_out(listed, language)})

    return router
