"""What batch work reads in one go: the selected cases' amounts and platforms (to confirm a
money-moving batch with its total before anything is sent)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from .base import tbl
from .models import AfterSaleRecord, ShopRecord

C = tbl(AfterSaleRecord)
S = tbl(ShopRecord)


async def selected_cases(
    engine: AsyncEngine, ids: Sequence[int], shop_ids: Collection[int] | None
) -> dict[int, Any]:
    """The selected cases within the caller's scope, by id: ``id, external_id, shop, platform,
    refund_fen, is_open``. An id outside the scope is simply absent (never a glimpse of it)."""
    if not ids:
        return {}
    stmt = (
        select(
            C.c.id,
            C.c.external_id,
            C.c.refund_fen,
            C.c.is_open,
            S.c.name.label("shop"),
            S.c.platform.label("platform"),
        )
        .join(S, S.c.id == C.c.shop_id)
        .where(C.c.id.in_(list(ids)))
    )
    if shop_ids is not None:
        stmt = stmt.where(C.c.shop_id.in_(list(shop_ids) or [-1]))
    async with engine.connect() as conn:
        return {int(r.id): r for r in (await conn.execute(stmt)).all()}
