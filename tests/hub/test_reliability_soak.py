"""Fault-and-soak: rounds of syncs against a sandbox with random faults (5xx, timeouts, short and
day-long bans, expired tokens, malformed and poisoned records) and SIGKILLed `hub sync`
subprocesses, while the platform's data keeps changing. At the end every shop holds exactly what
one clean sync of the final data holds, nothing is lost, no run is left `running`, and the
process's memory stayed flat across the rounds. On SQLite, and on PostgreSQL when
HUB_TEST_POSTGRES_URL is set.

The figures (rounds, faults, kills, RSS) are printed; run with ``-s`` to see them.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import tests.testplatform as acme
from hub.config import Settings
from hub.plugins import get_plugin_manager
from hub.runtime import Hub
from hub.store.engine import create_engine
from hub.store.migrate import upgrade
from hub.store.models import (
    AfterSaleRecord,
    OrderRecord,
    QuarantineRecord,
    RawRecordRow,
    ShopRecord,
    SyncCheckpointRecord,
    SyncRunRecord,
)
from hub.store.shops import add_shop, update_shop
from hub.sync import sync_shops
from hub.testing.fake_server import FakeClock
from hub.testing.fixtures import create_pg_database, drop_pg_database, postgres_url
from tests.testplatform.server import STATUSES, TOKEN, AcmeServer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SHOPS = ("north", "south", "west")
ROUNDS = 36
KILL_ROUNDS = set(range(3, ROUNDS - 2, 6))  #: six rounds whose `hub sync` is SIGKILLed
CRASH_POINTS = ("window_fetched", "mid_window", "before_commit", "after_commit")


def rss_mb() -> float:
    """This process's resident set size now, in MB (Linux /proc)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


async def _noop_sleep(_s: float) -> None:
    return None


def open_hub(url: str, home: Path, now: Any) -> Hub:
    settings = Settings.from_env(database_url=url, home=home)
    pm = get_plugin_manager(load_entrypoints=False, plugins=[acme])
    hub = Hub.open(settings, pm=pm, sleep=_noop_sleep)
    hub.now = now
    return hub


