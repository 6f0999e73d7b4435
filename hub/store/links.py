"""Links between a purchase and the sale it fulfils (17网 dropship order ↔ Taobao/PDD sale).

Plugins only give hints on the purchase (:class:`hub.domain.OrderLink`): the sale's order id read
from a remark, or a recipient + SKU + day to match on. The core resolves them across shops and
platforms here, so plugins never need to know each other.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..errors import ActionError, NotFoundError
from .base import tbl
from .models import EventRecord, OrderLinkRecord, OrderRecord
from .nextaction import refresh_chain

ORDERS = tbl(OrderRecord)
LINKS = tbl(OrderLinkRecord)
EVENTS = tbl(EventRecord)

MATCH_DAYS = 3  # a dropship purchase is placed within a few days of the sale it fulfils


def _sku_keys(lines: list[dict[str, Any]]) -> set[str]:
    keys: set[str] = set()
    for line in lines:
        for k in ("sku_id", "sku_name", "title"):
            if line.get(k):
                keys.add(str(line[k]).strip().lower())
    return keys


async def link(
    conn: AsyncConnection, purchase: Any, sale: Any, method: str, at: datetime, actor: str
) -> bool:
    """Link two order rows; False when already linked."""
    exists = (
        await conn.execute(
            select(LINKS.c.id).where(
                LINKS.c.purchase_order_id == purchase.id, LINKS.c.sale_order_id == sale.id
            )
        )
    ).first()
    if exists:
        return False
    await conn.execute(
        insert(LINKS).values(
            purchase_order_id=purchase.id, sale_order_id=sale.id, method=method, created_at=at
        )
    )
    for row, other in ((purchase, sale), (sale, purchase)):
        await conn.execute(
            insert(EVENTS).values(
                shop_id=row.shop_id,
                subject="order",
                external_id=row.external_id,
                at=at,
                kind="linked",
                actor=actor,
                summary=f"linked to {other.role} order {other.external_id} ({method})",
                data={"order": other.external_id, "role": other.role, "method": method},
            )
        )
    # the chain changed: both sides' cases now see each other's merchant deadlines
    await refresh_chain(conn, [(purchase.shop_id, purchase.external_id), (sale.shop_id, sale.external_id)])
    return True


async def resolve_links(conn: AsyncConnection) -> int:
    """Resolve the hints of every purchase not linked yet. Returns how many links were made."""
    linked = select(LINKS.c.purchase_order_id)
    purchases = (
        await conn.execute(select(ORDERS).where(ORDERS.c.role == "purchase", ORDERS.c.id.not_in(linked)))
    ).all()
    made = 0
    for p in purchases:
        for hint in (p.data or {}).get("links", ()):
            sale = None
            method = "remark"
            if hint.get("sale_external_id"):
                sale = (
                    await conn.execute(
                        select(ORDERS).where(
                            ORDERS.c.external_id == str(hint["sale_external_id"]), ORDERS.c.role == "sale"
                        )
                    )
                ).first()
            elif hint.get("recipient_key"):
                method = "match"
                lo, hi = p.created_at - timedelta(days=MATCH_DAYS), p.created_at + timedelta(days=1)
                cands = (
                    await conn.execute(
                        select(ORDERS).where(
                            and_(
                                ORDERS.c.recipient_key == hint["recipient_key"],
                                ORDERS.c.role == "sale",
                                ORDERS.c.created_at >= lo,
                                ORDERS.c.created_at <= hi,
                            )
                        )
                    )
                ).all()
                want = {str(k).strip().lower() for k in hint.get("sku_keys", ())}
                if want:
                    cands = [c for c in cands if want & _sku_keys((c.data or {}).get("lines", []))]
                sale = cands[0] if len(cands) == 1 else None  # ambiguous: leave it to a human
            if sale is not None and await link(conn, p, sale, method, p.platform_updated_at, "hub"):
                made += 1
                break
    return made


async def link_by_hand(
    conn: AsyncConnection, purchase_ref: str, sale_ref: str, at: datetime, actor: str
) -> bool:
    """Link a purchase to a sale given as ``[shop:]external_id`` each."""

    async def find(ref: str, role: str) -> Any:
        from .models import ShopRecord

        shops = tbl(ShopRecord)
        stmt = select(ORDERS).where(ORDERS.c.role == role)
        if ":" in ref:
            shop, ext = ref.split(":", 1)
            stmt = stmt.join(shops, shops.c.id == ORDERS.c.shop_id).where(shops.c.name == shop)
        else:
            ext = ref
        rows = (await conn.execute(stmt.where(ORDERS.c.external_id == ext))).all()
        if not rows:
            raise NotFoundError(f"no {role} order {ref!r}")
        if len(rows) > 1:
            raise ActionError(f"{ref!r} is ambiguous: prefix it with the shop name, SHOP:ORDER_ID")
        return rows[0]

    return await link(
        conn, await find(purchase_ref, "purchase"), await find(sale_ref, "sale"), "manual", at, actor
    )
