"""Three `hub worker` processes share a fleet of shops on PostgreSQL; one is SIGKILLed in the
middle of a sync. Every shop converges to exactly the data of a clean `hub sync`, the dead worker's
shop is taken over (its stalled task retried), no two syncs of one shop ever overlap (the sandbox
records every sync's calls), and `hub serve` beside the workers shows it all in /metrics."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from hub.store.models import ShopRecord, SyncRunRecord, WorkerTaskRecord
from hub.testing.fixtures import create_pg_database, drop_pg_database, postgres_url
from tests.testplatform.fleet import FleetServer

from .workerkit import Background, add_fleet_shops, ok_hub, query, snapshot

pytestmark = pytest.mark.slow

LEASE = "8"  #: seconds: short, so that a dead worker's tasks move within the test


async def test_three_workers_one_killed_converge(tmp_path: Path) -> None:
    admin = postgres_url()
    if admin is None:
        pytest.skip("the worker kill test needs HUB_TEST_POSTGRES_URL (PostgreSQL)")
    fleet = FleetServer(latency=0.02)
    fleet.add_shops(9, n_cases=40, days=20)
    await fleet.start()
    db, reference = await create_pg_database(admin), await create_pg_database(admin)
    home = tmp_path / "home"
    procs: list[Background] = []
    try:
        for url in (db, reference):
            await ok_hub(url, home, "db", "upgrade")
        await add_fleet_shops(reference, home, fleet)
        await ok_hub(reference, home, "sync")  # the clean run
        expected = await snapshot(reference)
        assert expected["after_sales"]
        fleet.trace.clear()

        await add_fleet_shops(db, home, fleet, "sync_every=3s")
        await ok_hub(db, home, "user", "add", "ops", "--role", "admin", "--password-stdin",
                     stdin="a long enough password\n")  # fmt: skip
        token = (await ok_hub(db, home, "token", "create", "ops")).strip()
        args = ("worker", "--concurrency", "2", "--tick", "0.5", "--hints-every", "2s")
        logs = tmp_path / "logs"
        # worker 0 dies at its 8th window commit: inside a sync, a window fetched and not committed
        procs.append(
            await Background.start(
                db, home, logs / "w0", *args, HUB_LEASE_SECONDS=LEASE, HUB_CRASH_AT="before_commit:8"
            )
        )
        for i in (1, 2):
            procs.append(await Background.start(db, home, logs / f"w{i}", *args, HUB_LEASE_SECONDS=LEASE))
        serve = await Background.start(db, home, logs / "serve", "serve", "--port", "0")
        procs.append(serve)

        assert await asyncio.wait_for(procs[0].proc.wait(), 120) == -signal.SIGKILL
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 180
        while True:
            converged = await snapshot(db) == expected
            # the dead worker's task went back to the queue, or gave way to the same task queued again
            retried = any(
                "stalled_job_retried" in p.stderr() or "stalled_job_superseded" in p.stderr()
                for p in procs[1:3]
            )
            if converged and retried:
                break
            assert loop.time() < deadline, f"not converged={not converged} retried={retried} in time"
            await asyncio.sleep(1)

        assert fleet.overlaps() == [], "two syncs of one shop overlapped"
        shops = await query(db, select(ShopRecord.__table__.c.name, ShopRecord.__table__.c.lease_takeovers))
        assert sum(s.lease_takeovers for s in shops) >= 1
        tasks = await query(db, select(WorkerTaskRecord.__table__))
        dead = [t for t in tasks if t.worker and t.worker.split(":")[1] == str(procs[0].proc.pid)]
        # the killed worker was mid-task; its ledger row was closed when the task was retried
        assert any(t.status == "interrupted" for t in dead), [(t.kind, t.status) for t in dead]
        # push-hint re-fetches ran between the syncs (or gave way to a sync holding the lease)
        assert any(t.kind == "hints" and t.status == "ok" for t in tasks)
        assert {t.status for t in tasks if t.kind == "hints"} <= {"ok", "skipped", "interrupted", "running"}
        workers = {t.worker for t in tasks if t.kind == "sync" and t.status == "ok"}
        assert len(workers) >= 2, "the surviving workers did not share the shops"

        url = await serve.wait_for_output("listening on")
        base = url.split("listening on ")[1].split()[0].rstrip("/")
        async with (
            aiohttp.ClientSession() as http,
            http.get(base + "/metrics", headers={"Authorization": f"Bearer {token}"}) as resp,
        ):
            assert resp.status == 200
            text = await resp.text()
        assert 'hub_queue_depth{kind="sync"}' in text
        assert 'hub_task_latency_seconds_count{kind="sync"}' in text
        assert 'hub_tasks_total{kind="sync",outcome="interrupted"}' in text
        takeovers = [
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("hub_lease_takeovers_total{")
        ]
        assert len(takeovers) == 9 and sum(takeovers) >= 1

        # SIGTERM: the live workers finish what they run and stop cleanly
        for p in procs[1:]:
            assert await p.stop() == 0, p.stderr()[-2000:]
        assert fleet.overlaps() == []
        assert json.dumps(await snapshot(db)) == json.dumps(expected)
    finally:
        for p in procs:
            await p.kill()
        await fleet.stop()
        for url in (db, reference):
            await drop_pg_database(url)


async def test_a_paused_worker_cannot_commit_after_a_takeover(tmp_path: Path) -> None:
    """Fencing through the command line: worker A stops itself (SIGSTOP) with a window fetched and
    not committed; its lease lapses, worker B takes the shop over and finishes it; A, resumed,
    finds the lease gone at its commit and rolls back. The data is the clean run's."""
    import psutil

    admin = postgres_url()
    if admin is None:
        pytest.skip("the paused-worker test needs HUB_TEST_POSTGRES_URL (PostgreSQL)")
    fleet = FleetServer(latency=0.03)
    fleet.add_shops(1, n_cases=40, days=20)
    await fleet.start()
    db, reference = await create_pg_database(admin), await create_pg_database(admin)
    home = tmp_path / "home"
    procs: list[Background] = []
    runs = SyncRunRecord.__table__
    try:
        for url in (db, reference):
            await ok_hub(url, home, "db", "upgrade")
        await add_fleet_shops(reference, home, fleet)
        await ok_hub(reference, home, "sync")
        expected = await snapshot(reference)
        await add_fleet_shops(db, home, fleet, "sync_every=1h")
        args = ("worker", "--concurrency", "1", "--tick", "0.5")
        a = await Background.start(
            db,
            home,
            tmp_path / "logs" / "a",
            *args,
            HUB_LEASE_SECONDS="3",
            HUB_CRASH_AT="window_fetched:5:stop",
        )
        procs.append(a)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while psutil.Process(a.proc.pid).status() != psutil.STATUS_STOPPED:
            assert a.proc.returncode is None and loop.time() < deadline, a.stderr()
            await asyncio.sleep(0.1)
        b = await Background.start(db, home, tmp_path / "logs" / "b", *args, HUB_LEASE_SECONDS="3")
        procs.append(b)
        deadline = loop.time() + 90
        while await snapshot(db) != expected:
            assert loop.time() < deadline, "worker B did not take the paused worker's shop over"
            await asyncio.sleep(0.5)

        a.proc.send_signal(signal.SIGCONT)
        deadline = loop.time() + 60
        while True:
            fenced = [
                r
                for r in await query(db, select(runs.c.status, runs.c.errors))
                if any("passed to another process; nothing was committed" in e for e in r.errors)
            ]
            if fenced:
                break
            assert loop.time() < deadline, "the resumed worker's commit was not refused"
            await asyncio.sleep(0.3)
        assert fenced[0].status == "failed"
        assert await snapshot(db) == expected
        shop = (await query(db, select(ShopRecord.__table__)))[0]
        assert shop.lease_takeovers == 1 and shop.lease_epoch >= 2
        assert await b.stop() == 0
        assert await a.stop() == 0, a.stderr()[-3000:]
    finally:
        for p in procs:
            if p.proc.returncode is None:
                p.proc.send_signal(signal.SIGCONT)
            await p.kill()
        await fleet.stop()
        for url in (db, reference):
            await drop_pg_database(url)
