"""Exporting the work list: the filtered list as CSV (UTF-8 with a BOM, so Excel opens the Chinese)
or XLSX, with Chinese headers and values as agents read them (labels, 元, Beijing time) plus ids.

Nothing holds the whole list: rows are read :data:`PAGE` at a time through one ordered query per
table on a server-side cursor (the work list's own filter and order, see
:mod:`hub.store.export_repo`), CSV is yielded page by page, and XLSX is written by xlsxwriter in
``constant_memory`` mode (each row is flushed to disk as it is written) to a temporary file that
the caller then streams in chunks.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from .clock import CST
from .errors import ConfigError
from .money import fen_to_yuan
from .store.cases import CaseFilter
from .store.export_repo import stream_items

#: rows per keyset page: big enough that 200,000 rows are 200 queries, small enough to hold
PAGE = 1000
FORMATS = ("xlsx", "csv")
#: an XLSX sheet holds 1,048,576 rows (one is the header)
XLSX_MAX_ROWS = 1_048_575
#: the column whose values are amounts in 元 (a number in XLSX, two decimals in CSV)
AMOUNT_COLUMN = "金额（元）"
COLUMNS = (
    "编号",
    "类别",
    "平台",
    "店铺",
    "售后单号",
    "订单号",
    "售后类型",
    "状态",
    "平台原始状态",
    "待谁处理",
    "下一步",
    "截止时间（北京时间）",
    "超时后果",
    AMOUNT_COLUMN,
    "买家",
    "原因",
    "纠纷",
    "负责人",
    "创建时间（北京时间）",
    "更新时间（北京时间）",
)
#: a spreadsheet reads a cell that starts with one of these as a formula: text cells that do are
#: written with a leading apostrophe (a buyer's nick must never run in the agent's Excel)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Label = Callable[[str, "str | None"], str]


def format_of(path_or_name: str) -> str:
    """``xlsx`` or ``csv`` from a file name's suffix; anything else is a :class:`ConfigError`."""
    suffix = Path(path_or_name).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ConfigError(f"export to a .xlsx or .csv file, not {path_or_name!r}")
    return suffix


