"""`hub worker`, `hub schedule` and `hub doctor` through the command line, on SQLite and PostgreSQL,
against a fleet of sandbox shops; and the lease's fencing of a sync whose lease was taken over."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.clock import utcnow
from hub.store.models import (
    AfterSaleRecord,
    ShopRecord,
    SyncCheckpointRecord,
    SyncRunRecord,
    WorkerTaskRecord,
)
from hub.sync import leases
from hub.sync.engine import sync_one_shop
from hub.testing.fake_server import FakeClock
from hub.web.metrics import RequestCounters, render_metrics
from tests import testplatform
from tests.testplatform.fleet import FleetServer
from tests.testplatform.server import TOKEN, AcmeServer

from .workerkit import Background, add_fleet_shops, ok_hub, query, run_hub

TASKS = WorkerTaskRecord.__table__
RUNS = SyncRunRecord.__table__


async def test_worker_syncs_every_shop_once_per_period(db_url: str, tmp_path: Path) -> None:
    fleet = FleetServer(latency=0.0)
    fleet.add_shops(3, n_cases=30, days=10)
    await fleet.start()
    home = tmp_path / "home"
    try:
        await ok_hub(db_url, home, "db", "upgrade")
        await add_fleet_shops(db_url, home, fleet, "sync_every=1h")
        out = await ok_hub(db_url, home, "worker", "--burst", "--concurrency", "2")
        assert "hub worker ready: 2 task slots" in out
        runs = await query(db_url, select(RUNS.c.status))
        assert sorted(r.status for r in runs) == ["ok"] * 3
        cases = await query(db_url, select(func.count()).select_from(AfterSaleRecord.__table__))
        assert cases[0][0] == 90
        tasks = await query(
            db_url, select(TASKS.c.kind, TASKS.c.status, TASKS.c.started_at, TASKS.c.queued_at)
        )
        assert sorted((t.kind, t.status) for t in tasks) == [("sync", "ok")] * 3
        assert all(t.started_at >= t.queued_at for t in tasks)

        # within the period nothing is due: a second worker run syncs nothing
        await ok_hub(db_url, home, "worker", "--burst")
        assert len(await query(db_url, select(RUNS.c.id))) == 3
        # `hub schedule --now` enqueues every shop once; again, nothing (already waiting)
        assert "3 sync(s) enqueued" in await ok_hub(db_url, home, "schedule", "--now")
        assert "0 sync(s) enqueued" in await ok_hub(db_url, home, "schedule", "--now")
        await ok_hub(db_url, home, "worker", "--burst", "--concurrency", "3")
        assert len(await query(db_url, select(RUNS.c.id).where(RUNS.c.status == "ok"))) == 6
        assert fleet.overlaps() == []

        from hub.store.engine import create_engine

        engine = create_engine(db_url)
        try:
            text = await render_metrics(engine, utcnow(), RequestCounters())
        finally:
            await engine.dispose()
        assert 'hub_queue_depth{kind="sync"} 0' in text
        assert 'hub_task_latency_seconds_count{kind="sync"} 6' in text
        assert 'hub_tasks_total{kind="sync",outcome="ok"} 6' in text
        assert 'hub_lease_takeovers_total{shop="shop-000",platform="acme"} 0' in text
    finally:
        await fleet.stop()


async def test_a_second_worker_on_sqlite_is_refused(tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    home = tmp_path / "home"
    await ok_hub(db, home, "db", "upgrade")
    first = await Background.start(db, home, tmp_path / "logs" / "w1", "worker", "--tick", "0.5")
    try:
        await first.wait_for_output("hub worker ready")
        code, _out, err = await run_hub(db, home, "worker", "--burst")
        assert code == 1
        assert f"another hub worker (pid {first.proc.pid}) is already running on the SQLite database" in err
        assert "use PostgreSQL to run several" in err
        assert "Traceback" not in err
        assert await first.stop() == 0
        assert "hub worker stopped" in first.stdout()
    finally:
        await first.kill()
    # once it stopped, a worker starts again
    await ok_hub(db, home, "worker", "--burst")


@pytest.mark.parametrize("value", ["soon", "0s", "5"])
async def test_sync_every_is_checked(tmp_path: Path, value: str) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    home = tmp_path / "home"
    await ok_hub(db, home, "db", "upgrade")
    code, _out, err = await run_hub(
        db, home, "shop", "add", "acme", "a", "--set", "api_url=http://x", "--set", "token=t",
        "--set", f"sync_every={value}",
    )  # fmt: skip
    assert code == 2 and "sync_every" in err and "Traceback" not in err


async def test_worker_options_are_checked(tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    home = tmp_path / "home"
    code, _out, err = await run_hub(db, home, "worker", "--concurrency", "0")
    assert code == 2 and "--concurrency must be at least 1" in err
    code, _out, err = await run_hub(db, home, "worker", "--burst")
    assert code == 2 and "hub db upgrade" in err


async def test_doctor(tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    home = tmp_path / "home"
    fleet = FleetServer(latency=0.0, clock=FakeClock(utcnow()))
    fleet.add_shops(2, n_cases=1, days=1)
    await fleet.start()
    try:
        code, out, _err = await run_hub(db, home, "doctor")
        assert code == 1
        assert "FAIL migrations: at none, latest is" in out
        await ok_hub(db, home, "db", "upgrade")
        await add_fleet_shops(db, home, fleet)
        code, out, err = await run_hub(db, home, "doctor")
        assert code == 0, out + err
        lines = out.splitlines()
        assert lines[0].startswith("ok   database: sqlite+aiosqlite:///") and "reachable" in lines[0]
        assert lines[1].startswith("ok   migrations: at head")
        assert lines[2] == "ok   plugins: 1 platform(s): acme"
        assert "ok   shop shop-000 credentials: accepted by acme" in lines
        assert any(line.startswith("ok   shop shop-001 clock: acme is ") for line in lines)

        # a rejected token, a skewed platform clock: one failing line each, exit 1
        await ok_hub(db, home, "shop", "set", "shop-000", "--set", "token=wrong")
        fleet.clock.advance(timedelta(minutes=10))
        code, out, err = await run_hub(db, home, "doctor")
        assert code == 1 and "2 check(s) failed" in err
        assert any(
            line.startswith("FAIL shop shop-000 credentials: rejected by acme") for line in out.splitlines()
        )
        clock = next(
            line for line in out.splitlines() if line.startswith("FAIL shop shop-001 clock: acme is ")
        )
        # the sandbox clock stands still while ours runs on: 10 minutes less the test's seconds
        assert 500 < float(clock.split(" is ")[1].split("s ")[0]) <= 600 and "ahead" in clock
        code, out, _err = await run_hub(db, home, "doctor", "--max-skew", "15m")
        assert code == 1 and "ok   shop shop-001 clock" in out

        # a secret read from a variable that is not set: named, no call made
        await ok_hub(db, home, "shop", "set", "shop-000", "--set", "token=env:ACME_TOKEN_UNSET")
        code, out, _err = await run_hub(db, home, "doctor")
        assert "FAIL shop shop-000 credentials: shop shop-000: setting token reads $ACME_TOKEN_UNSET" in out
    finally:
        await fleet.stop()


async def test_doctor_names_an_unreachable_database(tmp_path: Path) -> None:
    db = "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    code, out, _err = await run_hub(db, tmp_path / "home", "doctor")
    assert code == 1
    assert out.startswith("FAIL database: postgresql+asyncpg://nobody@127.0.0.1:1/none cannot be reached")
    assert len(out.splitlines()) == 1


async def test_a_sync_whose_lease_was_taken_over_cannot_commit(make_hub, db_url: str) -> None:
    """Fencing: another process takes the shop over while this one fetches a window (as if this one
    had been paused past its lease); this one's next commit finds a newer epoch and rolls back."""
    hub = make_hub(testplatform)
    server = AcmeServer()
    server.populate(n_cases=60, days=6)
    plain = server.handle
    taken: list[int] = []
    before: list[Any] = []

    async def handle(request):  # type: ignore[no-untyped-def]
        response = await plain(request)
        if len(server.calls_to("orders.list")) == 3 and not taken:
            # another host's worker: its lease lasts, this one cannot reclaim it
            taken.append(1)
            assert await leases.acquire(
                hub.engine, shop_id, hub.now() + leases.LEASE * 2, owner="elsewhere:1:x"
            )
            async with hub.engine.connect() as conn:  # what was committed before the takeover
                before.extend((await conn.execute(select(SyncCheckpointRecord.__table__))).all())
        return response

    server.handle = handle  # type: ignore[method-assign]
    url = await server.serve()
    try:
        from hub.store.shops import add_shop, get_shop_row, shop_from_row

        info = hub.registry.info("acme")
        shop_id = await add_shop(hub.engine, info, "fenced", {"api_url": url + "/api", "token": TOKEN})
        shop = shop_from_row(await get_shop_row(hub.engine, "fenced"))
        summary = await sync_one_shop(hub, shop, since=server.clock.now() - timedelta(days=6))
        assert taken and summary.status == "failed"
        assert any("passed to another process; nothing was committed" in e for e in summary.errors)
        async with hub.engine.connect() as conn:
            points = (await conn.execute(select(SyncCheckpointRecord.__table__))).all()
            shop_row = (await conn.execute(select(ShopRecord.__table__))).one()
        # what was committed before the takeover stays; nothing fetched after it was committed
        # (windows are fetched ahead and small ones committed together, so how far that was
        # depends on the grouping, not on the fence)
        assert [(p.resource, p.position_at) for p in points] == [(p.resource, p.position_at) for p in before]
        assert shop_row.lease_owner == "elsewhere:1:x" and shop_row.lease_epoch == 2
        assert shop_row.lease_takeovers == 1
    finally:
        await server.stop()


