"""The language a caller reads: Khmer or English, from the `Accept-Language` header.

Stored values are codes; labels and names are given in the language the caller prefers.
`preferred_language` ranks the `km` and `en` tags of the header by q-value (the first wins
a tie, `q=0` means "not this one") and falls back to English when the header names neither.

In a route, take the language as a dependency; it also names it in `Content-Language`:

    from shared.http.language import LanguageDep

    @router.get("/programmes")
    async def list_programmes(language: LanguageDep) -> ...: ...

A route that returns its own `Response` sets `Content-Language` on that response itself.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Header, Response

Language = Literal["km", "en"]
LANGUAGES: tuple[Language, ...] = ("km", "en")
DEFAULT_LANGUAGE: Language = "en"


def preferred_language(accept_language: str | None) -> Language:
    """`km` or `en` from an Accept-Language header, by q-value; English when neither."""
    best: Language = DEFAULT_LANGUAGE
    best_q = 0.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q  # type: ignore[assignment]
    return best


# async: FastAPI runs a plain-def dependency in its thread pool, a hop per request.
async def _request_language(
    response: Response, accept_language: Annotated[str | None, Header()] = None
) -> Language:
    language = preferred_language(accept_language)
    response.headers["Content-Language"] = language
    return language


LanguageDep = Annotated[Language, Depends(_request_language)]
