"""Domain objects to JSON-safe dicts and back, and the content hashes that make re-syncs write nothing."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
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


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest(value: Any) -> str:
    """A stable 128-bit hash of a JSON-safe value."""
    return text_digest(_dumps(value))


def text_digest(text: str) -> str:
    """The hash :func:`digest` gives the value whose canonical JSON text is ``text``."""
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def payload_text(payload: Any) -> str:
    """The canonical JSON text of a raw payload (``digest(jsonable(payload))`` hashes the same text).

    Platform payloads are almost always plain JSON already: they are dumped directly, and only a
    payload holding other types (datetimes, enums, tuples as keys ...) takes the jsonable walk."""
    try:
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return _dumps(jsonable(payload))


def content_digest(whole: Any, data: Any) -> tuple[Any, str]:
    """``(data as stored, digest([whole, data]))`` with ``data`` serialised once for both.

    The stored value is the canonical JSON text (a :class:`JSONText`): the row's ``data`` column
    is written from it without a second serialisation."""
    data_text = _dumps(data)
    return JSONText(data_text), text_digest(f"[{_dumps(whole)},{data_text}]")


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
    """The parts of an AfterSale that live in the row's ``data`` column."""
    return {
        "facts": jsonable(case.facts),
        "description": case.description,
        "warnings": list(case.warnings),
        "platform_deadline": jsonable(case.platform_deadline),
        "dispute": jsonable(case.dispute),
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
    return {
        "lines": jsonable(order.lines),
        "links": jsonable(order.links),
        "facts": jsonable(order.facts),
        "platform_deadline": jsonable(order.platform_deadline),
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