def beijing(iso: str | None) -> str:
    """An ISO time in Beijing time, to the second ("" when there is none)."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")


def _zh_labeller() -> Label:
    from .web.i18n import labeller  # the workbench's vocabulary: one set of labels everywhere

    return labeller("zh")


def export_row(item: Mapping[str, Any], label: Label, platform_names: Mapping[str, str]) -> list[Any]:
    """One work-list item (the ``hub cases --json`` object) as the export's cells, in :data:`COLUMNS`
    order; the amount stays in fen here (the writers format it)."""
    d = item.get("next_action") or {}
    is_case = item["item"] == "case"
    dispute = item.get("dispute") or {}
    consequence = d.get("consequence_zh") or (label("on_expiry", d.get("on_expiry")) if d else "")
    if d.get("penalty_fen") and "¥" not in consequence:
        consequence = f"{consequence}（罚款 ¥{fen_to_yuan(d['penalty_fen'])}）"
    return [
        item["id"],
        label("item", item["item"]),
        platform_names.get(item["platform"], item["platform"]),
        item["shop"],
        item["external_id"] if is_case else "",
        item["order_external_id"],
        label("kind", item["kind"]) if item.get("kind") else "",
        label("status", item["status"]) if is_case else label("order_status", item["status"]),
        item.get("platform_status") or "",
        label("party", d.get("party") or "none"),
        label("deadline_action", d.get("action")) if d.get("action") else "",
        beijing(d.get("due_at")),
        consequence if d else "",
        item["refund_fen"] if is_case else item.get("paid_fen") or 0,
        item.get("buyer") or "",
        item.get("reason") or "",
        label("dispute_kind", dispute.get("kind")) if dispute else "",
        item.get("assignee") or "",
        beijing(item.get("created_at")),
        beijing(item.get("updated_at")),
    ]


def _safe_text(value: Any) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


_AMOUNT_AT = COLUMNS.index(AMOUNT_COLUMN)


async def pages(
    engine: AsyncEngine, f: CaseFilter, *, page: int = PAGE
) -> AsyncIterator[list[dict[str, Any]]]:
    """The filtered work list, ``page`` items at a time, in the list's order (one ordered read
    per table through a server-side cursor: see :mod:`hub.store.export_repo`)."""
    async for items in stream_items(engine, f, batch=page):
        yield items


async def csv_chunks(
    engine: AsyncEngine,
    f: CaseFilter,
    platform_names: Mapping[str, str],
    *,
    page: int = PAGE,
    counted: list[int] | None = None,
) -> AsyncIterator[bytes]:
    """The export as CSV bytes: the BOM and the header first, then one chunk per page
    (``counted[0]`` is kept at the number of rows yielded so far)."""
    label = _zh_labeller()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield ("\ufeff" + buf.getvalue()).encode("utf-8")
    async for items in pages(engine, f, page=page):
        buf.seek(0)
        buf.truncate()
        for item in items:
            cells = export_row(item, label, platform_names)
            cells[_AMOUNT_AT] = fen_to_yuan(int(cells[_AMOUNT_AT]))
            writer.writerow([c if isinstance(c, int) else _safe_text(c) for c in cells])
        if counted is not None:
            counted[0] += len(items)
        yield buf.getvalue().encode("utf-8")


async def write_xlsx(
    engine: AsyncEngine, f: CaseFilter, platform_names: Mapping[str, str], path: Path, *, page: int = PAGE
) -> int:
    """Write the export to ``path`` as XLSX in constant-memory mode; returns the number of rows."""
    import xlsxwriter

    label = _zh_labeller()
    # xlsxwriter's own temporary files go beside the output (the same disk, cleaned up by it)
    workbook = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "tmpdir": str(path.parent), "strings_to_formulas": False}
    )
    try:
        sheet = workbook.add_worksheet("售后列表")
        head = workbook.add_format({"bold": True})
        money = workbook.add_format({"num_format": "0.00"})
        for col, name in enumerate(COLUMNS):
            sheet.write_string(0, col, name, head)
        sheet.set_column(0, 0, 9)
        sheet.set_column(1, len(COLUMNS) - 1, 16)
        sheet.freeze_panes(1, 0)
        n = 0
        async for items in pages(engine, f, page=page):
            for item in items:
                n += 1
                if n > XLSX_MAX_ROWS:
                    raise ConfigError(
                        f"an XLSX sheet holds {XLSX_MAX_ROWS:,} rows: narrow the filter or use CSV"
                    )
                for col, value in enumerate(export_row(item, label, platform_names)):
                    if col == _AMOUNT_AT:
                        sheet.write_number(n, col, int(value) / 100, money)
                    elif isinstance(value, int):
                        sheet.write_number(n, col, value)
                    elif value:
                        sheet.write_string(n, col, str(value))
    except BaseException:
        workbook.close()
        raise
    # closing zips every part: seconds at 200,000 rows, so off the event loop
    await asyncio.to_thread(workbook.close)
    return n


def temp_xlsx_path(directory: str | None = None) -> Path:
    """A fresh private temporary file name for an XLSX export (the caller removes it)."""
    fd, name = tempfile.mkstemp(prefix="hub-export-", suffix=".xlsx", dir=directory)
    os.close(fd)
    return Path(name)


async def export_to_file(
    engine: AsyncEngine, f: CaseFilter, platform_names: Mapping[str, str], path: Path
) -> int:
    """Write the export to ``path`` (format from its suffix); returns the number of rows."""
    fmt = format_of(str(path))
    if fmt == "xlsx":
        return await write_xlsx(engine, f, platform_names, path)
    counted = [0]
    with path.open("wb") as fh:
        async for chunk in csv_chunks(engine, f, platform_names, counted=counted):
            fh.write(chunk)
    return counted[0]


def file_name(fmt: str, now: datetime) -> str:
    """The download's name: ``售后列表-YYYYmmdd-HHMM.<fmt>`` in Beijing time."""
    return f"售后列表-{now.astimezone(CST):%Y%m%d-%H%M}.{fmt}"
