"""Compile the NCDD gazetteer YAML in data/ into data/gazetteer.tsv.

The platform reads only the TSV at run time: parsing the four YAML files takes seconds,
reading the TSV a few milliseconds. Run this after replacing the YAML files and commit
both together:

    python -m shared.gazetteer.build          # rewrite data/gazetteer.tsv
    python -m shared.gazetteer.build --check  # exit 1 if the TSV is stale (for CI)

The TSV has no header and one unit per line, sorted by code:
code, name_km, name_latin, unit_type_km, unit_type_en.
"""

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import yaml

from shared.gazetteer import DATA_DIR, TSV_PATH

# The C loader (libyaml) is about ten times faster; the pure-Python one gives the same result.
try:
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

SOURCES: tuple[tuple[str, int], ...] = (
    ("provinces", 2),
    ("districts", 4),
    ("communes", 6),
    ("villages", 8),
)

Row = tuple[str, str, str, str, str]


class GazetteerDataError(Exception):
    """The YAML is not what the loader can trust (bad code, orphan, missing name)."""


def clean_name(text: str) -> str:
    """Names as people type them: no zero-width spaces, single spaces, no edges.

    The source has stray double spaces, a leading space and zero-width spaces inside
    some names; left in, they make equal-looking names compare unequal in searches.
    Collapsing all whitespace also guarantees no tab or newline reaches the TSV.
    """
    return " ".join(text.replace("\u200b", "").replace("\ufeff", "").split())


def _units(data_dir: Path, source: str, code_length: int) -> Iterator[tuple[str, dict]]:
    with (data_dir / f"{source}.yml").open(encoding="utf-8") as file:
        document = yaml.load(file, Loader=SafeLoader)
    if not isinstance(document, dict) or not isinstance(document.get(source), dict):
        raise GazetteerDataError(f"{source}.yml has no top-level '{source}:' mapping")
    for code, entry in document[source].items():
        # An unquoted key would arrive as an int with its leading zero already lost.
        if not isinstance(code, str) or len(code) != code_length or not code.isdigit():
            raise GazetteerDataError(
                f"{source}.yml: key {code!r} is not a quoted {code_length}-digit code"
            )
        yield code, entry


def read_rows(data_dir: Path = DATA_DIR) -> list[Row]:
    """All units from the YAML files as TSV rows, sorted by code, after sanity checks."""
    rows: dict[str, Row] = {}
    for source, code_length in SOURCES:
        for code, entry in _units(data_dir, source, code_length):
            try:
                name, unit_type = entry["name"], entry["administrative_unit"]
                row = (
                    code,
                    clean_name(name["km"]),
                    clean_name(name["latin"]),
                    clean_name(unit_type["km"]),
                    clean_name(unit_type["en"]),
                )
            except (KeyError, TypeError, AttributeError) as exc:
                raise GazetteerDataError(f"{source}.yml: {code} lacks a field: {exc}") from exc
            if not row[1]:
                raise GazetteerDataError(f"{source}.yml: {code} has no Khmer name")
            rows[code] = row
    # Lookups walk from a code to its parent; a missing parent would break chain().
    orphans = sorted(code for code in rows if len(code) > 2 and code[:-2] not in rows)
    if orphans:
        raise GazetteerDataError(f"units without a parent in the data: {', '.join(orphans)}")
    return [rows[code] for code in sorted(rows)]


def render(rows: list[Row]) -> str:
    return "".join("\t".join(row) + "\n" for row in rows)


def _write_atomically(path: Path, text: str) -> None:
    # A reader must never see a half-written file, so write beside it and rename.
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", newline="\n", dir=path.parent, delete=False, suffix=".tmp"
    ) as tmp:
        tmp.write(text)
    # NamedTemporaryFile creates 0600; the data file must stay readable by every service.
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.gazetteer.build", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only verify the TSV is current")
    args = parser.parse_args(argv)

    rows = read_rows()
    text = render(rows)
    counts = {length: sum(len(row[0]) == length for row in rows) for _, length in SOURCES}
    summary = ", ".join(f"{counts[length]} {source}" for source, length in SOURCES)
    blank_latin = [row[0] for row in rows if not row[2]]

    if args.check:
        current = TSV_PATH.read_text(encoding="utf-8") if TSV_PATH.exists() else None
        if current != text:
            print(f"{TSV_PATH} is stale; run python -m shared.gazetteer.build", file=sys.stderr)
            return 1
        print(f"{TSV_PATH} is current ({summary})")
        return 0

    _write_atomically(TSV_PATH, text)
    print(f"wrote {TSV_PATH}: {len(rows)} units ({summary})")
    if blank_latin:
        print(f"note: no Latin name in the source for {', '.join(blank_latin)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
