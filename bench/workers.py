"""Worker scaling: N sandbox shops synced by 1 `hub worker` process, then by 3, on PostgreSQL.

Each configuration gets a fresh database with the same shops (a fleet sandbox: every call waits
``--latency`` seconds, like a platform across the internet), starts its worker processes with
``--no-schedule``, waits until each is ready, enqueues every shop's sync with ``hub schedule
--now`` and waits until the ledger shows every sync finished. Throughput is shops per second from
the first enqueue to the last finish (process start-up is outside it). The only difference between
the two runs is the number of worker processes.

    HUB_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1/postgres .venv/bin/python bench/workers.py

Ends with ``target workers_3_vs_1=VALUE goal>=2.5 PASS|FAIL``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import psutil
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub.config import normalise_url  # noqa: E402
from hub.plugins import get_plugin_manager  # noqa: E402
from hub.runtime import Hub  # noqa: E402
from hub.store.engine import create_engine  # noqa: E402
from hub.store.migrate import upgrade  # noqa: E402
from hub.store.models import WorkerTaskRecord  # noqa: E402
from hub.store.shops import add_shop  # noqa: E402
from hub.testing.fixtures import create_pg_database, drop_pg_database  # noqa: E402
from tests import testplatform  # noqa: E402
from tests.testplatform.fleet import FleetServer  # noqa: E402

TASKS = WorkerTaskRecord.__table__
GOAL = 2.5


def _env(db: str, home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HUB_DATABASE_URL": db,
        "HUB_HOME": str(home),
        "HUB_PLUGINS": "tests.testplatform",
        "HUB_DISABLED_PLUGINS": "taobao,pinduoduo,seventeen",
        "PYTHONPATH": str(ROOT),
        "HUB_LOG_FORMAT": "json",
        "HUB_LOG_LEVEL": "warning",
    }


async def _prepare(db: str, fleet: FleetServer, home: Path) -> None:
    engine = create_engine(db)
    try:
        await upgrade(engine)
        hub = Hub.open(
            _settings(db, home),
            pm=get_plugin_manager(load_entrypoints=False, plugins=[testplatform]),
            engine=engine,
        )
        info = hub.registry.info("acme")
        for name in sorted(fleet.shops):
            await add_shop(engine, info, name, {**fleet.shop_settings(name), "sync_every": "1h"})
    finally:
        await engine.dispose()


def _postgres_cpu() -> float:
    """CPU seconds of this machine's PostgreSQL server processes so far (0 when it runs elsewhere)."""
    total = 0.0
    for proc in psutil.process_iter(["name", "cpu_times"]):
        if proc.info["name"] in ("postgres", "postmaster") and proc.info["cpu_times"]:
            total += proc.info["cpu_times"].user + proc.info["cpu_times"].system
    return total


def _settings(db: str, home: Path) -> Any:
    from hub.config import Settings

    return Settings.from_env(database_url=db, home=home)


