"""Reads behind the sync status page, its API and ``/metrics``: per shop, the last run, the last
successful run, run counts, checkpoints, unresolved quarantine and open cases; and the run, error
and action totals the metrics page reports. The web layer shapes these rows; the SQL lives here."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from .models import (
    ActionRecord,
    AfterSaleRecord,
    QuarantineRecord,
    ShopRecord,
    SyncCheckpointRecord,
    SyncRunRecord,
)

S = ShopRecord.__table__
R = SyncRunRecord.__table__
K = SyncCheckpointRecord.__table__
Q = QuarantineRecord.__table__
C = AfterSaleRecord.__table__
A = ActionRecord.__table__


def _scoped(stmt: Any, col: Any, shop_ids: Collection[int] | None) -> Any:
    # an empty scope matches nothing (an id that cannot exist), never everything
    return stmt if shop_ids is None else stmt.where(col.in_(list(shop_ids) or [-1]))


@dataclass
class ShopSyncRows:
    """The rows :func:`shop_sync_rows` reads, keyed by shop id where per shop."""

    shops: list[Any] = field(default_factory=list)  #: shop rows in scope, by name
    last: dict[int, Any] = field(default_factory=dict)  #: the latest run
    last_ok: dict[int, Any] = field(default_factory=dict)  #: the latest run with status "ok"
    runs: dict[int, int] = field(default_factory=dict)  #: number of runs
    checkpoints: dict[int, list[Any]] = field(default_factory=dict)  #: by resource
    quarantine: dict[int, int] = field(default_factory=dict)  #: unresolved quarantined records
    open_cases: dict[int, int] = field(default_factory=dict)


async def shop_sync_rows(engine: AsyncEngine, shop_ids: Collection[int] | None) -> ShopSyncRows:
    """Everything the sync status needs for the shops in scope (``None``: every shop), in one
    connection."""
    out = ShopSyncRows()
    async with engine.connect() as conn:
        out.shops = list((await conn.execute(_scoped(select(S), S.c.id, shop_ids).order_by(S.c.name))).all())
        ids = [s.id for s in out.shops]
        if not ids:
            return out
        last_ids = select(func.max(R.c.id)).where(R.c.shop_id.in_(ids)).group_by(R.c.shop_id)
        out.last = {r.shop_id: r for r in (await conn.execute(select(R).where(R.c.id.in_(last_ids)))).all()}
        ok_ids = (
            select(func.max(R.c.id)).where(R.c.shop_id.in_(ids), R.c.status == "ok").group_by(R.c.shop_id)
        )
        out.last_ok = {r.shop_id: r for r in (await conn.execute(select(R).where(R.c.id.in_(ok_ids)))).all()}
        out.runs = dict(
            (
                await conn.execute(
                    select(R.c.shop_id, func.count()).where(R.c.shop_id.in_(ids)).group_by(R.c.shop_id)
                )
            ).all()
        )
        for k in (await conn.execute(select(K).where(K.c.shop_id.in_(ids)).order_by(K.c.resource))).all():
            out.checkpoints.setdefault(k.shop_id, []).append(k)
        out.quarantine = dict(
            (
                await conn.execute(
                    select(Q.c.shop_id, func.count())
                    .where(Q.c.shop_id.in_(ids), Q.c.resolved_at.is_(None))
                    .group_by(Q.c.shop_id)
                )
            ).all()
        )
        out.open_cases = dict(
            (
                await conn.execute(
                    select(C.c.shop_id, func.count())
                    .where(C.c.shop_id.in_(ids), C.c.is_open.is_(True))
                    .group_by(C.c.shop_id)
                )
            ).all()
        )
    return out


@dataclass
class MetricsRows:
    """The totals :func:`metrics_rows` reads."""

    shops: dict[int, tuple[str, str]]  #: id -> (name, platform)
    #: (shop_id, status, runs, fetched, new, changed, unchanged, quarantined) per shop and status
    run_rows: list[Any]
    err_rows: list[Any]  #: (shop_id, errors) of every run that did not end "ok"
    action_rows: list[Any]  #: (action, status, count)


async def metrics_rows(engine: AsyncEngine) -> MetricsRows:
    """Run, record, error and action totals over every shop, in one connection."""
    async with engine.connect() as conn:
        shops = {
            r.id: (r.name, r.platform) for r in (await conn.execute(select(S.c.id, S.c.name, S.c.platform)))
        }
        run_rows = (
            await conn.execute(
                select(
                    R.c.shop_id,
                    R.c.status,
                    func.count(),
                    func.coalesce(func.sum(R.c.fetched), 0),
                    func.coalesce(func.sum(R.c.new), 0),
                    func.coalesce(func.sum(R.c.changed), 0),
                    func.coalesce(func.sum(R.c.unchanged), 0),
                    func.coalesce(func.sum(R.c.quarantined), 0),
                ).group_by(R.c.shop_id, R.c.status)
            )
        ).all()
        # error lists are JSON arrays; counted by the caller rather than with a dialect-specific JSON length
        err_rows = (await conn.execute(select(R.c.shop_id, R.c.errors).where(R.c.status != "ok"))).all()
        action_rows = (
            await conn.execute(select(A.c.action, A.c.status, func.count()).group_by(A.c.action, A.c.status))
        ).all()
    return MetricsRows(
        shops=shops, run_rows=list(run_rows), err_rows=list(err_rows), action_rows=list(action_rows)
    )
