"""The import file format, its readers (CSV and XLSX, both streamed) and the per-row checks.

One row per member; the household's columns repeat on its rows (or are left blank after the
first row of the household, which is where they are read from). Rows are numbered as a
spreadsheet shows them: the header is row 1.

Checks here look at one row at a time and keep no state that grows with the file, so a file
of any size is read in constant memory; checks across rows (one head per household,
duplicates inside the file and against the registry) run in SQL over the staged rows.
Speed matters (a million rows a few seconds): plain functions over strings and precomputed
lookup tables, no per-row model validation.
"""

from __future__ import annotations

import csv
import gc  # noqa: F401
import io
import operator
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from services.registry.households import rules
from services.registry.households.models import (
    AssessmentMethod,
    DisabilitySeverity,
    PovertyLevel,
    Relationship,
    SchoolEnrolment,
    Sex,
    VulnerabilityCategory,
)
from services.registry.households.schemas import normalise_phone
from services.registry.imports.models import FileFormat
from shared.gazetteer import InvalidLocationCode, Level, get_gazetteer, normalise_code
from shared.runtime import collector_paused
from shared.text import has_control_characters, without_control_characters

HOUSEHOLD_COLUMNS = (
    "household_ref",
    "village_code",
    "address",
    "poverty_level",
    "poverty_score",
    "poverty_method",
    "poverty_round",
    "poverty_assessed_on",
    "poverty_valid_until",
    "equity_card_number",
    "vulnerability_categories",
)
MEMBER_COLUMNS = (
    "relationship",
    "family_name_km",
    "given_name_km",
    "family_name_latin",
    "given_name_latin",
    "sex",
    "birth_date",
    "birth_date_estimated",
    "national_id",
    "phone",
    "disability_severity",
    "disability_card_number",
    "pregnant",
    "pregnancy_expected_on",
    "school_enrolment",
)
COLUMNS = HOUSEHOLD_COLUMNS + MEMBER_COLUMNS
REQUIRED_COLUMNS = (
    "household_ref",
    "village_code",
    "relationship",
    "family_name_km",
    "given_name_km",
    "family_name_latin",
    "given_name_latin",
    "sex",
    "birth_date",
)
# Household columns other than the key: blank after the household's first row is fine.
HOUSEHOLD_DETAIL_COLUMNS = HOUSEHOLD_COLUMNS[2:]

# The staged row, in the order of the staging table's columns (see repository).
STAGED_COLUMNS = ("row_number", *COLUMNS, "has_error")

COLUMN_DESCRIPTIONS = {
    "household_ref": "Required. The household's id in your file; rows with the same id are "
    "one household.",
    "village_code": "Required. NCDD village code, 8 digits (a dropped leading zero is fine).",
    "address": "House number, street, group (up to 500 characters).",
    "poverty_level": "IDPoor level: POOR_1, POOR_2, NOT_POOR or UNASSESSED (blank).",
    "poverty_score": "IDPoor score, 0-200.",
    "poverty_method": "ROUND or ON_DEMAND.",
    "poverty_round": "IDPoor round number (1-99), required for ROUND.",
    "poverty_assessed_on": "Date of the assessment (required for POOR_1/POOR_2).",
    "poverty_valid_until": "Date the equity card expires (required for POOR_1/POOR_2).",
    "equity_card_number": "Equity card number (POOR_1/POOR_2 only).",
    "vulnerability_categories": "On-demand categories separated by ';': disability, elderly, "
    "under_18, under_2, female_headed.",
    "relationship": "Required. head, spouse, child, parent, grandchild, sibling, "
    "other_relative or non_relative; exactly one head per household.",
    "family_name_km": "Required. Family name in Khmer script.",
    "given_name_km": "Required. Given name in Khmer script.",
    "family_name_latin": "Required. Family name in Latin letters.",
    "given_name_latin": "Required. Given name in Latin letters.",
    "sex": "Required. female or male (F/M).",
    "birth_date": "Required. YYYY-MM-DD, DD/MM/YYYY, or a year alone (then estimated).",
    "birth_date_estimated": "yes/no: only the year or an approximate date is known.",
    "national_id": "National ID card number, 9 to 12 digits.",
    "phone": "Cambodian phone number (012 345 678, +855 12 345 678).",
    "disability_severity": "severe, medium or mild.",
    "disability_card_number": "Disability card number (with a severity).",
    "pregnant": "yes/no (women only).",
    "pregnancy_expected_on": "Expected delivery date (when pregnant).",
    "school_enrolment": "not_enrolled, pre_school, primary, lower_secondary, "
    "upper_secondary or tertiary.",
}

