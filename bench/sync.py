"""End-to-end sync benchmark: a backfill against a platform sandbox with network latency.

    python bench/sync.py [--days 30] [--latency 0.05] [--database-url URL] [--in-flight 8]

Starts the Pinduoduo sandbox (its router on loopback, every request held ``--latency`` seconds,
like a WAN round trip), generates ``--days`` of shop history, adds the shop to a fresh migrated
database (SQLite file, or a new database on the PostgreSQL server of ``--database-url``) and runs
``hub.sync.engine.sync_shops`` over those days: 30 days are 1,440 windows of 30 minutes per
resource. Reports records/s, database statements per synced record (every statement the engine
sent: look-ups, writes, checkpoints, leases, run bookkeeping, order links) and the ratio of the
elapsed time to the **rate-limit floor**: the time the shop's own rate limiter imposes on the calls
the sync made (for each of its token buckets: calls beyond the burst / rate; the largest wins).
Ends with one line per target: ``target NAME=VALUE goal=GOAL PASS|FAIL``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

import plugins.pinduoduo as pdd  # noqa: E402
from hub.config import Settings  # noqa: E402
from hub.plugins import get_plugin_manager  # noqa: E402
from hub.ratelimit import RateLimiter  # noqa: E402
from hub.runtime import Hub  # noqa: E402
from hub.store.engine import create_engine  # noqa: E402
from hub.store.migrate import upgrade  # noqa: E402
from hub.store.shops import add_shop, list_shop_rows, shop_from_row  # noqa: E402
from hub.sync.engine import sync_shops  # noqa: E402
from hub.testing.fake_server import FakeClock  # noqa: E402
from hub.testing.fixtures import create_pg_database, drop_pg_database  # noqa: E402
from plugins.pinduoduo.sandbox import PddSandbox  # noqa: E402

TARGET_STATEMENTS = 3.0  #: database statements per synced record, amortised
TARGET_FLOOR_RATIO = 1.25  #: elapsed / the time the shop's rate limit imposes
NOW = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


def rate_limit_floor(limiter: RateLimiter, calls: collections.Counter[str]) -> tuple[float, str]:
    """Seconds the limiter alone imposes on these calls, and which bucket imposes them.

    Every call takes a token from its API's bucket (if it has one) and from the shop's default
    bucket; a bucket starts full, so only the calls beyond its burst wait, at its rate."""
    floors = {"*": max(0.0, sum(calls.values()) - limiter.default.burst) / limiter.default.rate}
    for api, bucket in limiter.per_api.items():
        floors[api] = max(0.0, calls.get(api, 0) - bucket.burst) / bucket.rate
    name = max(floors, key=lambda k: floors[k])
    return floors[name], name


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="hub-bench-sync-"))
    if args.database_url and args.database_url.startswith("postgres"):
        admin = "postgresql+asyncpg://" + args.database_url.split("://", 1)[1]
        url = await create_pg_database(admin)
    else:
        url = f"sqlite+aiosqlite:///{tmp / 'hub.db'}"
    sandbox = PddSandbox(clock=FakeClock(NOW), span=timedelta(days=args.days))
    engine = create_engine(url)
    try:
        await upgrade(engine)
        [demo] = await sandbox.start(str(tmp))
        sandbox.server.latency = args.latency
        settings = {**demo.settings, "initial_sync_days": f"{args.days:g}", "request_timeout": "30"}
        await add_shop(engine, pdd.INFO, "bench-pdd", settings)
        hub = Hub.open(
            Settings.from_env(database_url=url, home=tmp / "home"),
            pm=get_plugin_manager(load_entrypoints=False, plugins=(pdd,)),
            engine=engine,
        )
        if args.in_flight:
            hub.settings = Settings(**{**hub.settings.__dict__, "fetch_windows_in_flight": args.in_flight})
        statements = collections.Counter[str]()

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _count(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
            statements[statement.split(None, 1)[0].upper()] += 1

        sandbox.server.calls.clear()
        started = time.perf_counter()
        [summary] = await sync_shops(hub, since=NOW - timedelta(days=args.days), until=NOW)
        elapsed = time.perf_counter() - started
        calls = collections.Counter(c.api for c in sandbox.server.calls)
        [row] = await list_shop_rows(engine)
        floor, bucket = rate_limit_floor(hub.limiter(shop_from_row(row)), calls)
        if hub._http is not None:
            await hub._http.close()
        s = summary.stats
        return {
            "database": engine.dialect.name,
            "days": args.days,
            "latency_s": args.latency,
            "in_flight": hub.settings.fetch_windows_in_flight,
            "status": summary.status,
            "errors": summary.errors,
            "windows": summary.windows,
            "records": s.fetched,
            "new": s.new,
            "seconds": elapsed,
            "records_per_s": s.fetched / elapsed if elapsed else 0.0,
            "statements": sum(statements.values()),
            "statements_by_kind": dict(statements),
            "calls": sum(calls.values()),
            "calls_by_api": dict(calls),
            "floor_s": floor,
            "floor_bucket": bucket,
        }
    finally:
        await sandbox.stop()
        await engine.dispose()
        if url.startswith("postgresql"):
            await drop_pg_database(url)
        shutil.rmtree(tmp, ignore_errors=True)


def report(r: dict[str, Any]) -> str:
    db = r["database"]
    per_record = r["statements"] / r["records"] if r["records"] else float("inf")
    ratio = r["seconds"] / r["floor_s"] if r["floor_s"] else float("inf")
    lines = [
        f"hub sync benchmark ({db}): a {r['days']:g}-day Pinduoduo backfill, {r['latency_s'] * 1000:.0f} ms "
        f"per platform call, {r['in_flight']} windows in flight",
        f"  status {r['status']}, {r['windows']:,} windows, {r['records']:,} records ({r['new']:,} new) "
        f"in {r['seconds']:.1f} s: {r['records_per_s']:,.0f} records/s",
        f"  {r['calls']:,} platform calls: {r['calls_by_api']}",
        f"  rate-limit floor: {r['floor_s']:.1f} s (bucket {r['floor_bucket']}); "
        f"elapsed / floor = {ratio:.2f}",
        f"  {r['statements']:,} database statements ({per_record:.2f} per record): {r['statements_by_kind']}",
    ]
    if r["errors"]:
        lines.append(f"  errors: {r['errors'][:5]}")
    lines += [
        f"target sync_statements_per_record[{db}]={per_record:.2f} goal<={TARGET_STATEMENTS:g} "
        f"{'PASS' if per_record <= TARGET_STATEMENTS else 'FAIL'}",
        f"target sync_vs_rate_limit_floor[{db}]={ratio:.2f} goal<={TARGET_FLOOR_RATIO:g} "
        f"{'PASS' if ratio <= TARGET_FLOOR_RATIO else 'FAIL'}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--days", type=float, default=30.0, help="days of history to backfill (30)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per platform call (0.05)")
    parser.add_argument("--database-url", default=None, help="postgresql://... (default: a SQLite file)")
    parser.add_argument("--in-flight", type=int, default=0, help="windows fetched at once (hub's default)")
    args = parser.parse_args(argv)
    print(report(asyncio.run(run(args))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
