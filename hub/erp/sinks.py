"""Document sinks: where ERP documents go. Built in: a folder of CSV/XLSX files, a JSON webhook.

A sink delivers one document at a time and raises :class:`DeliveryError` when it could not; the
delivery pass (:mod:`hub.erp.deliver`) records the outcome, so a delivered document is never sent
again and a failed one is retried later. Sinks should also be idempotent themselves, for the one
case the pass cannot rule out (delivered, then the process died before recording it): the file
sink skips a document number already in its file, the webhook sends the idempotency key.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import hmac
import io
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aiohttp

from ..clock import CST
from ..errors import ConfigError
from ..money import fen_to_yuan
from .documents import KINDS


class DeliveryError(Exception):
    """A sink could not deliver a document; the message is recorded as the reason."""


class DocumentSink(Protocol):
    """What a sink plugin provides: ``deliver`` one document (a JSON-able mapping, see
    docs/operations.md "ERP documents"), raising :class:`DeliveryError` on failure."""

    async def deliver(self, document: Mapping[str, Any]) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class SinkContext:
    """What a sink factory is handed: the hub's HTTP session and its home folder."""

    http: aiohttp.ClientSession
    home: Path


#: ``factory(name, config, context)`` -> a sink; ``config`` holds the sink's settings (strings)
SinkFactory = Callable[[str, Mapping[str, Any], SinkContext], DocumentSink]
DocumentSinkRegister = Callable[[str, SinkFactory], None]

#: the columns of the file sink, in order: (field, header). Headers are what an ERP import
#: template reads; ``amount_yuan``/``penalty_yuan`` are 元 with two decimals; one row per item.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("number", "单据编号"),
    ("kind", "单据类型"),
    ("step", "步骤"),
    ("step_date", "业务日期"),
    ("shop", "店铺"),
    ("platform", "平台"),
    ("platform_order_id", "平台订单号"),
    ("platform_case_id", "平台售后单号"),
    ("case_id", "售后案件号"),
    ("buyer", "买家"),
    ("sku", "商家编码"),
    ("title", "商品名称"),
    ("qty", "数量"),
    ("amount_yuan", "金额(元)"),
    ("warehouse", "仓库"),
    ("stock_quality", "入库类型"),
    ("return_waybill", "退货运单号"),
    ("refund_type", "退款类型"),
    ("reship", "补发单"),
    ("original_order_id", "原订单号"),
    ("reship_waybill", "补发运单号"),
    ("dispute_kind", "维权类型"),
    ("dispute_status", "维权状态"),
    ("department", "责任部门"),
    ("person", "责任人"),
    ("penalty_yuan", "罚款(元)"),
    ("decision", "处理结果"),
    ("reason", "原因"),
    ("step_at", "业务时间"),
)
_COMMON = (
    "number kind step step_date shop platform platform_order_id platform_case_id case_id buyer sku title qty "
    "amount_yuan warehouse"
).split()
#: which columns each kind's file has (the common ones, then its own, then reason and time)
KIND_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "compensation_refund": (*_COMMON, "refund_type", "reason", "step_at"),
    "return": (*_COMMON, "stock_quality", "return_waybill", "reason", "step_at"),
    "exchange": (*_COMMON, "stock_quality", "return_waybill", "reason", "step_at"),
    "reship_order": (*_COMMON, "reship", "original_order_id", "reship_waybill", "reason", "step_at"),
    "dispute": (
        *_COMMON,
        "dispute_kind",
        "dispute_status",
        "department",
        "person",
        "penalty_yuan",
        "decision",
        "reason",
        "step_at",
    ),
}
HEADERS = dict(COLUMNS)
QUALITY_ZH = {"good": "良品入库", "defective": "次品入库"}