TEMPLATE_ROWS = (
    (
        "H-001", "12080102", "House 12, Street 1986", "POOR_2", "52", "ROUND", "10",
        "2025-03-01", "2028-02-29", "EC-120801-0001", "female_headed",
        "head", "សុខ", "ចាន់ថា", "Sok", "Chantha", "female", "1985-03-14", "no",
        "010203040", "012 345 678", "", "", "no", "", "",
    ),
    (
        "H-001", "12080102", "", "", "", "", "", "", "", "", "",
        "child", "សុខ", "ពិសី", "Sok", "Pisey", "female", "2015-09-01", "no",
        "", "", "mild", "DC-0042", "no", "", "primary",
    ),
)  # fmt: skip

MAX_TEXT = {"household_ref": 100, "address": 500, "equity_card_number": 40}
MAX_NAME = 100
MAX_CARD = 40

_KHMER = re.compile(r"[\u1780-\u17ff]")
_LATIN_NAME = re.compile(r"^[A-Za-z][A-Za-z '\-.]*$")
_SPACES = re.compile(r"\s+")
_ID_SEPARATORS = re.compile(r"[\s\-.()/]")
_NATIONAL_ID = re.compile(r"^[0-9]{9,12}$")
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_YMD_LOOSE = re.compile(r"^(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")
# What sends a row off its fast path, in one character-class scan: whitespace other than the
# space (str.isspace's set; the row is then stripped cell by cell) and shared/text.py's control
# characters (NUL, the row's joiner, is counted apart). A row holding only spaces is stripped
# when a space touches a cell's edge (substring tests on the row joined by NUL): a regex for
# "whitespace at a cell's edge" cost more than the rest of the row's checks.
_SUSPECT = re.compile("[\x01-\x1f\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
_CATEGORY_SPLIT = re.compile(r"\s*[;,|]\s*")


class UnreadableFile(ValueError):
    """The file is not a CSV or XLSX we can read (the message says why)."""


def _aliases(values: list[str], extra: dict[str, str] | None = None) -> dict[str, str]:
    table: dict[str, str] = {}
    for value in values:
        for form in (value, value.lower(), value.upper(), value.replace("_", " "),
                     value.replace("_", "-"), value.lower().replace("_", " ")):  # fmt: skip
            table[form] = value
    for alias, value in (extra or {}).items():
        table[alias] = value
    return table


def _lookup(table: dict[str, str], raw: str) -> str | None:
    found = table.get(raw)
    if found is None:
        found = table.get(_SPACES.sub(" ", raw).lower())
    return found


RELATIONSHIPS = _aliases([r.value for r in Relationship])
SEXES = _aliases(
    [s.value for s in Sex],
    {"f": "female", "F": "female", "m": "male", "M": "male", "ស្រី": "female", "ប្រុស": "male"},
)
POVERTY_LEVELS = _aliases(
    [p.value for p in PovertyLevel],
    {"poor 1": "POOR_1", "poor 2": "POOR_2", "not poor": "NOT_POOR"},
)
METHODS = _aliases([m.value for m in AssessmentMethod], {"on demand": "ON_DEMAND"})
SEVERITIES = _aliases([d.value for d in DisabilitySeverity])
SCHOOL = _aliases([s.value for s in SchoolEnrolment])
CATEGORIES = _aliases([v.value for v in VulnerabilityCategory])
BOOLEANS = {
    "": False, "no": False, "n": False, "false": False, "0": False, "f": False,
    "yes": True, "y": True, "true": True, "1": True, "t": True,
}  # fmt: skip
# The rulebook's IDPoor field names as the file's columns.
POVERTY_COLUMNS = {
    "level": "poverty_level",
    "score": "poverty_score",
    "method": "poverty_method",
    "round_number": "poverty_round",
    "assessed_on": "poverty_assessed_on",
    "valid_until": "poverty_valid_until",
    "equity_card_number": "equity_card_number",
}
CATEGORY_REASON = "must be disability, elderly, under_18, under_2 or female_headed"


def _normalise_header(cell: Any) -> str:
    text = "" if cell is None else str(cell)
    return text.strip().lstrip("\ufeff").strip().lower().replace(" ", "_").replace("-", "_")


@dataclass(frozen=True)
class Header:
    """Where each known column sits in the file's rows."""

    positions: dict[str, int]
    missing: tuple[str, ...]
    unknown: tuple[str, ...]
    duplicated: tuple[str, ...]

    @classmethod
    def read(cls, cells: list[Any]) -> Header:
        positions: dict[str, int] = {}
        unknown: list[str] = []
        duplicated: list[str] = []
        for index, cell in enumerate(cells):
            name = _normalise_header(cell)
            if not name:
                continue
            if name not in COLUMN_DESCRIPTIONS:
                unknown.append(str(cell))
            elif name in positions:
                duplicated.append(name)
            else:
                positions[name] = index
        missing = tuple(c for c in REQUIRED_COLUMNS if c not in positions)
        return cls(positions, missing, tuple(unknown), tuple(duplicated))


# --- readers ----------------------------------------------------------------------------

XLSX_MAGIC = b"PK\x03\x04"
CSV_SUFFIXES = (".csv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")


def detect_format(file_name: str, head: bytes) -> FileFormat:
    """CSV or XLSX from the name and the first bytes; UnreadableFile for anything else."""
    name = file_name.lower()
    if head.startswith(XLSX_MAGIC):
        if name.endswith(CSV_SUFFIXES):
            raise UnreadableFile("the file is named .csv but is a spreadsheet (zip) file")
        return FileFormat.XLSX
    if name.endswith(XLSX_SUFFIXES):
        raise UnreadableFile("the file is named .xlsx but is not an XLSX workbook")
    if b"\x00" in head[:4096]:
        raise UnreadableFile("the file is neither CSV text nor an XLSX workbook")
    try:
        head[:4096].decode("utf-8")
    except UnicodeDecodeError as exc:
        # A cut multi-byte character at the end of the sample is not an error.
        if exc.start < min(len(head), 4096) - 4:
            raise UnreadableFile("a CSV file must be UTF-8 text") from None
    if not name.endswith(CSV_SUFFIXES) and name.rsplit(".", 1)[-1] != name:
        raise UnreadableFile("upload a .csv or .xlsx file")
    return FileFormat.CSV


def _csv_dialect(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d])


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def iter_rows(source: Path | BinaryIO, file_format: FileFormat) -> Iterator[list[str]]:
    """The file's rows as lists of strings, header first, streamed (from a path, or from a
    seekable binary file object, which is left open)."""
    if file_format is FileFormat.CSV:
        if isinstance(source, Path):
            raw: BinaryIO = open(source, "rb")  # noqa: SIM115 - closed below
        else:
            raw = source
            raw.seek(0)
        stream = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="", errors="strict")
        try:
            try:
                first = stream.readline()
            except UnicodeDecodeError:
                raise UnreadableFile("a CSV file must be UTF-8 text") from None
            stream.seek(0)
            reader = csv.reader(stream, delimiter=_csv_dialect(first))
            try:
                yield from reader
            except UnicodeDecodeError:
                raise UnreadableFile(
                    f"a CSV file must be UTF-8 text (bad bytes after row {reader.line_num})"
                ) from None
            except csv.Error as exc:
                raise UnreadableFile(f"CSV row {reader.line_num}: {exc}") from None
        finally:
            if isinstance(source, Path):
                stream.close()
            else:
                stream.detach()
        return
    import zipfile

    import openpyxl

    try:
        # read_only streams the sheet's XML: memory stays flat whatever the workbook's size.
        if not isinstance(source, Path):
            source.seek(0)
        workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnreadableFile(f"the workbook cannot be read: {exc}") from None
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell_text(v) for v in values]
    finally:
        workbook.close()


