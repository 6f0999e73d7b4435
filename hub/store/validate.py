"""The boundary between a plugin and the store: what a plugin hands the core is checked here.

A plugin's mapper is code the core does not control. Whatever it returns is checked field by
field before it reaches the database (enums are enums, times are aware, money is integer fen
and not negative, quantities are not negative, ids are non-empty strings that fit their columns,
no NUL bytes), so a bad record is quarantined with the field named and its raw payload kept,
instead of an exception in the database layer rolling back the whole window (PostgreSQL refuses
a NUL byte in text and JSON; its columns refuse an over-long id; a naive time cannot be stored).

NUL bytes in what a platform *sent* (a 17网 export cell) carry nothing: they are stripped from
the raw payload before it is mapped or stored, on every database alike.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import Any

from ..domain import (
    AfterSale,
    AfterSaleKind,
    AfterSaleStatus,
    Dispute,
    DisputeKind,
    DisputeStatus,
    Evidence,
    EvidenceKind,
    MappedRecord,
    OnExpiry,
    Order,
    OrderLine,
    OrderLink,
    OrderRole,
    OrderStatus,
    Party,
    PlatformDeadline,
    RawRecord,
)
from ..errors import MappingError
from ..rules import RuleTable
from .base import tbl
from .models import AfterSaleRecord, OrderRecord, RawRecordRow

#: the largest fen amount a BIGINT column holds
MAX_FEN = 2**63 - 1
NUL = "\x00"


def _width(model: Any, column: str) -> int | None:
    return getattr(tbl(model).c[column].type, "length", None)


#: column widths, read from the models so they cannot drift apart
ID_WIDTH = _width(AfterSaleRecord, "external_id") or 80
RAW_ID_WIDTH = _width(RawRecordRow, "external_id") or 80
CASE_WIDTHS = {c: _width(AfterSaleRecord, c) for c in ("platform_status", "buyer", "return_waybill")}
ORDER_WIDTHS = {c: _width(OrderRecord, c) for c in ("platform_status", "buyer", "recipient_key", "waybill")}


def no_nul(text: str) -> str:
    """``text`` without NUL bytes: for error text hub stores (a platform's or a plugin's message
    may carry one, and PostgreSQL refuses it in text and JSON columns)."""
    return text.replace(NUL, "") if NUL in text else text


# -- raw payloads ---------------------------------------------------------------------------------


def strip_nul(value: Any) -> Any:
    """``value`` with NUL bytes removed from every string and key (mappings, lists and tuples
    walked; other values kept as they are)."""
    if isinstance(value, str):
        return value.replace(NUL, "")
    if isinstance(value, Mapping):
        return {strip_nul(k): strip_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(strip_nul(v) for v in value)
    return value


def clean_doc(doc: Any) -> tuple[Any, str]:
    """A JSON-safe payload without NUL bytes, and its :func:`hub.store.serialize.digest`.

    The NUL scan reads the very dump the hash is taken of (one C-speed ``json.dumps``, which
    writes a NUL as ``\\u0000``), so it costs nothing extra; only a payload that has one is
    rebuilt, and clean payloads (nearly all) keep their identity and their hash."""
    text = _dump(doc)
    if "\\u0000" in text:
        doc = strip_nul(doc)
        text = _dump(doc)
    return doc, hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _dump(doc: Any) -> str:
    # exactly serialize.digest's dump (a test holds the two hashes equal)
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def raw_problem(rec: Any) -> tuple[RawRecord, str | None]:
    """Check the envelope of a raw record a plugin fetched: returns the record to use (ids as
    strings without NUL bytes) and the error to quarantine it with, or ``None`` when it is sound.

    A record whose envelope is unusable is still kept (quarantined), under the best key it has.
    """
    if not isinstance(rec, RawRecord):
        raise TypeError(f"fetch_window yielded a {type(rec).__name__}, not a RawRecord")
    error: str | None = None
    ext = rec.external_id
    if not isinstance(ext, str):
        error = f"external_id: must be a string, got {type(ext).__name__} {ext!r}"
        ext = str(ext)
    ext = ext.replace(NUL, "")
    if not ext.strip():
        error = error or "external_id: empty"
        ext = ext or "(empty)"
    if len(ext) > RAW_ID_WIDTH:
        error = error or f"external_id: longer than {RAW_ID_WIDTH} characters"
        ext = ext[:RAW_ID_WIDTH]
    updated = rec.updated_at
    if updated is not None and (not isinstance(updated, datetime) or updated.tzinfo is None):
        error = error or (
            f"updated_at: {_naive_or_type(updated)} (the RawRecord's modified time must be aware UTC)"
        )
        updated = None
    if not isinstance(rec.payload, Mapping):
        error = error or f"payload: must be a mapping, got {type(rec.payload).__name__}"
    if ext is not rec.external_id or updated is not rec.updated_at:
        rec = dataclasses.replace(rec, external_id=ext, updated_at=updated)
    return rec, error


# -- mapped records -------------------------------------------------------------------------------


def _naive_or_type(value: Any) -> str:
    if isinstance(value, datetime):
        return f"naive datetime {value.isoformat()} (no timezone)"
    return f"must be an aware datetime, got {type(value).__name__} {value!r}"


class _Checker:
    def __init__(self, time_facts: frozenset[str] = frozenset()) -> None:
        self.path: list[str] = []
        self.time_facts = time_facts

    def fail(self, name: str, message: str) -> None:
        raise MappingError(message, field=".".join(p for p in (*self.path, name) if p) or None)

    def text(self, name: str, value: Any, *, optional: bool = False, width: int | None = None) -> None:
        if value is None:
            if not optional:
                self.fail(name, "missing (None)")
            return
        if not isinstance(value, str):
            self.fail(name, f"must be a string, got {type(value).__name__} {value!r}")
        if NUL in value:
            self.fail(name, "contains a NUL byte")
        if width is not None and len(value) > width:
            self.fail(name, f"longer than {width} characters ({len(value)})")

    def ident(self, name: str, value: Any, *, optional: bool = False, width: int | None = ID_WIDTH) -> None:
        self.text(name, value, optional=optional, width=width)
        if value is not None and not value.strip():
            self.fail(name, "empty id")

    def enum(self, name: str, value: Any, kind: type[Enum], *, optional: bool = False) -> None:
        if value is None and optional:
            return
        if not isinstance(value, kind):
            self.fail(name, f"must be a {kind.__name__}, got {type(value).__name__} {value!r}")

    def time(self, name: str, value: Any, *, optional: bool = False) -> None:
        if value is None:
            if not optional:
                self.fail(name, "missing (None)")
            return
        if not isinstance(value, datetime) or value.tzinfo is None:
            self.fail(name, _naive_or_type(value))

    def integer(self, name: str, value: Any, *, optional: bool = False, unit: str = "fen") -> None:
        if value is None:
            if not optional:
                self.fail(name, "missing (None)")
            return
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, f"must be an integer number of {unit}, got {type(value).__name__} {value!r}")
        if value < 0:
            self.fail(name, f"negative ({value})")
        if value > MAX_FEN:
            self.fail(name, f"too large ({value})")

    def flag(self, name: str, value: Any) -> None:
        if not isinstance(value, bool):
            self.fail(name, f"must be a bool, got {type(value).__name__} {value!r}")

    def items(self, name: str, value: Any) -> Sequence[Any]:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            self.fail(name, f"must be a sequence, got {type(value).__name__}")
        return value  # type: ignore[no-any-return]

    def strings(self, name: str, value: Any) -> None:
        for i, item in enumerate(self.items(name, value)):
            self.text(f"{name}[{i}]", item)

    def doc(self, name: str, value: Any) -> None:
        """A free-form mapping (facts): JSON-like, no NUL bytes anywhere; the facts a deadline
        rule counts from (``fact:<name>`` anchors) must be aware times or ISO times with a zone."""
        if not isinstance(value, Mapping):
            self.fail(name, f"must be a mapping, got {type(value).__name__}")
        self._doc(name, value)
        for key in self.time_facts & value.keys():
            raw = value[key]
            if raw in (None, ""):
                continue
            if isinstance(raw, str):
                try:
                    raw = datetime.fromisoformat(raw)
                except ValueError:
                    self.fail(
                        f"{name}.{key}", f"not an ISO time: {value[key]!r} (a deadline rule counts from it)"
                    )
            self.time(f"{name}.{key}", raw)

    def _doc(self, name: str, value: Any) -> None:
        if isinstance(value, str):
            if NUL in value:
                self.fail(name, "contains a NUL byte")
        elif isinstance(value, Mapping):
            for k, v in value.items():
                if isinstance(k, str) and NUL in k:
                    self.fail(name, "a key contains a NUL byte")
                self._doc(f"{name}.{k}", v)
        elif isinstance(value, list | tuple):
            for i, v in enumerate(value):
                self._doc(f"{name}[{i}]", v)
        elif isinstance(value, float) and value != value:
            self.fail(name, "NaN")

    def nested(self, name: str, fn: Any, value: Any) -> None:
        self.path.append(name)
        try:
            fn(value)
        finally:
            self.path.pop()

    # -- the domain types

    def deadline(self, d: Any) -> None:
        if not isinstance(d, PlatformDeadline):
            self.fail("", f"must be a PlatformDeadline, got {type(d).__name__}")
        self.time("due_at", d.due_at)
        self.text("action", d.action, optional=True)
        self.enum("on_expiry", d.on_expiry, OnExpiry, optional=True)
        self.enum("party", d.party, Party, optional=True)

    def evidence(self, e: Any) -> None:
        if not isinstance(e, Evidence):
            self.fail("", f"must be an Evidence, got {type(e).__name__}")
        self.enum("kind", e.kind, EvidenceKind)
        self.text("name", e.name)
        self.text("description", e.description)
        self.text("content_type", e.content_type, optional=True)
        self.integer("size", e.size, optional=True, unit="bytes")
        self.text("sha256", e.sha256, optional=True)
        self.text("url", e.url, optional=True)
        self.time("added_at", e.added_at, optional=True)
        self.text("added_by", e.added_by, optional=True)

    def dispute(self, d: Any) -> None:
        if not isinstance(d, Dispute):
            self.fail("", f"must be a Dispute, got {type(d).__name__}")
        self.enum("kind", d.kind, DisputeKind)
        self.enum("status", d.status, DisputeStatus)
        self.text("external_id", d.external_id, optional=True)
        self.text("subtype", d.subtype, optional=True)
        self.text("platform_status", d.platform_status, optional=True)
        self.time("opened_at", d.opened_at, optional=True)
        self.time("updated_at", d.updated_at, optional=True)
        self.flag("appeal_open", d.appeal_open)
        self.text("note", d.note, optional=True)
        for i, e in enumerate(self.items("evidence", d.evidence)):
            self.nested(f"evidence[{i}]", self.evidence, e)

    def line(self, line: Any) -> None:
        if not isinstance(line, OrderLine):
            self.fail("", f"must be an OrderLine, got {type(line).__name__}")
        self.ident("external_id", line.external_id, width=None)
        self.text("title", line.title)
        self.text("sku_id", line.sku_id, optional=True)
        self.text("sku_name", line.sku_name, optional=True)
        self.integer("quantity", line.quantity, unit="pieces")
        self.integer("unit_price_fen", line.unit_price_fen)
        self.integer("paid_fen", line.paid_fen)
        self.text("status", line.status, optional=True)
        self.text("refund_status", line.refund_status, optional=True)

    def link(self, link: Any) -> None:
        if not isinstance(link, OrderLink):
            self.fail("", f"must be an OrderLink, got {type(link).__name__}")
        self.text("sale_external_id", link.sale_external_id, optional=True)
        self.text("recipient_key", link.recipient_key, optional=True)
        self.strings("sku_keys", link.sku_keys)
        self.text("day", link.day, optional=True)

    def common(self, obj: Order | AfterSale) -> None:
        self.time("created_at", obj.created_at)
        self.time("updated_at", obj.updated_at)
        self.doc("facts", obj.facts)
        self.strings("warnings", obj.warnings)
        if obj.platform_deadline is not None:
            self.nested("platform_deadline", self.deadline, obj.platform_deadline)

    def after_sale(self, c: AfterSale) -> None:
        self.ident("external_id", c.external_id)
        self.ident("order_external_id", c.order_external_id)
        self.ident("line_external_id", c.line_external_id, optional=True)
        self.enum("kind", c.kind, AfterSaleKind)
        self.enum("status", c.status, AfterSaleStatus)
        self.text("platform_status", c.platform_status, width=CASE_WIDTHS["platform_status"])
        self.common(c)
        self.text("reason", c.reason, optional=True)
        self.integer("refund_fen", c.refund_fen)
        self.integer("paid_fen", c.paid_fen, optional=True)
        self.text("buyer", c.buyer, optional=True, width=CASE_WIDTHS["buyer"])
        self.text("description", c.description, optional=True)
        if c.version is not None and (isinstance(c.version, bool) or not isinstance(c.version, int)):
            self.fail("version", f"must be an integer, got {type(c.version).__name__} {c.version!r}")
        if c.version is not None and not -MAX_FEN <= c.version <= MAX_FEN:
            self.fail("version", f"out of range ({c.version})")
        self.text("return_waybill", c.return_waybill, optional=True, width=CASE_WIDTHS["return_waybill"])
        if c.dispute is not None:
            self.nested("dispute", self.dispute, c.dispute)

    def order(self, o: Order) -> None:
        self.ident("external_id", o.external_id)
        self.enum("status", o.status, OrderStatus)
        self.enum("role", o.role, OrderRole)
        self.text("platform_status", o.platform_status, width=ORDER_WIDTHS["platform_status"])
        self.common(o)
        self.text("buyer", o.buyer, optional=True, width=ORDER_WIDTHS["buyer"])
        self.text("recipient_key", o.recipient_key, optional=True, width=ORDER_WIDTHS["recipient_key"])
        self.integer("total_fen", o.total_fen)
        self.integer("paid_fen", o.paid_fen)
        for name in ("paid_at", "shipped_at", "signed_at", "completed_at"):
            self.time(name, getattr(o, name), optional=True)
        self.text("waybill", o.waybill, optional=True, width=ORDER_WIDTHS["waybill"])
        self.text("remark", o.remark, optional=True)
        for i, line in enumerate(self.items("lines", o.lines)):
            self.nested(f"lines[{i}]", self.line, line)
        for i, link in enumerate(self.items("links", o.links)):
            self.nested(f"links[{i}]", self.link, link)


def time_facts(rules: RuleTable) -> frozenset[str]:
    """The facts a rule table's deadlines count from (its ``fact:<name>`` anchors)."""
    return frozenset(a[5:] for r in rules.rules for a in r.anchors if a.startswith("fact:"))