async def test_the_fleet_sandbox_sees_overlapping_syncs() -> None:
    """The overlap record the worker tests rely on does catch two syncs of one shop at once."""
    import asyncio

    import aiohttp

    fleet = FleetServer(latency=0.01)
    fleet.add_shops(2, n_cases=1, days=1)
    await fleet.start()
    try:
        url = fleet.shop_settings("shop-000")["api_url"]

        async def session(sid: str, calls: int, delay: float) -> None:
            await asyncio.sleep(delay)
            async with aiohttp.ClientSession() as http:
                for _ in range(calls):
                    await http.post(
                        url, json={"api": "now"}, headers={"X-Token": TOKEN, "X-Acme-Session": sid}
                    )

        await session("a", 3, 0)
        await session("b", 3, 0)
        assert fleet.overlaps() == []  # one after the other
        await asyncio.gather(session("c", 5, 0), session("d", 2, 0.02))
        found = fleet.overlaps()
        assert [(o.shop, o.first, o.second) for o in found] == [("shop-000", "c", "d")]
    finally:
        await fleet.stop()


async def test_a_killed_sqlite_worker_restarts_its_task(tmp_path: Path) -> None:
    """SQLite: the worker is SIGKILLed mid-window; the next one re-queues the task it was running
    and ends with exactly the data of a clean `hub sync`."""
    import signal

    from .workerkit import snapshot

    fleet = FleetServer(latency=0.0)
    fleet.add_shops(2, n_cases=40, days=12)
    await fleet.start()
    db = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    reference = f"sqlite+aiosqlite:///{tmp_path / 'reference.db'}"
    home = tmp_path / "home"
    try:
        for url in (db, reference):
            await ok_hub(url, home, "db", "upgrade")
        await add_fleet_shops(reference, home, fleet)
        await ok_hub(reference, home, "sync")
        await add_fleet_shops(db, home, fleet, "sync_every=1h")
        code, _out, _err = await run_hub(db, home, "worker", "--burst", HUB_CRASH_AT="before_commit:7")
        assert code == -signal.SIGKILL
        left = await query(db, select(TASKS.c.status))
        assert "running" in {t.status for t in left}
        _code, _out, err = await run_hub(db, home, "worker", "--burst", HUB_LOG_LEVEL="info")
        assert _code == 0 and "tasks_requeued" in err
        assert await snapshot(db) == await snapshot(reference)
        tasks = await query(db, select(TASKS.c.status, TASKS.c.attempts))
        assert sorted(t.status for t in tasks) == ["ok", "ok"] and max(t.attempts for t in tasks) == 2
    finally:
        await fleet.stop()


