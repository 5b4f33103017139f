"""Reading a CSV or Excel (``.xlsx``) file into canonical rows, with a validation report.

For users without access to their database: the same column mapping as a database table
(``FIELD=COLUMN``; by default a column named like a field feeds it). Each row is read by the
engine's rules; a value that cannot be read, a row without a key and a key seen on an
earlier row are reported with the row number as the file shows it (the header is row 1) and
the column. Nothing is written here: ``parse_file`` returns the valid rows and the report.

The key (``external_id`` of the rows) is a column mapped to ``external_id`` (the store's
id), else the entity's natural key (e-mail, SKU, order number).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import polars as pl

from core.delta import canonical_frame, normalize
from core.delta.fields import COMPARABLE_FIELDS, ENTITY_TYPES, FIELD_TYPES, FieldType
from core.delta.frame import CanonicalFrame, frame_schema
from core.delta.natural import KEY_LABELS, NATURAL_KEYS
from core.errors import InvalidRequest
from core.localdb.dialects import as_text

_KEY = "external_id"
MAX_PROBLEMS_SHOWN: Final = 1_000
_WHAT: Final[dict[FieldType, str]] = {
    "money": "an amount",
    "int": "a whole number",
    "timestamp": "a date and time",
    "lines": "a JSON list of order lines (objects with sku, quantity and total)",
    "text": "text",
    "email": "text",
    "code": "text",
}


@dataclass(frozen=True)
class ImportProblem:
    """One row that cannot be imported: where (row as the file shows it, column) and why."""

    row: int
    column: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


@dataclass(frozen=True)
class ImportReport:
    """How many rows were read, how many are valid, and the problems (first 1,000 listed)."""

    file: str
    rows: int
    valid: int
    problems: tuple[ImportProblem, ...]
    invalid_rows: int
    columns: tuple[tuple[str, str], ...]  # (field, column) used

    @property
    def ok(self) -> bool:
        return self.invalid_rows == 0

    def summary(self) -> str:
        """One sentence: all valid, or how many rows cannot be read."""
        if self.ok:
            return f"{self.file}: all {self.rows} rows can be imported."
        return (
            f"{self.file}: {self.invalid_rows} of {self.rows} rows cannot be imported "
            f"({self.valid} can); see the rows and columns listed."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "rows": self.rows,
            "valid": self.valid,
            "invalidRows": self.invalid_rows,
            "problems": [problem.to_dict() for problem in self.problems],
            "columns": dict(self.columns),
        }


def _checker(kind: FieldType) -> Callable[[Any], Any]:
    if kind == "lines":
        return lambda value: normalize.lines_json(normalize.lines(value))
    if kind == "int":

        def whole(value: Any) -> int | None:
            result = normalize.integer(value)
            if result is not None and not -(2**63) <= result < 2**63:
                raise normalize.Unreadable(value)
            return result

        return whole
    return normalize.NORMALIZERS[kind]


def _sniffed(text: str) -> str:
    try:
        return csv.Sniffer().sniff(text[:65536], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _read_csv(data: bytes, name: str) -> pl.DataFrame:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidRequest(
            f"{name} is not UTF-8 text (line {line}); save it as CSV UTF-8 and try again."
        ) from None
    if not text.strip():
        raise InvalidRequest(f"{name} is empty.")
    try:
        return pl.read_csv(
            text.encode(),
            separator=_sniffed(text),
            infer_schema=False,
        )
    except pl.exceptions.PolarsError as exc:
        raise InvalidRequest(f"{name} cannot be read as CSV: {str(exc).splitlines()[0]}") from None


def _read_xlsx(data: bytes, name: str, sheet: str | None) -> tuple[pl.DataFrame, int]:
    """The sheet's rows as text columns, and the sheet row number of the header."""
    from openpyxl import load_workbook  # only for Excel files
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise InvalidRequest(f"{name} cannot be read as an Excel .xlsx file ({exc}).") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise InvalidRequest(
                f"{name} has no sheet {sheet!r}; its sheets: {', '.join(book.sheetnames)}."
            )
        rows = book[sheet] if sheet is not None else book.worksheets[0]
        header: list[str] | None = None
        header_row = 0
        values: list[list[str | None]] = []
        for number, row in enumerate(rows.iter_rows(values_only=True), start=1):
            cells = [as_text(cell) if cell is not None else None for cell in row]
            if header is None:
                if any(cell is not None and cell.strip() for cell in cells):
                    header = [(cell or "").strip() for cell in cells]
                    header_row = number
                continue
            values.append(cells)
    finally:
        book.close()
    if header is None:
        raise InvalidRequest(f"{name} has no rows.")
    width = len(header)
    columns = {
        title or f"column {i + 1}": [row[i] if i < len(row) else None for row in values]
        for i, title in enumerate(header[:width])
    }
    return pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String())), header_row


