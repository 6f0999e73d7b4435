"""The daily ledger file written by the workers: with ``HUB_LEDGER_DIR`` set, ``hub worker`` writes
yesterday's (Beijing) ledger there once, the same file ``hub ledger daily`` writes; without it,
no such task is queued."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from hub.clock import utcnow
from hub.ledger import yesterday
from hub.store.models import WorkerTaskRecord
from tests.testplatform.fleet import FleetServer

from .workerkit import add_fleet_shops, ok_hub, query

TASKS = WorkerTaskRecord.__table__


async def test_the_worker_writes_yesterdays_ledger_once(db_url: str, tmp_path: Path) -> None:
    fleet = FleetServer(latency=0.0)
    fleet.add_shops(1, n_cases=5, days=3)
    await fleet.start()
    home, folder = tmp_path / "home", tmp_path / "finance"
    try:
        await ok_hub(db_url, home, "db", "upgrade")
        await add_fleet_shops(db_url, home, fleet, "sync_every=1h")
        await ok_hub(db_url, home, "worker", "--burst")  # no HUB_LEDGER_DIR: no ledger task
        kinds = [t.kind for t in await query(db_url, select(TASKS.c.kind))]
        assert "ledger_daily" not in kinds

        await ok_hub(db_url, home, "worker", "--burst", HUB_LEDGER_DIR=str(folder))
        day = yesterday(utcnow())
        path = folder / f"ledger-{day.isoformat()}.csv"
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        assert lines[0].startswith("日期,店铺,平台") and lines[1].startswith(f"{day.isoformat()},shop-000,")
        # the same bytes `hub ledger daily` writes for that day
        other = tmp_path / "by-hand"
        await ok_hub(db_url, home, "ledger", "daily", "--dir", str(other), "--date", day.isoformat())
        assert (other / path.name).read_bytes() == path.read_bytes()

        # the file is there: the next worker run queues no second one
        await ok_hub(db_url, home, "worker", "--burst", HUB_LEDGER_DIR=str(folder))
        done = [
            t for t in await query(db_url, select(TASKS.c.kind, TASKS.c.status)) if t.kind == "ledger_daily"
        ]
        assert [t.status for t in done] == ["ok"]
    finally:
        await fleet.stop()
