"""Through the core's sync engine and store, as `hub sync` runs it: importing the same exports
twice changes nothing, and a broken file changes nothing and says why."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

import plugins.seventeen as plugin
from hub.store.models import AfterSaleRecord, EventRecord, OrderRecord, RawRecordRow
from hub.store.shops import add_shop
from hub.sync import sync_shops

from .conftest import SeventeenHarness


async def counts(engine) -> list[int]:
    async with engine.connect() as conn:
        return [
            int((await conn.execute(select(func.count()).select_from(m))).scalar_one())
            for m in (OrderRecord, AfterSaleRecord, EventRecord, RawRecordRow)
        ]


async def test_importing_twice_changes_nothing_and_a_broken_file_changes_nothing(make_hub, tmp_path: Path):
    harness = SeventeenHarness(tmp_path)
    hub = make_hub(plugin)
    hub.now = harness.now
    await add_shop(hub.engine, hub.registry.info("seventeen"), "17网", dict(harness.shop.settings))
    [first] = await sync_shops(hub)
    assert first.status == "ok", first.errors
    landed = await counts(hub.engine)
    assert landed[0] > 0 and landed[1] > 0
    [again] = await sync_shops(hub)
    assert again.stats.new == again.stats.changed == 0
    assert await counts(hub.engine) == landed
    # a file with a missing column arrives: reported with its name, nothing of it imported
    bad = harness.world.write_malformed(harness.folder)
    [broken] = await sync_shops(hub)
    assert broken.status == "partial"
    assert any(bad.name in e for e in broken.errors), broken.errors
    assert await counts(hub.engine) == landed
