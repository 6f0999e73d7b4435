"""Reading 17网 export files: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) and XLSX.

This module is the plugin's "client": where an API plugin signs requests and classifies error
envelopes, this one decodes files and refuses malformed ones. A file is read whole or not at all:
any bad header, date, amount or number raises :class:`hub.errors.ImportFileError` naming the file,
its line and the column, and none of its rows is used. Values are checked for their form here;
what they mean (a blank order number on one row, an unknown status) is the mapping's business.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from hub.clock import CST
from hub.errors import ImportFileError
from hub.money import yuan_to_fen

from .columns import KEY_FIELD, ColumnMap, FileKind, ValueType, column_map, normalise_header

#: Browser downloads still being written and Office lock files: not exports (yet).
PARTIAL_SUFFIXES = (".crdownload", ".part", ".download", ".tmp")
EXPORT_SUFFIXES = (".csv", ".xlsx")
HEADER_SEARCH_ROWS = 10  #: exports may start with a title line or two before the header

_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y.%m.%d %H:%M:%S",
    "%Y-%m-%d",
    "%Y/%m/%d",
)
_TRUE = {"是", "y", "yes", "true", "1", "特价"}
_FALSE = {"否", "n", "no", "false", "0", "", "-"}


@dataclass(frozen=True)
class ImportedRow:
    line: int  #: the row's line in the file (1-based, as a spreadsheet shows it)
    values: Mapping[str, str]  #: field -> normalised text (times "YYYY-MM-DD HH:MM:SS" Beijing)


@dataclass(frozen=True)
class ImportedFile:
    path: str
    kind: FileKind
    encoding: str
    rows: tuple[ImportedRow, ...]


def export_files(folder: Path) -> list[Path]:
    """The export files in ``folder``, by name; partial downloads and lock files are left for later."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and p.suffix.lower() in EXPORT_SUFFIXES
        and not p.name.startswith(("~$", "."))
        and not p.name.lower().endswith(PARTIAL_SUFFIXES)
    )


def decode_csv_bytes(data: bytes, path: str) -> tuple[str, str]:
    """Decode a CSV export: BOM first, then strict UTF-8, then GB18030 (a superset of GBK)."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError as err:
            raise _encoding_error(path, data, err) from err
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(
            "the file is UTF-16 (Excel 'Unicode text'); save it as CSV (UTF-8) or re-export it",
            path=path,
            line=1,
        )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as err:
        utf8_error = err
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as err:
        # the encoding that read further is the one the file meant: point at its bad byte
        worst = utf8_error if utf8_error.start >= err.start else err
        raise _encoding_error(path, data, worst) from err


def _encoding_error(path: str, data: bytes, err: UnicodeDecodeError) -> ImportFileError:
    line = data[: err.start].count(b"\n") + 1
    return ImportFileError(
        f"not readable as UTF-8 or GBK/GB18030 (byte 0x{data[err.start]:02x} at offset {err.start}); "
        "re-export the file from 17网 or save it as CSV UTF-8",
        path=path,
        line=line,
    )


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    for row in reader:
        yield start, row
        start = reader.line_num + 1


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    import openpyxl  # imported here: only XLSX imports pay for it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as err:
        raise ImportFileError(f"not a readable XLSX workbook: {err}", path=str(path)) from err
    try:
        sheet = book.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(row)
    finally:
        book.close()


def read_export(path: Path, settings: Mapping[str, str]) -> ImportedFile:
    """Read one export file whole; raise :class:`ImportFileError` at the first thing wrong with it."""
    name = str(path)
    try:
        if path.suffix.lower() == ".xlsx":
            rows: list[tuple[int, list[Any]]] = list(_xlsx_rows(path))
            encoding = "xlsx"
        else:
            text, encoding = decode_csv_bytes(path.read_bytes(), name)
            rows = list(_csv_rows(text))
    except csv.Error as err:
        raise ImportFileError(f"not a well-formed CSV file: {err}", path=name) from err
    return parse_rows(rows, name, encoding, settings)


def parse_rows(
    rows: Sequence[tuple[int, Sequence[Any]]], path: str, encoding: str, settings: Mapping[str, str]
) -> ImportedFile:
    """Find the header, map it to fields, and check every value's form."""
    maps = {kind: column_map(kind, settings) for kind in FileKind}
    header_at: int | None = None
    kind: FileKind | None = None
    for index, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        texts = {normalise_header(_cell_text(c)) for c in cells}
        for candidate in (FileKind.RETURN, FileKind.PURCHASE):
            key_headers = {
                h for h, col in maps[candidate].by_header.items() if col.field == KEY_FIELD[candidate]
            }
            if texts & key_headers:
                header_at, kind = index, candidate
                break
        if kind is not None:
            break
    if header_at is None or kind is None:
        raise ImportFileError(
            f"no header row found in the first {HEADER_SEARCH_ROWS} lines: a 17网 order export needs a "
            f"column {maps[FileKind.PURCHASE].expected['order_id']!r}, an after-sales export a column "
            f"{maps[FileKind.RETURN].expected['return_id']!r}",
            path=path,
            line=1,
        )
    cmap = maps[kind]
    header_line, header_cells = rows[header_at]
    fields_at = _map_header(cmap, header_cells, path, header_line)
    parsed: list[ImportedRow] = []
    for line, cells in rows[header_at + 1 :]:
        if all(_cell_text(c) == "" for c in cells):
            continue
        values: dict[str, str] = {}
        for position, field in fields_at.items():
            raw = cells[position] if position < len(cells) else None
            values[field] = _check_value(cmap, field, raw, path, line)
        key = KEY_FIELD[kind]
        if not values.get(key):
            raise ImportFileError(
                f"row without {cmap.expected[key]!r}: every row needs one",
                path=path,
                line=line,
                column=cmap.expected[key],
            )
        parsed.append(ImportedRow(line=line, values=values))
    return ImportedFile(path=path, kind=kind, encoding=encoding, rows=tuple(parsed))


