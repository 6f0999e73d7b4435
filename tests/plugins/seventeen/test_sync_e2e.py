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


async def test_stored_next_actions_from_the_merchants_side(make_hub, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Synced and stored: every open 17网 return names who acts (merchant or supplier); the
    merchant's have a due time, the supplier's a clock or a reason; a clock never starts from a
    later export's modified time (status_since comes from 17网's own times when it has them)."""
    from datetime import datetime

    harness = SeventeenHarness(tmp_path)
    hub = make_hub(plugin)
    hub.now = harness.now
    await add_shop(hub.engine, hub.registry.info("seventeen"), "17网", dict(harness.shop.settings))
    [run] = await sync_shops(hub)
    assert run.status == "ok", run.errors
    async with hub.engine.connect() as conn:
        rows = (await conn.execute(select(AfterSaleRecord.__table__))).all()
    open_rows = [r for r in rows if r.is_open]
    assert open_rows
    stated_times = 0
    for r in open_rows:
        assert r.deadline_party in ("merchant", "supplier"), (r.external_id, r.deadline_party)
        assert r.deadline_rule_id and r.deadline_rule_id.startswith("seventeen."), r.external_id
        assert r.deadline_consequence_zh and r.deadline_consequence_en
        if r.deadline_party == "merchant":
            assert r.deadline_due_at is not None, r.external_id
        else:
            assert r.deadline_due_at is not None or r.deadline_no_clock_reason, r.external_id
        stated = (r.data.get("facts") or {}).get("status_since")
        if stated:
            stated_times += 1
            assert r.status_since == datetime.fromisoformat(stated), r.external_id
    assert stated_times > 0