# -- the fast path ------------------------------------------------------------------------------
# The checker above walks every field through generic methods that can name the field at fault.
# Nearly every record is sound, so a sync first asks the predicates below, written out per type
# with the same rules: True only when the checker would pass. On False (a fault, or a shape they
# do not follow, such as a dispute), the checker runs and names the field, so errors are unchanged.


def _text_ok(value: Any, width: int | None = None) -> bool:
    return type(value) is str and NUL not in value and (width is None or len(value) <= width)


def _opt_text_ok(value: Any, width: int | None = None) -> bool:
    return value is None or (
        type(value) is str and NUL not in value and (width is None or len(value) <= width)
    )


def _id_ok(value: Any) -> bool:
    return type(value) is str and NUL not in value and len(value) <= ID_WIDTH and bool(value.strip())


def _aware(value: Any) -> bool:
    return isinstance(value, datetime) and value.tzinfo is not None


def _fen_ok(value: Any) -> bool:
    return type(value) is int and 0 <= value <= MAX_FEN


def _doc_ok(value: Any) -> bool:
    kind = type(value)
    if kind is str:
        return NUL not in value
    if kind is int or kind is bool or value is None or kind is datetime:
        return True
    if kind is float:
        return value == value
    if kind is dict:
        for k, v in value.items():
            if type(k) is not str or NUL in k:
                return False
            kind = type(v)
            if kind is str:
                if NUL in v:
                    return False
            elif not (kind is int or kind is bool or v is None or _doc_ok(v)):
                return False
        return True
    if kind is list or kind is tuple:
        for v in value:
            if not _doc_ok(v):
                return False
        return True
    return False  # anything else: the checker decides