def _map_header(cmap: ColumnMap, cells: Sequence[Any], path: str, line: int) -> dict[int, str]:
    fields_at: dict[int, str] = {}
    seen: dict[str, str] = {}
    for position, cell in enumerate(cells):
        header = normalise_header(_cell_text(cell))
        if not header or header in cmap.ignored or ("*" in cmap.ignored and header not in cmap.by_header):
            continue
        col = cmap.by_header.get(header)
        if col is None:
            raise ImportFileError(
                f"unknown column {header!r} in a 17网 {cmap.kind.value} export; map it with the shop setting "
                f"'columns' (e.g. {{\"remark\": \"{header}\"}}) or list it in 'ignore_columns'",
                path=path,
                line=line,
                column=header,
            )
        if col.field in seen:
            raise ImportFileError(
                f"columns {seen[col.field]!r} and {header!r} both hold field {col.field!r}",
                path=path,
                line=line,
                column=header,
            )
        seen[col.field] = header
        fields_at[position] = col.field
    for col in (c for c in cmap.by_header.values() if c.required):
        if col.field not in seen:
            wanted = cmap.expected[col.field]
            raise ImportFileError(
                f"missing column {wanted!r} (field {col.field!r}) in a 17网 {cmap.kind.value} export",
                path=path,
                line=line,
                column=wanted,
            )
    return fields_at


def _cell_text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _check_value(cmap: ColumnMap, field: str, raw: Any, path: str, line: int) -> str:
    col = cmap.column(field)
    header = cmap.expected[field]

    def bad(message: str) -> ImportFileError:
        return ImportFileError(message, path=path, line=line, column=header)

    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return ""
    if col.type is ValueType.TIME:
        return format_time(parse_time(raw, bad))
    if col.type is ValueType.YUAN:
        text = _cell_text(raw) if not isinstance(raw, float) else repr(raw)
        text = text.replace("¥", "").replace("￥", "").replace("元", "").replace(",", "").strip()
        try:
            yuan_to_fen(text)
        except ValueError as err:
            raise bad(f"bad amount {raw!r}: {err}") from err
        return str(Decimal(text).quantize(Decimal("0.01")))
    if col.type is ValueType.INT:
        text = _cell_text(raw)
        if not re.fullmatch(r"-?\d+", text):
            raise bad(f"bad number {raw!r}: a whole number of pieces is expected")
        return text
    if col.type is ValueType.BOOL:
        text = _cell_text(raw).lower()
        if text in _TRUE:
            return "1"
        if text in _FALSE:
            return "0"
        raise bad(f"bad yes/no value {raw!r} (use 是 or 否)")
    if col.type is ValueType.ID:
        return _check_id(raw, bad)
    return _cell_text(raw)


def _check_id(raw: Any, bad: Any) -> str:
    """Identifiers must keep every digit: Excel turns long numbers into floats and loses the tail."""
    if isinstance(raw, float):
        if not raw.is_integer() or abs(raw) >= 2**53:
            raise bad(f"identifier {raw!r} was stored as a number and lost digits; export the column as text")
        return str(int(raw))
    if isinstance(raw, int):
        return str(raw)
    text = str(raw).strip()
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1]
    text = text.lstrip("'\t").strip()
    if re.fullmatch(r"\d+(\.\d+)?[eE]\+?\d+", text):
        raise bad(f"identifier {raw!r} is in scientific notation (Excel lost its digits); export it as text")
    return text


def parse_time(raw: Any, bad: Any = None) -> datetime:
    """A Beijing time from an export cell (text or an XLSX date), as aware UTC."""
    if isinstance(raw, datetime):
        value = raw if raw.tzinfo else raw.replace(tzinfo=CST)
        return value.astimezone(CST)
    if isinstance(raw, date):
        return datetime(raw.year, raw.month, raw.day, tzinfo=CST)
    text = str(raw).strip()
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=CST)
        except ValueError:
            continue
    message = f"bad date {raw!r}: expected e.g. 2026-11-01 14:30:00 (Beijing time)"
    if bad is None:
        raise ValueError(message)
    raise bad(message)


def format_time(value: datetime) -> str:
    return value.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")


def yes(value: str | None) -> bool:
    return (value or "") == "1"


__all__ = [
    "ImportedFile",
    "ImportedRow",
    "column_map",
    "decode_csv_bytes",
    "export_files",
    "parse_rows",
    "parse_time",
    "read_export",
]