async def run_config(
    admin: str, fleet: FleetServer, workers: int, concurrency: int, home: Path
) -> dict[str, Any]:
    """One configuration on a fresh database; the figures."""
    db = await create_pg_database(admin)
    procs: list[asyncio.subprocess.Process] = []
    me = psutil.Process()
    try:
        await _prepare(db, fleet, home)
        env = _env(db, home)
        for _ in range(workers):
            procs.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "hub",
                    "worker",
                    "--no-schedule",
                    "--concurrency",
                    str(concurrency),
                    env=env,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.DEVNULL,
                )
            )
        for p in procs:
            assert p.stdout is not None
            line = await asyncio.wait_for(p.stdout.readline(), 120)
            if b"hub worker ready" not in line:
                raise RuntimeError(f"a worker did not start: {line!r}")
        own0, pg0 = sum(me.cpu_times()[:2]), _postgres_cpu()
        sched = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hub", "schedule", "--now", env=env, stdout=asyncio.subprocess.DEVNULL
        )
        if await sched.wait() != 0:
            raise RuntimeError("hub schedule --now failed")
        engine = create_engine(db)
        shops = len(fleet.shops)
        try:
            deadline = time.monotonic() + 900
            while True:
                async with engine.connect() as conn:
                    done = (
                        await conn.execute(
                            select(func.count()).select_from(TASKS).where(TASKS.c.finished_at.is_not(None))
                        )
                    ).scalar_one()
                    if done >= shops:
                        rows = (
                            await conn.execute(
                                select(
                                    func.min(TASKS.c.queued_at),
                                    func.max(TASKS.c.finished_at),
                                    func.count(func.distinct(TASKS.c.worker)),
                                    func.avg(func.extract("epoch", TASKS.c.finished_at - TASKS.c.started_at)),
                                )
                            )
                        ).one()
                        statuses = dict(
                            (
                                await conn.execute(
                                    select(TASKS.c.status, func.count()).group_by(TASKS.c.status)
                                )
                            ).all()
                        )
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {done} of {shops} syncs finished in time")
                await asyncio.sleep(0.2)
        finally:
            await engine.dispose()
        own, pg = sum(me.cpu_times()[:2]) - own0, _postgres_cpu() - pg0
        span = (rows[1] - rows[0]).total_seconds()
        cpu = sum(sum(psutil.Process(p.pid).cpu_times()[:2]) for p in procs)
        return {
            "workers": workers,
            "concurrency": concurrency,
            "shops": shops,
            "seconds": round(span, 2),
            "shops_per_s": round(shops / span, 3),
            "workers_used": int(rows[2]),
            "worker_cpu_s": round(cpu, 1),
            "mean_sync_s": round(float(rows[3]), 2),
            "sandbox_cpu_s": round(own, 1),
            "postgres_cpu_s": round(pg, 1),
            "outcomes": statuses,
        }
    finally:
        for p in procs:
            if p.returncode is None:
                p.terminate()
        for p in procs:
            await asyncio.wait_for(p.wait(), 120)
        await drop_pg_database(db)


async def bench(
    shops: int, latency: float, workers: int, concurrency: int, days: int
) -> list[dict[str, Any]]:
    admin = os.environ.get("HUB_TEST_POSTGRES_URL") or os.environ.get("HUB_BENCH_POSTGRES_URL")
    if not admin:
        raise SystemExit("bench/workers.py needs PostgreSQL: set HUB_TEST_POSTGRES_URL=postgresql://...")
    fleet = FleetServer(latency=latency)
    fleet.add_shops(shops, n_cases=20, days=days)
    await fleet.start()
    try:
        with TemporaryDirectory() as tmp:
            results = []
            for n in (1, workers):
                results.append(await run_config(normalise_url(admin), fleet, n, concurrency, Path(tmp)))
            results.append({"overlaps": len(fleet.overlaps())})
            return results
    finally:
        await fleet.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shops", type=int, default=60)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per sandbox call (default 0.05)")
    parser.add_argument(
        "--workers", type=int, default=3, help="worker processes compared with one (default 3)"
    )
    parser.add_argument("--concurrency", type=int, default=4, help="task slots per worker (default 4)")
    parser.add_argument("--days", type=int, default=5, help="days of sandbox data per shop (default 5)")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    results = asyncio.run(bench(args.shops, args.latency, args.workers, args.concurrency, args.days))
    one, many, extra = results
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"{args.shops} shops, {args.latency * 1000:.0f} ms per call, "
        f"{args.concurrency} task slots per worker; {os.cpu_count()} CPUs, load average {load}"
    )
    print(
        "| workers | seconds | shops/s | mean sync s | workers used "
        "| CPU s: workers | sandbox | PostgreSQL | outcomes |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in (one, many):
        cells = (r["workers"], r["seconds"], r["shops_per_s"], r["mean_sync_s"], r["workers_used"])
        cells += (r["worker_cpu_s"], r["sandbox_cpu_s"], r["postgres_cpu_s"], r["outcomes"])
        print("| " + " | ".join(str(c) for c in cells) + " |")
    print(f"overlapping syncs of one shop: {extra['overlaps']}")
    if args.json:
        print(json.dumps(results))
    ratio = many["shops_per_s"] / one["shops_per_s"]
    name = f"workers_{args.workers}_vs_1"
    print(f"target {name}={ratio:.2f} goal>={GOAL} {'PASS' if ratio >= GOAL else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