def _facts_ok(facts: Any, time_facts: frozenset[str]) -> bool:
    if type(facts) is not dict or not _doc_ok(facts):
        return False
    for key in time_facts & facts.keys() if time_facts else ():
        raw = facts[key]
        if raw is None or raw == "":
            continue
        if isinstance(raw, str):
            try:
                raw = datetime.fromisoformat(raw)
            except ValueError:
                return False
        if not _aware(raw):
            return False
    return True


def _deadline_ok(d: Any) -> bool:
    return d is None or (
        type(d) is PlatformDeadline
        and _aware(d.due_at)
        and _opt_text_ok(d.action)
        and (d.on_expiry is None or isinstance(d.on_expiry, OnExpiry))
        and (d.party is None or isinstance(d.party, Party))
    )


def _warnings_ok(warnings: Any) -> bool:
    return (type(warnings) is list or type(warnings) is tuple) and all(_text_ok(w) for w in warnings)


def _opt_time_ok(value: Any) -> bool:
    return value is None or (isinstance(value, datetime) and value.tzinfo is not None)


def _dispute_ok(d: Any) -> bool:
    # a dispute with evidence goes the checker's way (rare, and many fields per item)
    return d is None or (
        type(d) is Dispute
        and isinstance(d.kind, DisputeKind)
        and isinstance(d.status, DisputeStatus)
        and _opt_text_ok(d.external_id)
        and _opt_text_ok(d.subtype)
        and _opt_text_ok(d.platform_status)
        and _opt_time_ok(d.opened_at)
        and _opt_time_ok(d.updated_at)
        and type(d.appeal_open) is bool
        and _opt_text_ok(d.note)
        and (type(d.evidence) is tuple or type(d.evidence) is list)
        and not d.evidence
    )