def read_header(source: Path | BinaryIO, file_format: FileFormat) -> Header:
    rows = iter_rows(source, file_format)
    try:
        for cells in rows:
            if any(c.strip() for c in cells):
                return Header.read(cells)
        raise UnreadableFile("the file is empty")
    finally:
        rows.close()


# --- values -----------------------------------------------------------------------------


def parse_date(text: str) -> tuple[date, bool] | None:
    """(date, only the year was given) for the usual spellings, None when not a date."""
    try:
        return date.fromisoformat(text), False
    except ValueError:
        pass
    try:
        if m := _DMY.match(text):
            return date(int(m[3]), int(m[2]), int(m[1])), False
        if m := _YMD_LOOSE.match(text):
            return date(int(m[1]), int(m[2]), int(m[3])), False
        if m := _YEAR.match(text):
            return date(int(m[1]), 7, 1), True
    except ValueError:
        return None
    return None


Issue = tuple  # (row_number, column, value, severity, code, reason, household_ref)


class RowChecker:
    """Checks one row at a time; `area` is the uploader's admin code ("" = national)."""

    def __init__(self, header: Header, *, area: str, today: date) -> None:
        self.positions = [header.positions.get(c, -1) for c in COLUMNS]
        complete = all(p >= 0 for p in self.positions)
        self._take = operator.itemgetter(*self.positions) if complete else None
        self._width = max(self.positions) + 1
        self.area = area
        self.today = today
        self._villages: dict[str, tuple[str | None, str | None, str]] = {}
        self._gazetteer = get_gazetteer()

    def _village(self, raw: str) -> tuple[str | None, str | None, str]:
        """(code, error code, reason) for a raw village cell, cached per distinct value."""
        known = self._villages.get(raw)
        if known is not None:
            return known
        try:
            code = normalise_code(raw)
            self._gazetteer.require(code, level=Level.VILLAGE)
        except InvalidLocationCode as exc:
            result: tuple[str | None, str | None, str] = (None, "not_in_gazetteer", str(exc))
        else:
            if code.startswith(self.area):
                result = (code, None, "")
            else:
                result = (
                    None,
                    "outside_jurisdiction",
                    f"village {code} is outside your area ({self.area})",
                )
        if len(self._villages) < 100_000:
            self._villages[raw] = result
        return result

    def check(self, cells: list[str], row_number: int) -> tuple[tuple, list[Issue]]:
        """The staged record and the row's issues."""
        # In COLUMNS order. The fast path (every column present, nothing to strip) is one C
        # call and one scan of the joined row; the slow path handles the rest.
        if self._take is not None and len(cells) >= self._width:
            v = self._take(cells)
            joined = "\x00".join(v)
            # One scan for what needs a closer look: odd spaces and control characters (a NUL
            # of the file's own shows as one more than the joins').
            suspect = _SUSPECT.search(joined) is not None or joined.count("\x00") >= len(v)
            if (
                suspect
                or " \x00" in joined
                or "\x00 " in joined
                or joined[:1] == " "
                or joined[-1:] == " "
            ):
                v = [c.strip() for c in v]
        else:
            width = len(cells)
            v = [(cells[p].strip() if 0 <= p < width else "") for p in self.positions]
            suspect = True
        # The file's text meets the same edge rule as the API's (shared/text.py): a cell with
        # a control character is an issue naming its column, and never reaches the database
        # (PostgreSQL refuses NUL). One scan of the row; cells only when it finds one.
        controlled = []
        if suspect and has_control_characters("\t".join(v)):
            v = list(v)
            for i, cell in enumerate(v):
                if has_control_characters(cell):
                    controlled.append(COLUMNS[i])
                    v[i] = without_control_characters(cell)
        (ref, village_raw, address, level_raw, score_raw, method_raw, round_raw, assessed_raw,
         valid_raw, card, categories_raw, relationship_raw, fkm, gkm, flat, glat, sex_raw,
         birth_raw, estimated_raw, nid_raw, phone_raw, severity_raw, dcard, pregnant_raw,
         due_raw, school_raw) = v  # fmt: skip
        issues: list[Issue] = []
        ref_key = ref or None

        def bad(column: str, value: str, code: str, reason: str) -> None:
            issues.append((row_number, column, value, "error", code, reason, ref_key))

        for column in controlled:
            bad(column, "", "control_character", "must not contain control characters")

        # household
        if not ref:
            bad("household_ref", "", "required", "is required")
        elif len(ref) > 100:
            bad("household_ref", ref[:100], "too_long", "is longer than 100 characters")
        village = None
        if not village_raw:
            bad("village_code", "", "required", "is required")
        else:
            village, code, reason = self._village(village_raw)
            if code:
                bad("village_code", village_raw, code, reason)
        if len(address) > 500:
            bad("address", address[:100], "too_long", "is longer than 500 characters")
        level = None
        if level_raw:
            level = _lookup(POVERTY_LEVELS, level_raw)
            if level is None:
                bad("poverty_level", level_raw, "invalid_value",
                    "must be POOR_1, POOR_2, NOT_POOR or UNASSESSED")  # fmt: skip
        score = self._int(score_raw, "poverty_score", 0, 200, bad)
        method = None
        if method_raw:
            method = _lookup(METHODS, method_raw)
            if method is None:
                bad("poverty_method", method_raw, "invalid_value", "must be ROUND or ON_DEMAND")
        round_number = self._int(round_raw, "poverty_round", 1, 99, bad)
        assessed = self._date(assessed_raw, "poverty_assessed_on", bad)
        valid_until = self._date(valid_raw, "poverty_valid_until", bad)
        if card and len(card) > MAX_CARD:
            bad("equity_card_number", card[:100], "too_long", "is longer than 40 characters")
        if level_raw or score_raw or method_raw or round_raw or assessed_raw or valid_raw or card:
            # The rulebook's IDPoor rules (a blank level is UNASSESSED, as committed).
            errors = rules.poverty_errors(
                {
                    "level": level,
                    "score": score,
                    "method": method,
                    "round_number": round_number,
                    "assessed_on": assessed,
                    "valid_until": valid_until,
                    "equity_card_number": card or None,
                },
                [],
                on=self.today,
            )
            if errors:
                raw = {
                    "poverty_level": level_raw, "poverty_score": score_raw,
                    "poverty_method": method_raw, "poverty_round": round_raw,
                    "poverty_assessed_on": assessed_raw, "poverty_valid_until": valid_raw,
                    "equity_card_number": card,
                }  # fmt: skip
                self._rule_issues(errors, POVERTY_COLUMNS, raw, issues, bad)
                if any(e.field == "assessed_on" and e.code == "future_date" for e in errors):
                    assessed = None
        categories = None
        if categories_raw:
            categories = []
            for part in _CATEGORY_SPLIT.split(categories_raw):
                if not part:
                    continue
                category = _lookup(CATEGORIES, part)
                if category is None:
                    bad("vulnerability_categories", part, "invalid_value", CATEGORY_REASON)
                elif category in categories:
                    bad("vulnerability_categories", part, "invalid_value", "is given twice")
                else:
                    categories.append(category)

        # member
        relationship = None
        if not relationship_raw:
            bad("relationship", "", "required", "is required")
        else:
            relationship = _lookup(RELATIONSHIPS, relationship_raw)
            if relationship is None:
                bad("relationship", relationship_raw, "invalid_value",
                    "must be head, spouse, child, parent, grandchild, sibling, other_relative "
                    "or non_relative")  # fmt: skip
        fkm = self._khmer(fkm, "family_name_km", bad)
        gkm = self._khmer(gkm, "given_name_km", bad)
        flat = self._latin(flat, "family_name_latin", bad)
        glat = self._latin(glat, "given_name_latin", bad)
        sex = None
        if not sex_raw:
            bad("sex", "", "required", "is required")
        else:
            sex = SEXES.get(sex_raw) or _lookup(SEXES, sex_raw)
            if sex is None:
                bad("sex", sex_raw, "invalid_value", "must be female or male")
        birth = None
        estimated = self._bool(estimated_raw, "birth_date_estimated", bad)
        if not birth_raw:
            bad("birth_date", "", "required", "is required")
        else:
            parsed = parse_date(birth_raw)
            if parsed is None:
                bad("birth_date", birth_raw, "invalid_date",
                    "is not a date (YYYY-MM-DD, DD/MM/YYYY or a year)")  # fmt: skip
            else:
                birth, year_only = parsed
                estimated = estimated or year_only
        national_id = None
        if nid_raw:
            national_id = _ID_SEPARATORS.sub("", nid_raw)
            if not _NATIONAL_ID.match(national_id):
                bad("national_id", nid_raw, "invalid_value",
                    "a national ID number is 9 to 12 digits")  # fmt: skip
                national_id = None
        phone = None
        if phone_raw:
            try:
                phone = normalise_phone(phone_raw)
            except ValueError as exc:
                bad("phone", phone_raw, "invalid_value", str(exc))
        severity = None
        if severity_raw:
            severity = _lookup(SEVERITIES, severity_raw)
            if severity is None:
                bad("disability_severity", severity_raw, "invalid_value",
                    "must be severe, medium or mild")  # fmt: skip
        if dcard and len(dcard) > MAX_CARD:
            bad("disability_card_number", dcard[:100], "too_long",
                "is longer than 40 characters")  # fmt: skip
        pregnant = self._bool(pregnant_raw, "pregnant", bad)
        due = self._date(due_raw, "pregnancy_expected_on", bad)
        # The rulebook's member rules (the generations against the head need the head's row:
        # they are checked across rows, see `generation_issues`).
        errors = rules.member_errors(
            {
                "birth_date": birth,
                "sex": sex,
                "pregnant": pregnant,
                "pregnancy_expected_on": due,
                "disability_card_number": dcard or None,
                "disability_severity": severity or severity_raw or None,
            },
            [],
            head=None,
            on=self.today,
        )
        if errors:
            raw = {
                "birth_date": birth_raw, "pregnant": pregnant_raw,
                "pregnancy_expected_on": due_raw, "disability_card_number": dcard,
            }  # fmt: skip
            self._rule_issues(errors, None, raw, issues, bad)
            if any(e.field == "birth_date" for e in errors):
                birth = None
        school = None
        if school_raw:
            school = _lookup(SCHOOL, school_raw)
            if school is None:
                bad("school_enrolment", school_raw, "invalid_value",
                    "must be not_enrolled, pre_school, primary, lower_secondary, "
                    "upper_secondary or tertiary")  # fmt: skip

        record = (
            row_number, ref_key, village, address or None, level, score, method, round_number,
            assessed, valid_until, card or None, categories, relationship, fkm, gkm, flat, glat,
            sex, birth, bool(estimated), national_id, phone, severity, dcard or None,
            bool(pregnant), due, school, bool(issues),
        )  # fmt: skip
        return record, issues

    @staticmethod
    def _rule_issues(
        errors: list, columns: dict[str, str] | None, raw: dict[str, str], issues: list, bad
    ) -> None:
        """The rulebook's verdicts as issues of this row, on the file's column names; a
        column that already has an issue (a value that did not parse) is not judged again."""
        flagged = {issue[1] for issue in issues}
        for error in errors:
            column = columns[error.field] if columns else error.field
            if column not in flagged:
                bad(column, raw.get(column, ""), error.code or "invalid_value", error.reason)

    @staticmethod
    def _int(raw: str, column: str, low: int, high: int, bad) -> int | None:
        if not raw:
            return None
        try:
            value = int(raw)
        except ValueError:
            try:
                number = float(raw)
            except ValueError:
                number = None
            if number is None or not number.is_integer():
                bad(column, raw, "invalid_value", "must be a whole number")
                return None
            value = int(number)
        if not low <= value <= high:
            bad(column, raw, "invalid_value", f"must be between {low} and {high}")
            return None
        return value

    @staticmethod
    def _date(raw: str, column: str, bad) -> date | None:
        if not raw:
            return None
        parsed = parse_date(raw)
        if parsed is None:
            bad(column, raw, "invalid_date", "is not a date (YYYY-MM-DD or DD/MM/YYYY)")
            return None
        return parsed[0]

    @staticmethod
    def _bool(raw: str, column: str, bad) -> bool:
        value = BOOLEANS.get(raw)
        if value is None:
            value = BOOLEANS.get(raw.lower())
            if value is None:
                bad(column, raw, "invalid_value", "must be yes or no")
                return False
        return value

    @staticmethod
    def _khmer(raw: str, column: str, bad) -> str | None:
        if not raw:
            bad(column, "", "required", "is required")
            return None
        if len(raw) > MAX_NAME:
            bad(column, raw[:100], "too_long", "is longer than 100 characters")
            return None
        if not ("\u1780" <= raw[0] <= "\u17ff" or _KHMER.search(raw)):
            bad(column, raw, "invalid_value", "a Khmer name is written in Khmer script")
            return None
        return raw if "  " not in raw else _SPACES.sub(" ", raw)

    @staticmethod
    def _latin(raw: str, column: str, bad) -> str | None:
        if not raw:
            bad(column, "", "required", "is required")
            return None
        if len(raw) > MAX_NAME:
            bad(column, raw[:100], "too_long", "is longer than 100 characters")
            return None
        if not _LATIN_NAME.match(raw):
            bad(column, raw, "invalid_value",
                "a Latin name has letters, spaces, hyphens, apostrophes and dots only")  # fmt: skip
            return None
        return raw if "  " not in raw else _SPACES.sub(" ", raw)


