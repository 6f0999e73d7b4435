"""Small builders of raw payloads, the shape ``snapshot.build`` gives."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hub.domain import RawRecord
from plugins.seventeen.columns import FileKind
from plugins.seventeen.importer import ImportedFile, ImportedRow
from plugins.seventeen.snapshot import build


def order_row(**kw: str) -> dict[str, str]:
    row = {
        "order_id": "1726110100001",
        "created_at": "2026-11-01 10:00:00",
        "paid_at": "2026-11-01 10:05:00",
        "shipped_at": "2026-11-02 10:00:00",
        "status": "已发货",
        "style_no": "A8821",
        "title": "碎花连衣裙",
        "color": "黑色",
        "size": "M",
        "quantity": "1",
        "unit_price": "58.00",
        "waybill": "ZT100200300400",
        "recipient": "张 伟",
        "phone": "138-0013-1234",
        "remark": "淘宝 4000000000000001",
    }
    row.update(kw)
    return {k: v for k, v in row.items() if v is not None}


def return_row(**kw: str) -> dict[str, str]:
    row = {
        "return_id": "TH1",
        "order_id": "1726110100001",
        "applied_at": "2026-11-05 09:00:00",
        "status": "待审核",
        "style_no": "A8821",
        "color": "黑色",
        "size": "M",
        "quantity": "1",
    }
    row.update(kw)
    return row


def records(
    orders: list[list[dict[str, str]]],
    returns: list[dict[str, str]] = (),  # type: ignore[assignment]
    ledger: list[dict[str, Any]] = (),
) -> tuple[dict[str, RawRecord], dict[str, RawRecord]]:  # type: ignore[assignment]
    files = [
        ImportedFile(
            "o.csv",
            FileKind.PURCHASE,
            "utf-8",
            tuple(ImportedRow(i + 2, r) for i, r in enumerate(r for rows in orders for r in rows)),
        )
    ]
    if returns:
        files.append(
            ImportedFile(
                "r.csv", FileKind.RETURN, "utf-8", tuple(ImportedRow(i + 2, r) for i, r in enumerate(returns))
            )
        )
    snap = build(files, list(ledger))
    return snap.purchases, snap.returns


def entry(
    action: str,
    external_id: str,
    at: datetime,
    resource: str = "purchase_return",
    order_id: str = "1726110100001",
    **params: Any,
) -> dict[str, Any]:
    return {
        "at": at.astimezone(UTC).isoformat(),
        "action": action,
        "resource": resource,
        "external_id": external_id,
        "order_id": order_id,
        "params": params,
        "actor": "t",
        "key": f"{action}{at}",
    }
