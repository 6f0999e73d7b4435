"""Small reads the workbench pages and API need: a database ping for ``/healthz``, the shop names
in an agent's scope, cases' stored data by id, and an action recorded under an idempotency key."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from . import actions as action_repo
from .models import AfterSaleRecord, ShopRecord

S = ShopRecord.__table__
AS = AfterSaleRecord.__table__


async def ping(engine: AsyncEngine) -> None:
    """Raise when the database cannot be reached."""
    async with engine.connect() as conn:
        await conn.execute(select(1))


async def shop_names(engine: AsyncEngine, shop_ids: Collection[int] | None) -> list[str]:
    """The names of the shops in scope (``None``: every shop), sorted; an empty scope has none."""
    stmt = select(S.c.name).order_by(S.c.name)
    if shop_ids is not None:
        stmt = stmt.where(S.c.id.in_(list(shop_ids) or [-1]))
    async with engine.connect() as conn:
        return list((await conn.execute(stmt)).scalars())


async def case_data(engine: AsyncEngine, ids: Sequence[int]) -> list[tuple[int, Any]]:
    """``(id, data)`` of the given cases (read by primary key; callers pass a page of ids)."""
    if not ids:
        return []
    async with engine.connect() as conn:
        rows = (await conn.execute(select(AS.c.id, AS.c.data).where(AS.c.id.in_(list(ids))))).all()
    return [(int(r[0]), r[1]) for r in rows]


async def action_by_key(engine: AsyncEngine, case_id: int, action: str, key: str) -> Any:
    """The action recorded under ``key`` for this case and action, or None."""
    async with engine.connect() as conn:
        return await action_repo.action_by_key(conn, case_id, action, key)