# The staged columns `generation_issues` reads, per member judged against its head.
GENERATION_COLUMNS = (
    "row_number",
    "household_ref",
    "relationship",
    "birth_date",
    "birth_date_estimated",
    "head_birth_date",
    "head_birth_date_estimated",
)


def generation_issues(rows: list[Any]) -> list[Issue]:
    """The rulebook's generation rule across rows: each member whose relationship is judged
    against the head (child, grandchild, parent), with its household head's birth date, in
    the order of GENERATION_COLUMNS. An issue on birth_date per misfit."""
    issues: list[Issue] = []
    for row_number, ref, relationship, birth, estimated, head_birth, head_estimated in rows:
        reason = rules.relationship_age_error(
            {"relationship": relationship, "birth_date": birth, "birth_date_estimated": estimated},
            {"birth_date": head_birth, "birth_date_estimated": head_estimated},
        )
        if reason:
            issues.append(
                (row_number, "birth_date", birth.isoformat(), "error", "age_gap", reason, ref)
            )
    return issues


class RowBatches:
    """The file's data rows, checked, in batches: `next()` in a worker thread, then COPY.

    Blank rows are skipped; rows are numbered as in a spreadsheet (header = 1)."""

    def __init__(
        self, path: Path, file_format: FileFormat, *, area: str, today: date, size: int
    ) -> None:
        self._rows = iter_rows(path, file_format)
        self.header = None
        self._number = 0
        for cells in self._rows:
            self._number += 1
            if any(c.strip() for c in cells):
                self.header = Header.read(cells)
                break
        if self.header is None:
            raise UnreadableFile("the file is empty")
        if self.header.missing:
            raise UnreadableFile("missing columns: " + ", ".join(self.header.missing))
        self.checker = RowChecker(self.header, area=area, today=today)
        self.size = size

    def file_issues(self) -> list[Issue]:
        issues: list[Issue] = []
        assert self.header is not None
        for name in self.header.unknown:
            issues.append((1, name, name, "warning", "unknown_column", "is not a column of the "
                           "import format and was ignored", None))  # fmt: skip
        for name in self.header.duplicated:
            issues.append((1, name, name, "warning", "duplicate_column",
                           "appears twice; the first one was read", None))  # fmt: skip
        return issues

    def next(self) -> tuple[list[tuple], list[Issue]] | None:
        # The cyclic garbage collector waits while a batch is read: rows and issues hold no
        # cycles, and the collections their allocations set off cost more than the checks.
        with collector_paused():
            return self._next()

    def _next(self) -> tuple[list[tuple], list[Issue]] | None:
        records: list[tuple] = []
        issues: list[Issue] = []
        check = self.checker.check
        number = self._number
        for cells in self._rows:
            number += 1
            if not any(cells):
                continue
            record, row_issues = check(cells, number)
            if record[1] is None and not any(c.strip() for c in cells):
                continue  # a row of spaces
            records.append(record)
            if row_issues:
                issues.extend(row_issues)
            if len(records) >= self.size:
                break
        self._number = number
        if not records:
            return None
        return records, issues

    def close(self) -> None:
        self._rows.close()


def template_csv() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(TEMPLATE_ROWS)
    return buffer.getvalue()
