"""Seeding the store with after-sales cases of every kind, as a sync would (for the ERP and
logistics tests), and running ``hub`` in-process the way a user does."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hub.cli import main
from hub.domain import (
    AfterSale,
    AfterSaleKind,
    AfterSaleStatus,
    Dispute,
    DisputeKind,
    DisputeStatus,
    Order,
    OrderLine,
    OrderStatus,
    RawRecord,
)
from hub.store.base import tbl
from hub.store.engine import create_engine
from hub.store.models import AfterSaleRecord, ShopRecord
from hub.store.upsert import upsert_batch
from tests.testplatform.adapter import RULES

NOW = datetime.now(UTC).replace(microsecond=0)
T0 = NOW - timedelta(days=3)
SETTINGS = {"api_url": "http://127.0.0.1:9/api", "token": "t"}


def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HUB_PLUGINS", "tests.testplatform")
    monkeypatch.setenv("HUB_DISABLED_PLUGINS", "taobao,pinduoduo,seventeen,jd")
    monkeypatch.setenv("HUB_LOG_FORMAT", "json")
    monkeypatch.setenv("HUB_LOG_LEVEL", "error")
    monkeypatch.setenv("HUB_ERP_RETRY_WAIT", "0")


def hub(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> tuple[int, str, str]:
    """``hub --database URL ARGS`` in-process: exit status, stdout, stderr."""
    capsys.readouterr()
    code = main(["--database", url, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def order(ext: str, **kw: Any) -> Order:
    base: dict[str, Any] = dict(
        external_id=ext,
        status=OrderStatus.SHIPPED,
        platform_status="SHIPPED",
        created_at=T0,
        updated_at=T0,
        paid_at=T0,
        shipped_at=T0,
        buyer="买家甲",
        paid_fen=9900,
        lines=(
            OrderLine(
                external_id=f"{ext}-1", title="连衣裙", sku_id="SKU-RED-M", sku_name="红色 M", quantity=2
            ),
        ),
    )
    base.update(kw)
    return Order(**base)


def case(
    ext: str, order_ext: str, kind: AfterSaleKind, status: AfterSaleStatus, minute: int, **kw: Any
) -> AfterSale:
    base: dict[str, Any] = dict(
        external_id=ext,
        order_external_id=order_ext,
        kind=kind,
        status=status,
        platform_status=status.value,
        created_at=T0,
        updated_at=T0 + timedelta(minutes=minute),
        refund_fen=5000,
        buyer="买家甲",
        reason="尺码不合适",
    )
    base.update(kw)
    return AfterSale(**base)


async def put(url: str, shop: str, objs: list[Order | AfterSale]) -> None:
    """Write the records through the sync's upsert, in the order given (later ones are newer)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            sid = (
                await conn.execute(select(tbl(ShopRecord).c.id).where(tbl(ShopRecord).c.name == shop))
            ).scalar()
            if sid is None:
                res = await conn.execute(
                    tbl(ShopRecord)
                    .insert()
                    .values(
                        platform="acme",
                        name=shop,
                        settings=SETTINGS,
                        needs_reauth=False,
                        created_at=T0,
                        updated_at=T0,
                    )
                )
                sid = int(res.inserted_primary_key[0])
        for o in objs:
            rec = RawRecord(
                resource="order" if isinstance(o, Order) else "case",
                external_id=o.external_id,
                payload={"id": o.external_id, "v": o.updated_at.isoformat(), "s": o.status.value},
                updated_at=o.updated_at,
            )
            async with engine.begin() as conn:
                await upsert_batch(
                    conn,
                    shop_id=sid,
                    records=[rec],
                    mapper=lambda _r, o=o: o,
                    rules=RULES,
                    settings={},
                    now=NOW,
                )
    finally:
        await engine.dispose()


async def case_ids(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(tbl(AfterSaleRecord).c.external_id, tbl(AfterSaleRecord).c.id))
            return {e: int(i) for e, i in rows}
    finally:
        await engine.dispose()


K, S = AfterSaleKind, AfterSaleStatus


def seed_erp(url: str) -> dict[str, int]:
    """A return that went all the way (quality fault), a refund-only and a price difference that
    succeeded, an exchange reshipped, a reship agreed, a return under a platform dispute."""
    objs: list[Order | AfterSale] = [order(f"O{i}") for i in range(1, 7)]
    objs += [
        case("C1", "O1", K.RETURN_REFUND, S.AWAITING_RETURN, 1, reason="质量问题：开线"),
        case("C1", "O1", K.RETURN_REFUND, S.RETURN_SHIPPED, 2, reason="质量问题：开线", return_waybill="YT1"),
        case("C1", "O1", K.RETURN_REFUND, S.SUCCEEDED, 3, reason="质量问题：开线", return_waybill="YT1"),
        case("C2", "O2", K.REFUND_ONLY, S.SUCCEEDED, 1, refund_fen=1200),
        case("C3", "O3", K.COMPENSATION, S.SUCCEEDED, 1, refund_fen=800),
        case("C4", "O4", K.EXCHANGE, S.RESHIPPED, 1, refund_fen=0),
        case("C5", "O5", K.RESHIP, S.AWAITING_RESHIP, 1, refund_fen=0),
        case(
            "C6",
            "O6",
            K.RETURN_REFUND,
            S.AWAITING_RETURN,
            1,
            dispute=Dispute(kind=DisputeKind.INTERVENTION, status=DisputeStatus.UNDER_REVIEW),
        ),
        case("C7", "O6", K.RETURN_REFUND, S.REQUESTED, 1),  # not agreed yet: no document
        # agreed, then closed without a parcel: only its history says it was registered
        case("C8", "O6", K.RETURN_REFUND, S.AWAITING_RETURN, 1),
        case("C8", "O6", K.RETURN_REFUND, S.CLOSED, 2),
    ]
    asyncio.run(put(url, "shop1", objs))
    return asyncio.run(case_ids(url))
