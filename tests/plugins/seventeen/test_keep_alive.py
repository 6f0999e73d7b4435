"""A long 17网 import renews the shop's sync lease as it reads, and a lost lease stops it.

Through ``sync_shops`` (what ``hub sync`` runs): the import reads its files in a thread and, every
``KeepAlive.EVERY_ROWS`` rows once ``KeepAlive.EVERY`` has passed on the hub's clock, asks the
event loop to run ``AdapterContext.keep_alive`` (the sync's lease renewal). The clock is fake: it
moves a minute each time it is read, so a renewal is due at each check.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import plugins.seventeen as plugin
from hub.store.models import OrderRecord
from hub.store.shops import add_shop
from hub.sync import leases, sync_shops, waits
from plugins.seventeen.importer import KeepAlive

from .conftest import SeventeenHarness


def _moving_clock(start: datetime) -> Any:
    now = [start]

    def clock() -> datetime:
        now[0] += timedelta(minutes=1)
        return now[0]

    return clock


async def _orders(engine: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(OrderRecord))).scalar_one())


async def test_a_long_import_renews_the_lease(
    make_hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    harness = SeventeenHarness(tmp_path)
    hub = make_hub(plugin)
    hub.now = _moving_clock(harness.now())
    await add_shop(hub.engine, hub.registry.info("seventeen"), "17网", dict(harness.shop.settings))
    monkeypatch.setattr(KeepAlive, "EVERY_ROWS", 5)
    renewed: list[datetime] = []
    real_renew, real_keep = leases.renew, waits.keep_alive

    async def renew(engine: Any, shop_id: int, now: datetime, *args: Any, **kw: Any) -> None:
        renewed.append(now)
        await real_renew(engine, shop_id, now, *args, **kw)

    calls: list[int] = []

    async def keep_alive() -> None:
        calls.append(len(renewed))
        await real_keep()

    monkeypatch.setattr(leases, "renew", renew)
    monkeypatch.setattr(waits, "keep_alive", keep_alive)
    [run] = await sync_shops(hub)
    assert run.status == "ok", run.errors
    assert len(calls) >= 3  # the import asked for renewals as it read its rows ...
    # ... and each one renewed the lease in the database (proving it was still ours)
    assert len(renewed) >= len(calls) and renewed == sorted(renewed)
    assert await _orders(hub.engine) > 0


async def test_a_lost_lease_stops_the_import(
    make_hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    harness = SeventeenHarness(tmp_path)
    hub = make_hub(plugin)
    hub.now = _moving_clock(harness.now())
    shop_id = await add_shop(hub.engine, hub.registry.info("seventeen"), "17网", dict(harness.shop.settings))
    monkeypatch.setattr(KeepAlive, "EVERY_ROWS", 5)
    real_keep = waits.keep_alive
    calls: list[int] = []

    async def keep_alive() -> None:
        calls.append(1)
        if len(calls) == 1:
            # meanwhile another hub process took the shop over (our lease had lapsed)
            later = hub.now() + leases.LEASE + timedelta(minutes=1)
            assert await leases.acquire(hub.engine, shop_id, later, owner="elsewhere:1:other")
        await real_keep()

    monkeypatch.setattr(waits, "keep_alive", keep_alive)
    [run] = await sync_shops(hub)
    assert run.status != "ok"
    assert len(calls) == 1  # the import stopped at the renewal that found the lease gone
    assert any("lease" in e for e in run.errors), run.errors
    assert await _orders(hub.engine) == 0  # nothing of the import was committed


def test_keep_alive_checks_the_clock_every_n_rows() -> None:
    start = datetime(2026, 11, 20, 4, 0)
    now = [start]
    renewals: list[datetime] = []
    tick = KeepAlive(
        lambda: renewals.append(now[0]), lambda: now[0], every=timedelta(seconds=30), every_rows=10
    )
    for i in range(100):
        now[0] = start + timedelta(seconds=i)  # one row per second
        tick()
    # checked at rows 10, 20, ... 100 (9 s, 19 s, ... 99 s): renewed once 30 s had passed each time
    assert renewals == [start + timedelta(seconds=s) for s in (39, 69, 99)]
    assert tick.renewals == 3 and tick.rows == 100
