"""``hub demo``'s ERP documents and watched parcel: a file sink in the demo folder, the 快递100
sandbox, and one return parcel followed to its signature."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from ..clock import format_cst, utcnow
from ..erp.repo import add_sink, case_documents
from ..store.base import tbl
from ..store.models import AfterSaleRecord
from .records import ParcelRecord
from .sandbox import Kuaidi100Sandbox

PARCELS, CASES = tbl(ParcelRecord), tbl(AfterSaleRecord)
SINK = "demo-erp"


async def start_erp_and_tracking_demo(hub: Any, home: Path) -> Kuaidi100Sandbox:
    """Before the demo's sync: a file sink writing to ``home/erp`` (the sync's ERP pass fills it)
    and the 快递100 sandbox, with the watch pointed at it."""
    await add_sink(hub.engine, SINK, "file", {"dir": str(home / "erp")}, [], [], utcnow(), ["file"])
    box = Kuaidi100Sandbox()
    await box.serve()
    os.environ.update(
        HUB_KUAIDI100_URL=box.url,
        HUB_KUAIDI100_CUSTOMER=box.customer,
        HUB_KUAIDI100_KEY=box.key,
        HUB_TRACKER_RATE=os.environ.get("HUB_TRACKER_RATE", "50"),  # a sandbox on loopback
    )
    os.environ.setdefault("HUB_PARCEL_COMPANY", "yuantong")
    return box


async def show_erp_and_tracking_demo(hub: Any, home: Path, box: Kuaidi100Sandbox) -> None:
    """After the sync: print the ERP files, then follow one return parcel through the sandbox."""
    from dataclasses import replace

    from ..domain import Party
    from ..store.models import ShopRecord
    from .watcher import run_watch, watch_settings

    shops = tbl(ShopRecord)
    sale_side = [pid for pid, info in hub.registry.platforms.items() if info.merchant_side is not Party.BUYER]

    folder = home / "erp"
    files = sorted(folder.glob("*.csv")) if folder.exists() else []
    print(f"\nERP documents (file sink {SINK!r}) in {folder}:")
    for f in files:
        rows = max(len(f.read_text(encoding="utf-8-sig").splitlines()) - 1, 0)
        print(f"  {f.name}: {rows} rows")
    if not files:
        print("  (none: no case reached an ERP step)")
    async with hub.engine.connect() as conn:
        parcel = (
            await conn.execute(
                select(PARCELS.c.waybill, PARCELS.c.company, PARCELS.c.after_sale_id)
                .join(CASES, CASES.c.id == PARCELS.c.after_sale_id)
                .join(shops, shops.c.id == CASES.c.shop_id)
                .where(
                    PARCELS.c.role == "return",
                    CASES.c.status == "return_shipped",
                    shops.c.platform.in_(sale_side),
                )
                .order_by(PARCELS.c.id)
            )
        ).first()
    if parcel is None:
        print("\nLogistics watch: no return parcel on its way in the demo")
        return
    now = box.clock.now()
    box.add_parcel(
        parcel.waybill,
        parcel.company or "yuantong",
        [
            (timedelta(0), "1", "【杭州市】快件已揽收"),
            (timedelta(hours=20), "0", "快件已到达【杭州转运中心】"),
            (timedelta(hours=30), "5", "【杭州市】快递员正在派件"),
            (timedelta(hours=32), "3", "已签收，签收人：仓库前台"),
        ],
        start=now - timedelta(hours=33),
        area="浙江,杭州市",
    )
    # query it on this pass, whatever the sync's pass did
    async with hub.engine.begin() as conn:
        await conn.execute(
            update(PARCELS).where(PARCELS.c.waybill == parcel.waybill).values(next_poll_at=None)
        )
    await run_watch(hub, settings=replace(watch_settings(hub), per_pass=10_000))
    async with hub.engine.connect() as conn:
        p = (await conn.execute(select(PARCELS).where(PARCELS.c.waybill == parcel.waybill))).one()
    print(f"\nLogistics watch (快递100 sandbox): return parcel {p.waybill} of case {p.after_sale_id}")
    for t in reversed(p.traces or []):
        print(f"  {format_cst(datetime.fromisoformat(t['at'])) if t['at'] else '':<19}  {t['context']}")
    due = format_cst(p.action_due_at) if p.action_due_at else "-"
    print(f"  state {p.state}{' (final)' if p.final else ''}; next action: {p.action or 'none'} by {due}")
    docs = await case_documents(hub.engine, int(p.after_sale_id))
    if docs:
        print(f"  its ERP documents: {', '.join(d['number'] for d in docs)}")