def _after_sale_ok(c: AfterSale, time_facts: frozenset[str]) -> bool:
    version = c.version
    return (
        _dispute_ok(c.dispute)
        and _id_ok(c.external_id)
        and _id_ok(c.order_external_id)
        and (c.line_external_id is None or _id_ok(c.line_external_id))
        and isinstance(c.kind, AfterSaleKind)
        and isinstance(c.status, AfterSaleStatus)
        and _text_ok(c.platform_status, CASE_WIDTHS["platform_status"])
        and _aware(c.created_at)
        and _aware(c.updated_at)
        and _facts_ok(c.facts, time_facts)
        and _warnings_ok(c.warnings)
        and _deadline_ok(c.platform_deadline)
        and _opt_text_ok(c.reason)
        and _fen_ok(c.refund_fen)
        and (c.paid_fen is None or _fen_ok(c.paid_fen))
        and _opt_text_ok(c.buyer, CASE_WIDTHS["buyer"])
        and _opt_text_ok(c.description)
        and (version is None or (type(version) is int and -MAX_FEN <= version <= MAX_FEN))
        and _opt_text_ok(c.return_waybill, CASE_WIDTHS["return_waybill"])
    )


def check_mapped(obj: Any, facts: frozenset[str] = frozenset()) -> MappedRecord:
    """Return ``obj`` if it is a sound Order or AfterSale; else raise :class:`MappingError`
    naming the field at fault (``refund_fen: negative (-5)``, ``status: must be a
    AfterSaleStatus, got str 'requested'``). ``facts``: the facts that must be times
    (:func:`time_facts` of the platform's rule table)."""
    if type(obj) is AfterSale and _after_sale_ok(obj, facts):
        return obj
    checker = _Checker(facts)
    if isinstance(obj, AfterSale):
        checker.after_sale(obj)
    elif isinstance(obj, Order):
        checker.order(obj)
    else:
        raise MappingError(f"map_record returned a {type(obj).__name__}, not an Order or AfterSale")
    return obj
