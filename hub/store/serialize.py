"""Domain objects to JSON-safe dicts and back, and the content hashes that make re-syncs write nothing."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

import orjson

from ..domain import (
    AfterSale,
    AfterSaleKind,
    AfterSaleStatus,
    Dispute,
    DisputeKind,
    DisputeStatus,
    Evidence,
    EvidenceKind,
    OnExpiry,
    Order,
    OrderLine,
    OrderLink,
    OrderRole,
    OrderStatus,
    Party,
    PlatformDeadline,
)

_SCALARS = frozenset({str, int, float, bool, type(None)})
_MISSING = object()
#: per type: how jsonable() converts it ("enum", "datetime", "mapping", "sequence", "other") or,
#: for a dataclass, its field names: decided once per type instead of per value
_HOW: dict[type, Any] = {}


def _how(kind: type) -> Any:
    how = _HOW.get(kind, _MISSING)
    if how is _MISSING:
        if issubclass(kind, Enum):
            how = "enum"
        elif issubclass(kind, datetime):
            how = "datetime"
        elif dataclasses.is_dataclass(kind):
            how = tuple(f.name for f in dataclasses.fields(kind))
        elif issubclass(kind, Mapping):
            how = "mapping"
        elif issubclass(kind, list | tuple | set | frozenset):
            how = "sequence"
        else:
            how = "other"
        _HOW[kind] = how
    return how


def jsonable(value: Any) -> Any:
    """A JSON-safe copy: datetimes ISO, enums by value, dataclasses as dicts, tuples as lists."""
    kind = type(value)
    # Fast paths first: this runs for every value of every payload on every sync.
    if kind in _SCALARS:
        return value
    if kind is dict:
        return {k if type(k) is str else str(k): jsonable(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [jsonable(v) for v in value]
    how = _how(kind)
    if type(how) is tuple:
        return {name: jsonable(getattr(value, name)) for name in how}
    if how == "enum":
        return value.value
    if how == "datetime":
        return value.isoformat()
    if how == "mapping":
        return {str(k): jsonable(v) for k, v in value.items()}
    if how == "sequence":
        return [jsonable(v) for v in value]
    return value


class JSONText(str):
    """A JSON document already serialised (e.g. the text that was hashed): hub.store.bulk stores
    it as is instead of serialising the document again."""


def _default(value: Any) -> Any:
    """orjson's fallback for what it does not serialise itself (it does str, int, float, bool,
    None, dict, list, tuple, datetime and Enum): dataclasses as dicts of their fields, so that their
    keys get sorted like every dict's, other mappings and sets as jsonable() turns them."""
    how = _how(type(value))
    if type(how) is tuple:
        # a dataclass's own attribute dict holds exactly its fields (orjson sorts the keys): no copy
        fields = getattr(value, "__dict__", None)
        if fields is not None and len(fields) == len(how):
            return fields
        return {name: getattr(value, name) for name in how}
    if how == "mapping":
        return {str(k): v for k, v in value.items()}
    if how == "sequence":
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def _dumps(value: Any) -> str:
    """The canonical JSON text of ``jsonable(value)``: sorted keys, compact, UTF-8.

    orjson writes the same text as ``json.dumps(jsonable(value), sort_keys=True, separators=(",",
    ":"), ensure_ascii=False)`` several times faster, and walks dataclasses, enums and datetimes
    itself (no jsonable() copy first). What it refuses (integers beyond 64 bits, non-string keys,
    str/int subclasses) goes the json module's way, so the text, hence every stored hash, is the
    same either way."""
    try:
        return orjson.dumps(value, default=_default, option=_ORJSON_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(
            jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
        )


def _dumps_bytes(value: Any) -> bytes:
    """:func:`_dumps` as UTF-8 bytes (what is hashed), without a decode and re-encode."""
    try:
        return orjson.dumps(value, default=_default, option=_ORJSON_OPTIONS)
    except TypeError:
        return json.dumps(
            jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
        ).encode()


def digest(value: Any) -> str:
    """A stable 128-bit hash of a JSON-safe value."""
    return text_digest(_dumps(value))


def text_digest(text: str) -> str:
    """The hash :func:`digest` gives the value whose canonical JSON text is ``text``."""
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def payload_text(payload: Any) -> str:
    """The canonical JSON text of a raw payload: ``digest(jsonable(payload))`` hashes this text."""
    return _dumps(payload)


def content_digest(whole: Any, data: Any) -> tuple[JSONText, str]:
    """``(data as stored, digest([jsonable(whole), jsonable(data)]))``, ``data`` serialised once
    for both: the row's ``data`` column is written from that text (a :class:`JSONText`)."""
    data_bytes = _dumps_bytes(data)
    both = b"[" + _dumps_bytes(whole) + b"," + data_bytes + b"]"
    return JSONText(data_bytes, "utf-8"), hashlib.blake2b(both, digest_size=16).hexdigest()


def payload_doc(payload: Any) -> tuple[JSONText, str]:
    """``(payload_text(payload), text_digest of it)``, hashed from the serialised bytes."""
    raw = _dumps_bytes(payload)
    return JSONText(raw, "utf-8"), hashlib.blake2b(raw, digest_size=16).hexdigest()


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def platform_deadline_from(data: Mapping[str, Any] | None) -> PlatformDeadline | None:
    if not data:
        return None
    return PlatformDeadline(
        due_at=datetime.fromisoformat(data["due_at"]),
        action=data.get("action"),
        on_expiry=OnExpiry(data["on_expiry"]) if data.get("on_expiry") else None,
        party=Party(data["party"]) if data.get("party") else None,
    )


def dispute_from(data: Mapping[str, Any] | None) -> Dispute | None:
    if not data:
        return None
    return Dispute(
        kind=DisputeKind(data["kind"]),
        status=DisputeStatus(data["status"]),
        external_id=data.get("external_id"),
        subtype=data.get("subtype"),
        platform_status=data.get("platform_status"),
        opened_at=_dt(data.get("opened_at")),
        updated_at=_dt(data.get("updated_at")),
        appeal_open=bool(data.get("appeal_open")),
        note=data.get("note"),
        evidence=tuple(
            Evidence(
                kind=EvidenceKind(e["kind"]),
                name=e["name"],
                description=e.get("description", ""),
                content_type=e.get("content_type"),
                size=e.get("size"),
                sha256=e.get("sha256"),
                url=e.get("url"),
                added_at=_dt(e.get("added_at")),
                added_by=e.get("added_by"),
            )
            for e in data.get("evidence", ())
        ),
    )


def after_sale_data(case: AfterSale) -> dict[str, Any]:
    """The parts of an AfterSale that live in the row's ``data`` column.

    The values are the case's own (dataclasses, enums, datetimes inside): :func:`content_digest`
    serialises them in one pass, to the text ``jsonable()`` of them would give."""
    return {
        "facts": case.facts,
        "description": case.description,
        "warnings": list(case.warnings),
        "platform_deadline": case.platform_deadline,
        "dispute": case.dispute,
        "paid_fen": case.paid_fen,
    }


def after_sale_from_row(row: Any) -> AfterSale:
    """Rebuild the AfterSale from a stored ``after_sales`` row."""
    data = row.data or {}
    return AfterSale(
        external_id=row.external_id,
        order_external_id=row.order_external_id,
        line_external_id=row.line_external_id,
        kind=AfterSaleKind(row.kind),
        status=AfterSaleStatus(row.status),
        platform_status=row.platform_status,
        created_at=row.created_at,
        updated_at=row.platform_updated_at,
        reason=row.reason,
        refund_fen=row.refund_fen,
        paid_fen=data.get("paid_fen"),
        buyer=row.buyer,
        description=data.get("description"),
        version=row.version,
        return_waybill=row.return_waybill,
        facts=data.get("facts") or {},
        platform_deadline=platform_deadline_from(data.get("platform_deadline")),
        dispute=dispute_from(data.get("dispute")),
        warnings=tuple(data.get("warnings") or ()),
    )


def order_data(order: Order) -> dict[str, Any]:
    """The parts of an Order that live in the row's ``data`` column (as :func:`after_sale_data`)."""
    return {
        "lines": order.lines,
        "links": order.links,
        "facts": order.facts,
        "platform_deadline": order.platform_deadline,
        "warnings": list(order.warnings),
    }


def order_from_row(row: Any) -> Order:
    data = row.data or {}
    return Order(
        external_id=row.external_id,
        role=OrderRole(row.role),
        status=OrderStatus(row.status),
        platform_status=row.platform_status,
        created_at=row.created_at,
        updated_at=row.platform_updated_at,
        buyer=row.buyer,
        recipient_key=row.recipient_key,
        total_fen=row.total_fen,
        paid_fen=row.paid_fen,
        paid_at=row.paid_at,
        shipped_at=row.shipped_at,
        signed_at=row.signed_at,
        completed_at=row.completed_at,
        waybill=row.waybill,
        remark=row.remark,
        lines=tuple(OrderLine(**line) for line in data.get("lines", ())),
        links=tuple(
            OrderLink(**{**link, "sku_keys": tuple(link.get("sku_keys", ()))})
            for link in data.get("links", ())
        ),
        facts=data.get("facts") or {},
        platform_deadline=platform_deadline_from(data.get("platform_deadline")),
        warnings=tuple(data.get("warnings") or ()),
    )
