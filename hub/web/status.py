"""Sync status per shop (last success, lag, errors, re-authorisation, quarantine), for the page, the
API and the metrics. Always scoped: an agent sees the shops they serve."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from ..store.status_repo import shop_sync_rows


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
    rows = await shop_sync_rows(engine, shop_ids)
    shops, last, last_ok, runs = rows.shops, rows.last, rows.last_ok, rows.runs
    checkpoints, quarantine, open_cases = rows.checkpoints, rows.quarantine, rows.open_cases
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