async def test_concurrent_schedulers_enqueue_each_sync_once(db_url: str, tmp_path: Path) -> None:
    """Three `hub schedule` processes at once (as three workers' ticks): every due shop is enqueued
    exactly once between them, and nothing more within the period."""
    import asyncio

    fleet = FleetServer(latency=0.0)
    fleet.add_shops(5, n_cases=1, days=1)
    await fleet.start()
    home = tmp_path / "home"
    try:
        await ok_hub(db_url, home, "db", "upgrade")
        await add_fleet_shops(db_url, home, fleet, "sync_every=1h")

        async def three() -> int:
            outs = await asyncio.gather(*(ok_hub(db_url, home, "schedule") for _ in range(3)))
            return sum(int(o.split(" sync(s)")[0]) for o in outs)

        assert await three() == 5
        assert await three() == 0
        await ok_hub(db_url, home, "worker", "--burst", "--no-schedule")
        tasks = await query(db_url, select(TASKS.c.kind, TASKS.c.shop_id, TASKS.c.status))
        assert sorted(t.shop_id for t in tasks) == [1, 2, 3, 4, 5]
        assert {(t.kind, t.status) for t in tasks} == {("sync", "ok")}
    finally:
        await fleet.stop()


@pytest.mark.parametrize("queued_again", [False, True])
async def test_a_dead_workers_job_is_retried_or_gives_way(make_hub, db_url: str, queued_again: bool) -> None:
    """PostgreSQL: a job whose worker stopped beating goes back to the queue; if the scheduler has
    queued the same task again meanwhile, the stalled one is closed in its favour instead (two
    waiting copies would break the queueing lock). Its ledger row ends `interrupted` either way."""
    if not db_url.startswith("postgresql"):
        pytest.skip("the procrastinate queue is PostgreSQL's")
    from sqlalchemy import text

    from hub.store.shops import add_shop
    from hub.worker import ledger
    from hub.worker.queue import PgQueue

    hub = make_hub(testplatform)
    shop_id = await add_shop(
        hub.engine, hub.registry.info("acme"), "s", {"api_url": "http://127.0.0.1:9/api", "token": TOKEN}
    )
    queue = PgQueue(hub)
    await queue.open()
    try:
        assert await queue.defer("sync", shop_id)
        manager = queue.app.job_manager
        dead = await manager.register_worker()
        job = await manager.fetch_job(None, worker_id=dead)
        assert job is not None and job.id is not None
        # the dead worker had started it: its ledger row says running
        await ledger.started(
            hub.engine, kind="sync", shop_id=shop_id, args={"job_id": str(job.id)},
            queued_at=hub.now(), now=hub.now(), worker="gone:1:x",
        )  # fmt: skip
        async with hub.engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour' "
                    "WHERE id = :w"
                ),
                {"w": dead},
            )
        if queued_again:
            assert await queue.defer("sync", shop_id)
            assert not await queue.defer("sync", shop_id)  # one waiting copy at most
        assert await queue.recover_stalled(hub.now()) == 1
        assert await queue.recover_stalled(hub.now()) == 0  # once
        async with hub.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT id, status FROM procrastinate_jobs ORDER BY id"))).all()
            ledger_rows = (await conn.execute(select(TASKS.c.status))).all()
        if queued_again:
            assert [r.status for r in rows] == ["failed", "todo"]
        else:
            assert [(r.id, r.status) for r in rows] == [(job.id, "todo")]
        assert [r.status for r in ledger_rows] == ["interrupted"]
    finally:
        await queue.close()