def read_table(data: bytes, name: str, *, sheet: str | None = None) -> tuple[pl.DataFrame, int]:
    """A CSV or ``.xlsx`` file as text columns, and the file row number of its header."""
    if name.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        return _read_xlsx(data, name, sheet)
    return _read_csv(data, name), 1


def _columns(entity: str, header: list[str], columns: Mapping[str, str] | None) -> dict[str, str]:
    fields = (_KEY, *COMPARABLE_FIELDS[entity])
    if columns is None:
        lowered = {title.strip().lower(): title for title in header}
        chosen = {field: lowered[field] for field in fields if field in lowered}
    else:
        chosen = dict(columns)
    unknown = [field for field in chosen if field not in fields]
    if unknown:
        raise InvalidRequest(
            f"{', '.join(unknown)}: not a field of {entity}; use {', '.join(fields)}."
        )
    missing = [column for column in chosen.values() if column not in header]
    if missing:
        raise InvalidRequest(
            f"The file has no column {', '.join(repr(c) for c in missing)}; its columns are: "
            f"{', '.join(header)}."
        )
    key = NATURAL_KEYS[entity]
    if _KEY not in chosen and key not in chosen:
        raise InvalidRequest(
            f"Map a column to external_id (the store's id) or to {key} "
            f"({KEY_LABELS[key]}): rows are matched by it."
        )
    return chosen


def parse_file(
    source: str | Path | bytes,
    entity_type: str,
    *,
    columns: Mapping[str, str] | None = None,
    file_name: str | None = None,
    sheet: str | None = None,
) -> tuple[CanonicalFrame, ImportReport]:
    """``(valid rows, report)``: the file's rows that can be read, as canonical rows."""
    if entity_type not in ENTITY_TYPES:
        raise InvalidRequest(
            f"Unknown entity type {entity_type!r}; use one of {', '.join(ENTITY_TYPES)}."
        )
    if isinstance(source, bytes):
        data, name = source, file_name or "the file"
    else:
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError:
            raise InvalidRequest(f"{path} cannot be read: check the path.") from None
        name = file_name or path.name
    raw, header_row = read_table(data, name, sheet=sheet)
    chosen = _columns(entity_type, list(raw.columns), columns)
    kinds = FIELD_TYPES[entity_type]
    height = raw.height
    problems: list[ImportProblem] = []
    bad = [False] * height
    values: dict[str, pl.Series] = {}

    def report(position: int, column: str, reason: str) -> None:
        bad[position] = True
        problems.append(ImportProblem(header_row + 1 + position, column, reason))

    for field, column in chosen.items():
        series = raw[column]
        if field == _KEY:
            values[field] = series.str.strip_chars()
            continue
        kind = kinds[field]
        check = _checker(kind)
        results: dict[str, Any] = {}
        failed: dict[str, str] = {}
        for value in series.drop_nulls().unique().to_list():
            try:
                results[value] = check(value)
            except (normalize.Unreadable, ValueError, TypeError, ArithmeticError):
                shown = repr(value) if len(value) <= 60 else repr(value[:57] + "...")
                failed[value] = f"{shown} is not {_WHAT[kind]} ({field})"
        if failed:
            for position, value in enumerate(series.to_list()):
                if value in failed:
                    report(position, column, failed[value])
        dtype = frame_schema(entity_type)[field]
        values[field] = pl.Series(
            field, [results.get(v) if v is not None else None for v in series.to_list()], dtype
        )
    key_field = _KEY if _KEY in chosen else NATURAL_KEYS[entity_type]
    key_column = chosen[key_field]
    keys = values[key_field].to_list()
    first_seen: dict[str, int] = {}
    for position, key in enumerate(keys):
        if key is None or key == "":
            what = "the store's id" if key_field == _KEY else KEY_LABELS[key_field]
            report(position, key_column, f"no {what}: the row cannot be matched")
        elif key in first_seen:
            report(
                position,
                key_column,
                f"{key!r} is also on row {header_row + 1 + first_seen[key]}: a key may be on "
                "one row only",
            )
        else:
            first_seen[key] = position
    problems.sort(key=lambda problem: (problem.row, problem.column))
    schema = frame_schema(entity_type)
    frame = pl.DataFrame(
        [values[key_field].alias(_KEY)]
        + [
            values[name] if name in values else pl.Series(name, [None] * height, dtype=dtype)
            for name, dtype in schema.items()
            if name != _KEY
        ]
    )
    valid = frame.filter(~pl.Series(bad, dtype=pl.Boolean)) if height else frame
    result = (
        canonical_frame("local", entity_type, valid)
        if valid.height
        else CanonicalFrame(entity_type, pl.DataFrame(schema=schema))
    )
    invalid = sum(bad)
    return result, ImportReport(
        file=name,
        rows=height,
        valid=height - invalid,
        problems=tuple(problems[:MAX_PROBLEMS_SHOWN]),
        invalid_rows=invalid,
        columns=tuple(chosen.items()),
    )