def rows_of(doc: Mapping[str, Any], warehouse: str) -> list[dict[str, str]]:
    """The file rows of one document: one per item (its number repeated), text ready to write."""
    from datetime import datetime

    step_at = datetime.fromisoformat(doc["step_at"]).astimezone(CST)
    base = {
        **{k: "" if v is None else str(v) for k, v in doc.items() if not isinstance(v, list | dict)},
        "step_date": step_at.strftime("%Y-%m-%d"),
        "step_at": step_at.strftime("%Y-%m-%d %H:%M:%S"),
        "amount_yuan": fen_to_yuan(int(doc.get("amount_fen") or 0)),
        "warehouse": warehouse,
        "stock_quality": QUALITY_ZH.get(str(doc.get("stock_quality") or ""), ""),
        "reship": "是" if doc.get("reship") else "",
        "penalty_yuan": fen_to_yuan(int(doc["penalty_fen"])) if doc.get("penalty_fen") is not None else "",
    }
    items = doc.get("items") or [{"sku": "", "title": "", "qty": ""}]
    cols = KIND_COLUMNS[doc["kind"]]
    return [{c: {**base, **{k: str(v) for k, v in it.items()}}.get(c, "") for c in cols} for it in items]


class FileSink:
    """One file per document kind in a folder (``return.csv``, ``dispute.xlsx``…), appended to.

    CSV files are UTF-8 with a byte-order mark (so spreadsheet programs read the Chinese), header
    row first. A document whose number is already in the file is not written again."""

    def __init__(self, name: str, config: Mapping[str, Any], context: SinkContext) -> None:
        self.name = name
        folder = str(config.get("dir") or "")
        if not folder:
            raise ConfigError(f"sink {name}: a file sink needs a folder (--dir)")
        self.dir = Path(folder).expanduser()
        self.format = str(config.get("format") or "csv")
        if self.format not in ("csv", "xlsx"):
            raise ConfigError(f"sink {name}: format must be csv or xlsx, not {self.format!r}")
        self.warehouse = str(config.get("warehouse") or "默认仓")
        self._numbers: dict[str, set[str]] = {}

    def path(self, kind: str) -> Path:
        return self.dir / f"{kind}.{self.format}"

    def _known(self, kind: str) -> set[str]:
        if kind not in self._numbers:
            self._numbers[kind] = self._read_numbers(self.path(kind))
        return self._numbers[kind]

    def _read_numbers(self, path: Path) -> set[str]:
        if not path.exists():
            return set()
        if self.format == "csv":
            with path.open(encoding="utf-8-sig", newline="") as f:
                return {row[0] for row in list(csv.reader(f))[1:] if row}
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True)
        try:
            return {str(r[0]) for r in wb.active.iter_rows(min_row=2, values_only=True) if r and r[0]}  # type: ignore[union-attr]
        finally:
            wb.close()

    async def deliver(self, document: Mapping[str, Any]) -> None:
        kind = str(document["kind"])
        if kind not in KIND_COLUMNS:
            raise DeliveryError(f"unknown document kind {kind!r}")
        try:
            await asyncio.to_thread(self._write, kind, document)
        except OSError as err:
            raise DeliveryError(f"{self.path(kind)}: {err.strerror or err}") from err

    def _write(self, kind: str, document: Mapping[str, Any]) -> None:
        number = str(document["number"])
        known = self._known(kind)
        if number in known:
            return  # written before the delivery could be recorded: never twice
        self.dir.mkdir(parents=True, exist_ok=True)
        rows = rows_of(document, self.warehouse)
        cols = KIND_COLUMNS[kind]
        path = self.path(kind)
        if self.format == "csv":
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\r\n")
            fresh = not path.exists() or path.stat().st_size == 0
            if fresh:
                w.writerow([HEADERS[c] for c in cols])
            for r in rows:
                w.writerow([r[c] for c in cols])
            # one write per document, flushed to disk: a reader never sees half a document
            with path.open("a", encoding="utf-8-sig" if fresh else "utf-8", newline="") as f:
                f.write(buf.getvalue())
                f.flush()
                os.fsync(f.fileno())
        else:
            self._write_xlsx(path, cols, rows)
        known.add(number)

    @staticmethod
    def _write_xlsx(path: Path, cols: tuple[str, ...], rows: list[dict[str, str]]) -> None:
        from openpyxl import Workbook, load_workbook

        if path.exists():
            wb = load_workbook(path)
            ws = wb.active
        else:
            wb = Workbook()
            ws = wb.active
            ws.append([HEADERS[c] for c in cols])  # type: ignore[union-attr]
        for r in rows:
            ws.append([r[c] for c in cols])  # type: ignore[union-attr]
        tmp = path.with_suffix(".xlsx.tmp")
        wb.save(tmp)
        os.replace(tmp, path)  # a reader sees the old file or the new one, never half of one

    async def close(self) -> None:
        return None