async def run_killed_sync(db: str, home: Path, crash: str) -> int:
    """`hub sync` in a subprocess that SIGKILLs itself at ``crash``; its return code."""
    env = {
        **os.environ,
        "HUB_HOME": str(home),
        "HUB_PLUGINS": "tests.testplatform",
        "HUB_DISABLED_PLUGINS": "taobao,pinduoduo,seventeen,jd",
        "PYTHONPATH": str(ROOT),
        "HUB_LOG_FORMAT": "json",
        "HUB_LOG_LEVEL": "critical",
        "HUB_CRASH_AT": crash,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "--database",
        db,
        "sync",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await proc.wait()


class World:
    """The sandbox's data moving on, and the faults it plays, from one seeded generator."""

    def __init__(self, server: AcmeServer, seed: int) -> None:
        self.server = server
        self.rng = random.Random(seed)
        self.broken: dict[str, dict[str, Any]] = {}  #: case id -> its good fields, to restore
        self.next_id = 90000
        self.faults: dict[str, int] = {}

    def move(self) -> None:
        """Two hours pass: some cases change, a few are new, one may break or be fixed."""
        s, rng = self.server, self.rng
        s.clock.advance(timedelta(hours=2))
        for case_id in rng.sample(sorted(s.cases), 8):
            if case_id not in self.broken:
                s.touch(case_id, status=rng.choice(STATUSES), reason=rng.choice(["size", "damaged", "late"]))
        for _ in range(rng.randrange(1, 4)):
            self.next_id += 1
            now = s.clock.now().isoformat()
            oid, cid = f"O{self.next_id}", f"C{self.next_id}"
            total = f"{rng.randrange(100, 99999) / 100:.2f}"
            s.orders[oid] = {"id": oid, "status": "PAID", "total": total, "created": now, "modified": now}
            s.cases[cid] = {
                "id": cid,
                "order_id": oid,
                "status": "NEW",
                "amount": total,
                "reason": "size",
                "created": now,
                "modified": now,
            }
        kind = rng.choice(("amount", "negative", "nul", "none", "fix"))
        if kind == "fix":
            self.fix_one()
        elif kind != "none":
            victim = rng.choice(sorted(set(s.cases) - set(self.broken)))
            case = s.cases[victim]
            self.broken[victim] = {"amount": case["amount"], "reason": case["reason"]}
            bad = {"amount": "1.2.3"} if kind == "amount" else {}
            if kind == "negative":
                bad = {"amount": "-" + case["amount"]}
            if kind == "nul":  # stripped at the boundary: lands, never breaks a window
                bad = {"reason": "破\x00损"}
                del self.broken[victim]
            s.touch(victim, **bad)
            self.faults[f"record_{kind}"] = self.faults.get(f"record_{kind}", 0) + 1

    def fix_one(self) -> None:
        if self.broken:
            victim = sorted(self.broken)[0]
            self.server.touch(victim, **self.broken.pop(victim))

    def inject(self, *, long_bans: bool) -> None:
        """A random mix of the faults a platform has."""
        choices = ["server_error", "server_error", "timeout", "rate_limit", "auth_expired"]
        if long_bans:
            choices.append("long_ban")
        for kind in self.rng.sample(choices, self.rng.randrange(1, 4)):
            self.faults[kind] = self.faults.get(kind, 0) + 1
            if kind == "server_error":
                self.server.inject("server_error", count=self.rng.randrange(1, 4))
            elif kind == "timeout":
                self.server.inject("timeout", seconds=2.3)  # the acme client waits 2 s
            elif kind == "rate_limit":
                self.server.inject("rate_limit", seconds=float(self.rng.randrange(1, 60)))
            elif kind == "long_ban":
                self.server.inject("rate_limit", seconds=86400)
            else:
                self.server.inject("auth_expired")


async def snapshot(engine: Any) -> dict[str, Any]:
    """What a shop holds, by shop name, without ids and the times of our own writes."""
    queries = {
        "cases": select(
            ShopRecord.name,
            AfterSaleRecord.external_id,
            AfterSaleRecord.status,
            AfterSaleRecord.kind,
            AfterSaleRecord.refund_fen,
            AfterSaleRecord.reason,
            AfterSaleRecord.platform_updated_at,
            AfterSaleRecord.is_open,
            AfterSaleRecord.deadline_party,
            AfterSaleRecord.dispute_status,
            AfterSaleRecord.content_hash,
        ).join(ShopRecord),
        "orders": select(
            ShopRecord.name,
            OrderRecord.external_id,
            OrderRecord.status,
            OrderRecord.total_fen,
            OrderRecord.platform_updated_at,
            OrderRecord.content_hash,
        ).join(ShopRecord),
        "raw": select(
            ShopRecord.name, RawRecordRow.resource, RawRecordRow.external_id, RawRecordRow.payload_hash
        ).join(ShopRecord),
        "quarantined": select(ShopRecord.name, QuarantineRecord.external_id, QuarantineRecord.error)
        .join(ShopRecord)
        .where(QuarantineRecord.resolved_at.is_(None)),
        "checkpoints": select(
            ShopRecord.name, SyncCheckpointRecord.resource, SyncCheckpointRecord.position_at
        ).join(ShopRecord),
    }
    out: dict[str, Any] = {}
    async with engine.connect() as conn:
        for name, query in queries.items():
            out[name] = sorted(tuple(repr(v) for v in row) for row in (await conn.execute(query)).all())
    return out


async def fresh_db(db_url: str, tmp_path: Path) -> str:
    if db_url.startswith("sqlite"):
        return f"sqlite+aiosqlite:///{tmp_path / 'reference.db'}"
    admin = postgres_url()
    assert admin
    return await create_pg_database(admin)


async def test_soak_with_faults_and_kills_converges_to_a_clean_sync(db_url: str, tmp_path: Path) -> None:
    # The platform's clock starts a month back: the killed `hub sync` subprocesses read real time,
    # so the bans the world stores (in the platform's time) must lapse in theirs too.
    server = AcmeServer(clock=FakeClock(datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)))
    server.populate(n_cases=240, days=12, seed=5)
    url = await server.serve() + "/api"
    world = World(server, seed=20261201)
    engine = create_engine(db_url)
    await upgrade(engine)
    await engine.dispose()
    hub = open_hub(db_url, tmp_path / "soak", server.clock.now)
    reference = await fresh_db(db_url, tmp_path)
    kills = 0
    statuses: dict[str, int] = {}
    rss: list[float] = []
    try:
        for name in SHOPS:
            await add_shop(hub.engine, hub.registry.info("acme"), name, {"api_url": url, "token": TOKEN})
        for round_no in range(ROUNDS):
            world.move()
            if round_no in KILL_ROUNDS:
                world.inject(long_bans=False)
                crash = f"{world.rng.choice(CRASH_POINTS)}:{world.rng.randrange(1, 4)}"
                code = await run_killed_sync(db_url, tmp_path / "soak", crash)
                kills += code == -signal.SIGKILL
                server.faults.clear()
                continue
            world.inject(long_bans=round_no < ROUNDS - 4)
            for summary in await sync_shops(hub):
                statuses[summary.status] = statuses.get(summary.status, 0) + 1
                if summary.status == "reauth":  # the operator renews the token
                    await update_shop(hub.engine, hub.registry.info("acme"), summary.shop, {"token": TOKEN})
            server.faults.clear()
            server.calls.clear()  # the sandbox's own memory, not hub's
            gc.collect()
            rss.append(rss_mb())

        # The platform calms down: a day passes (every ban ends), broken records are fixed.
        server.clock.advance(timedelta(days=1, hours=1))
        while world.broken:
            world.fix_one()
        server.clock.advance(timedelta(minutes=10))  # windows end at the platform's now, exclusive
        for _ in range(3):
            final = await sync_shops(hub)
            if all(s.status == "ok" for s in final):
                break
        assert [s.status for s in final] == ["ok"] * len(SHOPS), [s.errors for s in final]

        engine = create_engine(reference)
        await upgrade(engine)
        await engine.dispose()
        clean = open_hub(reference, tmp_path / "reference", server.clock.now)
        try:
            for name in SHOPS:
                await add_shop(
                    clean.engine, clean.registry.info("acme"), name, {"api_url": url, "token": TOKEN}
                )
            assert all(s.status == "ok" for s in await sync_shops(clean))
            expected = await snapshot(clean.engine)
        finally:
            await clean.close()
        got = await snapshot(hub.engine)

        # nothing lost: every record of the platform is there, in its latest version
        per_shop = {n: sum(1 for row in got["cases"] if row[0] == repr(n)) for n in SHOPS}
        assert per_shop == {n: len(server.cases) for n in SHOPS}
        assert got["quarantined"] == []
        for table in expected:
            assert got[table] == expected[table], f"{table} differs from a clean sync"
        async with hub.engine.connect() as conn:
            runs = dict(
                (
                    await conn.execute(
                        select(SyncRunRecord.status, func.count()).group_by(SyncRunRecord.status)
                    )
                ).all()
            )
        assert "running" not in runs, runs
        assert kills >= len(KILL_ROUNDS) // 2, "the crash points were not reached"
        assert runs.get("killed", 0) >= kills
        warm = rss[3]
        growth = max(rss[3:]) - warm
        print(
            f"\nsoak figures: rounds={ROUNDS} kills={kills} faults={dict(sorted(world.faults.items()))} "
            f"statuses={dict(sorted(statuses.items()))} runs={dict(sorted(runs.items()))} "
            f"cases={len(server.cases)} rss_mb first={rss[0]:.1f} warm={warm:.1f} last={rss[-1]:.1f} "
            f"max_growth_after_warmup={growth:.1f}"
        )
        assert growth < 20, f"memory grew {growth:.1f} MB over the rounds: {rss}"
    finally:
        await hub.close()
        await server.stop()
        if not reference.startswith("sqlite"):
            await drop_pg_database(reference)
