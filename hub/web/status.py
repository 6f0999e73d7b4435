"""Sync status per shop (last success, lag, errors, re-authorisation, quarantine), for the page, the
API and the metrics. Always scoped: an agent sees the shops they serve."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ..store.models import (
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


def _scoped(stmt: Any, col: Any, shop_ids: Collection[int] | None) -> Any:
    return stmt if shop_ids is None else stmt.where(col.in_(list(shop_ids) or [-1]))


def _run_json(run: Any) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "id": run.id,
        "status": run.status,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at and run.finished_at.isoformat(),
        "fetched": run.fetched,
        "new": run.new,
        "changed": run.changed,
        "unchanged": run.unchanged,
        "quarantined": run.quarantined,
        "errors": list(run.errors or []),
    }


async def sync_status(
    engine: AsyncEngine, shop_ids: Collection[int] | None, now: datetime
) -> list[dict[str, Any]]:
    """One entry per shop in scope: its last run, last success, checkpoints with lag, open cases,
    unresolved quarantine count, and whether it needs re-authorisation."""
    async with engine.connect() as conn:
        shops = (await conn.execute(_scoped(select(S), S.c.id, shop_ids).order_by(S.c.name))).all()
        ids = [s.id for s in shops]
        if not ids:
            return []
        last_ids = select(func.max(R.c.id)).where(R.c.shop_id.in_(ids)).group_by(R.c.shop_id)
        last = {r.shop_id: r for r in (await conn.execute(select(R).where(R.c.id.in_(last_ids)))).all()}
        ok_ids = (
            select(func.max(R.c.id)).where(R.c.shop_id.in_(ids), R.c.status == "ok").group_by(R.c.shop_id)
        )
        last_ok = {r.shop_id: r for r in (await conn.execute(select(R).where(R.c.id.in_(ok_ids)))).all()}
        runs: dict[int, int] = dict(
            (
                await conn.execute(
                    select(R.c.shop_id, func.count()).where(R.c.shop_id.in_(ids)).group_by(R.c.shop_id)
                )
            ).all()
        )
        checkpoints: dict[int, list[Any]] = {}
        for k in (await conn.execute(select(K).where(K.c.shop_id.in_(ids)).order_by(K.c.resource))).all():
            checkpoints.setdefault(k.shop_id, []).append(k)
        quarantine: dict[int, int] = dict(
            (
                await conn.execute(
                    select(Q.c.shop_id, func.count())
                    .where(Q.c.shop_id.in_(ids), Q.c.resolved_at.is_(None))
                    .group_by(Q.c.shop_id)
                )
            ).all()
        )
        open_cases: dict[int, int] = dict(
            (
                await conn.execute(
                    select(C.c.shop_id, func.count())
                    .where(C.c.shop_id.in_(ids), C.c.is_open.is_(True))
                    .group_by(C.c.shop_id)
                )
            ).all()
        )
    out = []
    for s in shops:
        cps = [
            {
                "resource": k.resource,
                "position_at": k.position_at.isoformat(),
                "lag_seconds": max(0, int((now - k.position_at).total_seconds())),
            }
            for k in checkpoints.get(s.id, [])
        ]
        ok = last_ok.get(s.id)
        out.append(
            {
                "shop": s.name,
                "platform": s.platform,
                "needs_reauth": bool(s.needs_reauth),
                "reauth_reason": s.reauth_reason,
                "last_run": _run_json(last.get(s.id)),
                "last_success_at": ok.finished_at.isoformat() if ok is not None and ok.finished_at else None,
                "checkpoints": cps,
                "lag_seconds": max((c["lag_seconds"] for c in cps), default=None),
                "runs": int(runs.get(s.id, 0)),
                "quarantined": int(quarantine.get(s.id, 0)),
                "open_cases": int(open_cases.get(s.id, 0)),
            }
        )
    return out