#: the header carrying the body's HMAC-SHA256 (hex), keyed with the sink's secret
SIGNATURE_HEADER = "X-Hub-Signature-256"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def sign_body(secret: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the exact request body, keyed with the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class WebhookSink:
    """POST each document as JSON to a URL; any 2xx answer is delivered."""

    name: str
    config: Mapping[str, Any]
    context: SinkContext
    timeout: float = 15.0
    _secret: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.url = str(self.config.get("url") or "")
        if not self.url.startswith(("http://", "https://")):
            raise ConfigError(f"sink {self.name}: a webhook sink needs an http(s) URL (--url)")
        self.warehouse = str(self.config.get("warehouse") or "默认仓")
        self._secret = resolve_secret(self.config.get("secret"), self.name)

    async def deliver(self, document: Mapping[str, Any]) -> None:
        doc = dict(document)
        doc["warehouse"] = self.warehouse
        doc["amount_yuan"] = fen_to_yuan(int(doc.get("amount_fen") or 0))
        body = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            IDEMPOTENCY_HEADER: str(doc["idempotency_key"]),
            "X-Hub-Document": str(doc["number"]),
        }
        if self._secret:
            headers[SIGNATURE_HEADER] = sign_body(self._secret, body)
        try:
            async with self.context.http.post(
                self.url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=self.timeout)
            ) as resp:
                if not 200 <= resp.status < 300:
                    text = (await resp.text())[:200]
                    raise DeliveryError(f"HTTP {resp.status}: {text}".strip())
        except (aiohttp.ClientError, TimeoutError) as err:
            raise DeliveryError(f"{type(err).__name__}: {err}") from err

    async def close(self) -> None:
        return None


def resolve_secret(value: Any, sink: str) -> str | None:
    """A secret as configured: ``env:VAR`` reads the environment (so the database holds no secret)."""
    if not value:
        return None
    text = str(value)
    if text.startswith("env:"):
        var = text[4:]
        got = os.environ.get(var)
        if not got:
            raise ConfigError(f"sink {sink}: environment variable {var} (its secret) is not set")
        return got
    return text


#: the sinks the core provides; plugins add theirs with the ``hub_register_document_sinks`` hook
BUILTIN: Mapping[str, SinkFactory] = {"file": FileSink, "webhook": WebhookSink}


def sink_factories(pm: Any) -> dict[str, SinkFactory]:
    """Built-in sink kinds plus those plugins register."""
    out: dict[str, SinkFactory] = dict(BUILTIN)

    def register(kind: str, factory: SinkFactory) -> None:
        if kind in out:
            raise ConfigError(f"document sink kind {kind!r} is already registered")
        out[kind] = factory

    pm.hook.hub_register_document_sinks(register=register)
    return out


__all__ = [
    "BUILTIN",
    "COLUMNS",
    "KINDS",
    "KIND_COLUMNS",
    "DeliveryError",
    "DocumentSink",
    "DocumentSinkRegister",
    "FileSink",
    "SinkContext",
    "SinkFactory",
    "WebhookSink",
    "resolve_secret",
    "rows_of",
    "sign_body",
    "sink_factories",
]
