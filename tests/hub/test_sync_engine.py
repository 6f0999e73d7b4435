"""The sync engine against the acme test platform: windows, pages, newer-wins, faults, quarantine."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

import tests.testplatform as acme
from hub.store.models import AfterSaleRecord, EventRecord, OrderRecord, QuarantineRecord, RawRecordRow
from hub.store.shops import add_shop
from hub.sync import sync_shops
from tests.testplatform.server import AcmeSandbox


async def count(engine, model) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(model))).scalar_one())


async def setup(make_hub, n=120):
    sandbox = AcmeSandbox()
    shops = await sandbox.start("")
    hub = make_hub(acme)
    hub.now = sandbox.server.clock.now
    await add_shop(hub.engine, hub.registry.info("acme"), "acme-1", dict(shops[0].settings))
    return hub, sandbox


async def test_first_sync_lands_everything_and_resync_writes_nothing(make_hub):
    hub, sandbox = await setup(make_hub)
    try:
        [summary] = await sync_shops(hub)
        assert summary.status == "ok", summary.errors
        assert await count(hub.engine, AfterSaleRecord) == len(sandbox.server.cases)
        assert await count(hub.engine, OrderRecord) == len(sandbox.server.orders)
        events = await count(hub.engine, EventRecord)
        [again] = await sync_shops(hub)
        assert again.stats.new == again.stats.changed == 0
        assert await count(hub.engine, EventRecord) == events
    finally:
        await sandbox.stop()


async def test_change_is_picked_up_with_an_event(make_hub):
    hub, sandbox = await setup(make_hub)
    try:
        await sync_shops(hub)
        case_id = next(k for k, v in sandbox.server.cases.items() if v["status"] == "NEW")
        sandbox.server.clock.advance(timedelta(hours=1))
        sandbox.server.touch(case_id, status="AGREED")
        [summary] = await sync_shops(hub)
        assert summary.stats.changed >= 1
        async with hub.engine.connect() as conn:
            status = (
                await conn.execute(
                    select(AfterSaleRecord.status).where(AfterSaleRecord.external_id == case_id)
                )
            ).scalar_one()
            kinds = (
                (await conn.execute(select(EventRecord.kind).where(EventRecord.external_id == case_id)))
                .scalars()
                .all()
            )
        assert status == "refunding"
        assert "status_changed" in kinds
    finally:
        await sandbox.stop()


async def test_rate_limit_is_waited_out_and_auth_failure_marks_shop(make_hub):
    hub, sandbox = await setup(make_hub)
    waits: list[float] = []

    async def sleep(s: float) -> None:
        waits.append(s)

    hub.sleep = sleep
    try:
        sandbox.server.inject("rate_limit", seconds=7)
        [summary] = await sync_shops(hub)
        assert summary.status == "ok" and 7 in waits
        sandbox.server.clock.advance(timedelta(hours=2))
        sandbox.server.inject("auth_expired")
        [summary] = await sync_shops(hub)
        assert summary.status == "reauth"
        [summary] = await sync_shops(hub)
        assert summary.status == "reauth"  # skipped until re-authorised
    finally:
        await sandbox.stop()


async def test_malformed_record_is_quarantined_and_rest_lands(make_hub):
    hub, sandbox = await setup(make_hub)
    try:
        bad = next(iter(sandbox.server.cases))
        sandbox.server.cases[bad]["amount"] = "12.3.4"
        [summary] = await sync_shops(hub)
        assert summary.stats.quarantined == 1
        assert await count(hub.engine, QuarantineRecord) == 1
        assert await count(hub.engine, AfterSaleRecord) == len(sandbox.server.cases) - 1
        assert await count(hub.engine, RawRecordRow) == len(sandbox.server.cases) - 1 + len(
            sandbox.server.orders
        )
    finally:
        await sandbox.stop()


async def test_unchanged_resync_performs_no_writes(make_hub):
    """Apart from the run log and the shop lease, a re-sync of unchanged data writes nothing."""
    from sqlalchemy import event

    hub, sandbox = await setup(make_hub)
    try:
        await sync_shops(hub)
        writes: list[str] = []

        def spy(conn, cursor, statement, params, context, executemany):
            verb = statement.lstrip().split(" ", 1)[0].upper()
            if (
                verb in ("INSERT", "UPDATE", "DELETE")
                and "sync_runs" not in statement
                and "lease_" not in statement
            ):
                writes.append(statement.split("\n", 1)[0][:80])

        event.listen(hub.engine.sync_engine, "before_cursor_execute", spy)
        try:
            [again] = await sync_shops(hub, since=sandbox.server.clock.now() - timedelta(days=30))
        finally:
            event.remove(hub.engine.sync_engine, "before_cursor_execute", spy)
        assert again.stats.fetched > 0
        assert writes == []
    finally:
        await sandbox.stop()


async def test_hook_hub_on_case_changed_only_on_real_change(make_hub):
    """Notification hooks run after a real change (awaitables awaited), never on an unchanged
    re-sync, and a failing one never breaks the sync."""
    import types

    from hub import hookimpl

    seen: list[tuple[str, dict]] = []
    listener = types.ModuleType("listener")
    broken = types.ModuleType("broken")

    @hookimpl
    def record_change(shop, case, changes):
        """Record the change (asynchronously, to prove awaitables are awaited)."""

        async def record():
            seen.append((case.external_id, dict(changes)))

        return record()

    @hookimpl
    def fail(shop, case, changes):
        """Fail."""
        raise RuntimeError("boom")

    listener.hub_on_case_changed = record_change  # type: ignore[attr-defined]
    broken.hub_on_case_changed = fail  # type: ignore[attr-defined]
    sandbox = AcmeSandbox()
    shops = await sandbox.start("")
    try:
        hub = make_hub(acme, listener)
        await add_shop(hub.engine, hub.registry.info("acme"), "acme-1", dict(shops[0].settings))
        await sync_shops(hub)
        assert len(seen) == len(sandbox.server.cases) and all(c == {} for _, c in seen)
        seen.clear()
        await sync_shops(hub)
        assert seen == []
        case_id = next(k for k, v in sandbox.server.cases.items() if v["status"] == "NEW")
        sandbox.server.clock.advance(timedelta(hours=1))
        sandbox.server.touch(case_id, status="AGREED")
        hub2 = make_hub(acme, listener, broken)
        [summary] = await sync_shops(hub2)
        assert summary.status == "ok"
        assert [c for c, _ in seen] == [case_id]
        assert seen[0][1]["status"] == ["requested", "refunding"]
    finally:
        await sandbox.stop()


async def test_a_leased_shop_is_skipped_and_a_lapsed_lease_is_taken(make_hub):
    """Two hub processes on one database never sync the same shop at once."""
    from hub.store.models import ShopRecord
    from hub.sync import leases

    hub, sandbox = await setup(make_hub)
    try:
        async with hub.engine.connect() as conn:
            shop_id = (await conn.execute(select(ShopRecord.id))).scalar_one()
        now = sandbox.server.clock.now()
        assert await leases.acquire(hub.engine, shop_id, now, owner="other-worker")
        [summary] = await sync_shops(hub)
        assert summary.status == "skipped" and summary.stats.fetched == 0
        # the other worker died: once its lease lapses, this one syncs
        sandbox.server.clock.advance(leases.LEASE + timedelta(seconds=1))
        [summary] = await sync_shops(hub)
        assert summary.status == "ok" and summary.stats.new > 0
        async with hub.engine.connect() as conn:
            owner = (await conn.execute(select(ShopRecord.lease_owner))).scalar_one()
        assert owner is None  # released at the end
    finally:
        await sandbox.stop()


async def test_a_lease_of_a_killed_local_process_is_taken_at_once(make_hub):
    import asyncio
    import os
    import socket

    from hub.store.models import ShopRecord
    from hub.sync import leases

    hub, sandbox = await setup(make_hub)
    try:
        async with hub.engine.connect() as conn:
            shop_id = (await conn.execute(select(ShopRecord.id))).scalar_one()
        gone = await asyncio.create_subprocess_exec("true")
        await gone.wait()  # a pid that no longer runs
        dead = f"{socket.gethostname()}:{gone.pid}:deadbeef"
        alive = f"{socket.gethostname()}:{os.getpid()}:cafe0000"
        now = sandbox.server.clock.now()
        assert await leases.acquire(hub.engine, shop_id, now, owner=alive)
        assert not await leases.acquire(hub.engine, shop_id, now, owner=dead)  # alive holder keeps it
        await leases.release(hub.engine, shop_id, owner=alive)
        assert await leases.acquire(hub.engine, shop_id, now, owner=dead)
        [summary] = await sync_shops(hub)  # the dead holder's lease is taken over at once
        assert summary.status == "ok"
    finally:
        await sandbox.stop()


async def test_a_rules_change_recomputes_stored_next_actions_at_the_next_sync(make_hub):
    """A stored next action that no longer matches the rules (a new plugin release, a migrated
    database: the shop's rules digest differs) is recomputed before the next sync."""
    from sqlalchemy import update

    from hub.store.models import ShopRecord

    hub, sandbox = await setup(make_hub)
    try:
        await sync_shops(hub)
        C = AfterSaleRecord.__table__
        async with hub.engine.connect() as conn:
            row = (
                await conn.execute(select(C).where(C.c.status == "requested", C.c.is_open.is_(True)))
            ).first()
        assert row is not None and row.deadline_due_at is not None
        # as if computed by older rules
        async with hub.engine.begin() as conn:
            await conn.execute(
                update(C).where(C.c.id == row.id).values(deadline_due_at=None, deadline_party="buyer")
            )
        await sync_shops(hub)  # same digest: stored actions are trusted, nothing recomputed
        async with hub.engine.connect() as conn:
            assert (
                await conn.execute(select(C.c.deadline_party).where(C.c.id == row.id))
            ).scalar() == "buyer"
        async with hub.engine.begin() as conn:
            await conn.execute(update(ShopRecord.__table__).values(rules_digest="older rules"))
        [summary] = await sync_shops(hub)
        assert summary.status == "ok", summary.errors
        async with hub.engine.connect() as conn:
            fixed = (await conn.execute(select(C).where(C.c.id == row.id))).one()
        assert fixed.deadline_party == "merchant" and fixed.deadline_due_at == row.deadline_due_at
        assert fixed.work_due_at == row.work_due_at
    finally:
        await sandbox.stop()
