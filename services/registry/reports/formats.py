"""JSON or CSV: content negotiation and the CSV rendering of a report's table.

The CSV is the JSON's `rows` in `columns` order, with the column headings (in the requested
language) as its header row. It is UTF-8 with a byte-order mark: without one, Excel on
Windows reads a CSV in the local ANSI code page and shows Khmer as mojibake; every other CSV
reader we know skips the BOM (Python's `utf-8-sig`, pandas, LibreOffice, PostgreSQL COPY via
`ENCODING 'UTF8'` after stripping it).
"""

from __future__ import annotations

import csv
import io
from typing import Literal

from fastapi import Response

from services.registry.reports.schemas import ReportColumn
from shared.problems import Problem, field_error

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
BOM = "\ufeff"
Format = Literal["json", "csv"]

# Documented on the routes: what a client receives with Accept: text/csv or ?format=csv.
CSV_RESPONSE = {
    "description": "The report as JSON, or with `Accept: text/csv` / `?format=csv` as CSV "
    "(UTF-8 with BOM, header row of column headings in the requested language).",
    "content": {"text/csv": {"schema": {"type": "string"}}},
}


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def negotiate(requested: Format | None, accept: str | None) -> Format:
    """`?format=` wins; otherwise the Accept header (JSON when it allows both equally or
    names neither explicitly); 406 when it allows neither."""
    if requested is not None:
        return requested
    if not accept or not accept.strip():
        return "json"
    # Explicit media types outrank wildcards at the same q-value.
    scores: dict[Format, float] = {"json": -1.0, "csv": -1.0}
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        q = _quality(params)
        if q <= 0:
            continue
        if media == "application/json":
            scores["json"] = max(scores["json"], q)
        elif media == "text/csv":
            scores["csv"] = max(scores["csv"], q)
        elif media in ("*/*", "application/*"):
            scores["json"] = max(scores["json"], q - 0.001)
        elif media == "text/*":
            scores["csv"] = max(scores["csv"], q - 0.001)
    if scores["json"] < 0 and scores["csv"] < 0:
        raise Problem(
            406,
            "Reports are available as application/json or text/csv.",
            errors=[field_error(["header", "Accept"], "accept application/json or text/csv")],
        )
    return "csv" if scores["csv"] > scores["json"] else "json"


def render_csv(columns: list[ReportColumn], rows: list) -> str:
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.label for column in columns])
    keys = [column.key for column in columns]
    for row in rows:
        writer.writerow([getattr(row, key) for key in keys])
    return buffer.getvalue()


def csv_response(
    columns: list[ReportColumn], rows: list, *, filename: str, language: str
) -> Response:
    return Response(
        render_csv(columns, rows).encode("utf-8"),
        media_type=CSV_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Language": language,
            "Vary": "Accept, Accept-Language",
        },
    )
