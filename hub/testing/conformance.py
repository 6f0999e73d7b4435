"""The conformance suite every platform plugin runs against its own sandbox.

In the plugin's tests::

    from hub.testing.conformance import ConformanceSuite

    class TestConformance(ConformanceSuite):
        pass

with a ``conformance_harness`` fixture (see :mod:`hub.testing.harness`) in the same package.
It checks, through the real sync engine and store: registration, paging over a window, idempotent
re-sync, newer-wins (also against out-of-order input), the checkpoint path a scheduled sync takes
(no ``since``), a platform clock that differs from the hub's, quarantine of a malformed record,
error classification (rate limit waited out, expired credentials isolate the shop, server errors
and timeouts retried), ``fetch_one``, ``available_actions`` (closed cases allow no platform
action), ``perform`` through the core (recorded, idempotent, the case re-fetched), next-action
output in the unified vocabulary, and totality: the rule table declares every (kind, status) its
mapping produces (``RuleTable.states``), synced cases stay inside it, and no state waiting on the
merchant is left without a clock or an explicit no-clock row. Each test's name says what broke.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from ..domain import AfterSaleStatus, DeadlineSource, OnExpiry, Party
from ..platform import PlatformAdapter
from ..rules import check_table, check_totality
from ..runtime import Hub
from ..store.base import tbl
from ..store.models import (
    AfterSaleRecord,
    EventRecord,
    OrderRecord,
    QuarantineRecord,
    RawRecordRow,
    ShopRecord,
)
from ..store.serialize import after_sale_from_row
from ..store.shops import add_shop, shop_from_row
from ..store.upsert import upsert_batch
from ..sync import sync_shops
from ..sync.engine import ShopSummary
from .harness import ALL_FAULTS, ConformanceHarness

SHOP = "conformance"


class ConformanceSuite:
    """Subclass in a plugin's tests; needs the ``conformance_harness`` fixture."""

    @pytest.fixture
    async def conformance_hub(
        self, conformance_harness: ConformanceHarness, make_hub: Callable[..., Hub]
    ) -> Hub:
        harness = conformance_harness
        waits: list[float] = []

        async def sleep(seconds: float) -> None:
            waits.append(seconds)

        # The hub's clock reads the platform's, as on a machine whose clock is right; the skew
        # test moves it away on purpose.
        hub = make_hub(harness.plugin, sleep=sleep, now=harness.now)
        hub.waits = waits  # type: ignore[attr-defined]
        await add_shop(hub.engine, hub.registry.info(harness.platform_id), SHOP, dict(harness.shop.settings))
        return hub

    async def _sync(self, hub: Hub, harness: ConformanceHarness) -> Any:
        since = _since(harness)
        [summary] = await sync_shops(hub, since=since)
        return summary

    async def _sync_from_checkpoint(self, hub: Hub) -> ShopSummary:
        """The scheduled sync: no ``since``, each resource from its checkpoint less its overlap."""
        [summary] = await sync_shops(hub)
        return summary

    async def _case(self, hub: Hub, external_id: str) -> Any:
        cases = tbl(AfterSaleRecord)
        async with hub.engine.connect() as conn:
            return (await conn.execute(select(cases).where(cases.c.external_id == external_id))).first()

    async def _counts(self, hub: Hub) -> dict[str, int]:
        raw = tbl(RawRecordRow)
        async with hub.engine.connect() as conn:
            rows = (await conn.execute(select(raw.c.resource, func.count()).group_by(raw.c.resource))).all()
            q = tbl(QuarantineRecord)
            qrows = (
                await conn.execute(
                    select(q.c.resource, func.count()).where(q.c.resolved_at.is_(None)).group_by(q.c.resource)
                )
            ).all()
        out: dict[str, int] = {}
        for resource, n in [*rows, *qrows]:
            out[resource] = out.get(resource, 0) + int(n)
        return out

    async def _table_count(self, hub: Hub, model: Any) -> int:
        async with hub.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(model))).scalar_one())

    # -- registration --------------------------------------------------------------------------

    async def test_registration(self, conformance_harness: ConformanceHarness, conformance_hub: Hub) -> None:
        info = conformance_hub.registry.info(conformance_harness.platform_id)
        assert info.id == conformance_harness.platform_id
        assert info.name and info.name_zh
        for s in info.settings:
            assert s.help, f"setting {s.name} has no help"
        for c in info.capabilities:
            assert c.label and c.label_zh, f"capability {c.action} has no labels"
            assert c.supported or c.reason, f"unsupported capability {c.action} says no reason"
        async with conformance_hub.engine.connect() as conn:
            row = (await conn.execute(select(tbl(ShopRecord)))).first()
        adapter = conformance_hub.adapter(shop_from_row(row))
        try:
            assert isinstance(adapter, PlatformAdapter)
            table = adapter.rule_table()
            assert table.platform == info.id
            assert check_table(table) == []
            for r in table.rules:
                assert r.source.strip() and r.summary_zh and r.summary_en, f"{r.id} lacks source or summary"
            assert table.states, "the rule table declares no states (the (kind, status) its mapping produces)"
            uncovered = check_totality(table, info.merchant_side)
            assert uncovered == [], (
                f"states waiting on the merchant with no clock and no no-clock row: {uncovered}"
            )
            assert adapter.resources(), "no resources to sync"
        finally:
            await adapter.close()

    # -- paging and idempotence ----------------------------------------------------------------

    async def test_sync_pages_over_window(
        self, conformance_harness: ConformanceHarness, conformance_hub: Hub
    ) -> None:
        summary = await self._sync(conformance_hub, conformance_harness)
        assert summary.status == "ok", summary.errors
        assert await self._counts(conformance_hub) == conformance_harness.expected_counts()
        assert await self._table_count(conformance_hub, AfterSaleRecord) > 0

    async def test_resync_is_idempotent(
        self, conformance_harness: ConformanceHarness, conformance_hub: Hub
    ) -> None:
        await self._sync(conformance_hub, conformance_harness)
        events = await self._table_count(conformance_hub, EventRecord)
        async with conformance_hub.engine.connect() as conn:
            before = (await conn.execute(select(tbl(AfterSaleRecord)).order_by(AfterSaleRecord.id))).all()
        summary = await self._sync(conformance_hub, conformance_harness)
        assert summary.stats.new == 0 and summary.stats.changed == 0, summary.as_dict()
        assert await self._table_count(conformance_hub, EventRecord) == events
        async with conformance_hub.engine.connect() as conn:
            after = (await conn.execute(select(tbl(AfterSaleRecord)).order_by(AfterSaleRecord.id))).all()
        assert before == after

    # -- newer wins ----------------------------------------------------------------------------

    async def test_newer_wins_and_older_is_ignored(
        self, conformance_harness: ConformanceHarness, conformance_hub: Hub
    ) -> None:
        hub, harness = conformance_hub, conformance_harness
        await self._sync(hub, harness)
        cases = tbl(AfterSaleRecord)
        raws = tbl(RawRecordRow)
        harness.advance(timedelta(minutes=10))
        ext = harness.modify_one()
        async with hub.engine.connect() as conn:
            old_raw = (await conn.execute(select(raws).where(raws.c.external_id == ext))).first()
            old_case = (await conn.execute(select(cases).where(cases.c.external_id == ext))).first()
        assert old_raw is not None and old_case is not None
        harness.advance(timedelta(minutes=10))
        summary = await self._sync(hub, harness)
        assert summary.stats.changed >= 1
        async with hub.engine.connect() as conn:
            new_case = (await conn.execute(select(cases).where(cases.c.external_id == ext))).first()
            events = await self._table_count(hub, EventRecord)
        assert new_case is not None and new_case.platform_updated_at > old_case.platform_updated_at
        # Replaying the old version (an out-of-order page) changes nothing.
        from ..domain import RawRecord

        stale = RawRecord(
            resource=old_raw.resource,
            external_id=ext,
            payload=old_raw.payload,
            updated_at=old_raw.platform_updated_at,
        )
        shop = shop_from_row(await _shop_row(hub))
        adapter = hub.adapter(shop)
        try:
            async with hub.engine.begin() as conn:
                stats = await upsert_batch(
                    conn,
                    shop_id=shop.id or 0,
                    records=[stale],
                    mapper=adapter.map_record,
                    rules=adapter.rule_table(),
                    settings=shop.settings,
                    now=hub.now(),
                )
        finally:
            await adapter.close()
        assert stats.new == stats.changed == 0
        async with hub.engine.connect() as conn:
            again = (await conn.execute(select(cases).where(cases.c.external_id == ext))).first()
        assert again == new_case
        assert await self._table_count(hub, EventRecord) == events

    # -- quarantine ----------------------------------------------------------------------------

    async def test_malformed_record_is_quarantined(
        self, conformance_harness: ConformanceHarness, conformance_hub: Hub
    ) -> None:
        _needs_fault(conformance_harness, "malformed")
        hub, harness = conformance_hub, conformance_harness
        harness.advance(timedelta(minutes=5))
        bad = harness.corrupt_one()
        harness.advance(timedelta(minutes=5))
        summary = await self._sync(hub, harness)
        assert summary.stats.quarantined >= 1
        q = tbl(QuarantineRecord)
        async with hub.engine.connect() as conn:
            row = (await conn.execute(select(q).where(q.c.external_id == bad))).first()
        assert row is not None and row.error, "the malformed record is not in quarantine with its error"
        assert await self._table_count(hub, AfterSaleRecord) > 0, "the rest must land"
        # quarantine is idempotent too
        again = await self._sync(hub, harness)
        assert again.stats.new == again.stats.changed == 0

    # -- errors --------------------------------------------------------------------------------

    async def test_rate_limit_is_waited_out(
        self, conformance_harness: ConformanceHarness, conformance_hub: Hub
    ) -> None:
        _needs_fault(conformance_harness, "rate_limit")
        conformance_harness.inject("rate_limit", seconds=3)
        summary = await self._sync(conformance_hub, conformance_harness)
        assert summary.status == "ok", summary.errors
        assert summary.retries >= 1
        assert conformance_hub.waits, "the engine did not wait"  # type: ignore[attr-defined]

    async def test_server_error_is_retried(
        self, conformance_harness: ConformanceHarness, conformance_hub: Hub
    ) -> None:
        _needs_fault(conformance_harness, "server_error")
        conformance_harness.inject("server_error", count=2)
        summary = await self._sync(conformance_hub, conformance_harness)
        assert summary.status == "ok", summary.errors
        assert summary.retries >= 2
        assert await self._counts(conformance_hub) == conformance_harness.expected_counts()

    async def test_expired_credentials_mark_the_shop(
        self, conformance_harness: ConformanceHarness, conformance_hub: Hub
    ) -> None:
        _needs_fault(conformance_harness, "auth_expired")
        conformance_harness.inject("auth_expired", count=1)
        summary = await self._sync(conformance_hub, conformance_harness)
        assert summary.status == "reauth"
        row = await _shop_row(conformance_hub)
        assert row.needs_reauth and row.reauth_reason
        skipped = await self._sync(conformance_hub, conformance_harness)
        assert skipped.status == "reauth" and skipped.stats.fetched == 0

    # -- deadlines -----------------------------------------------------------------------------

    async def test_deadlines_speak_the_vocabulary(
        self, conformance_harness: ConformanceHarness, conformance_hub: Hub
    ) -> None:
        await self._sync(conformance_hub, conformance_harness)
        cases = tbl(AfterSaleRecord)
        async with conformance_hub.engine.connect() as conn:
            rows = (await conn.execute(select(cases))).all()
            orders = (await conn.execute(select(tbl(OrderRecord)))).all()
        shop = shop_from_row(await _shop_row(conformance_hub))
        adapter = conformance_hub.adapter(shop)
        try:
            ids = {r.id for r in adapter.rule_table().rules}
        finally:
            await adapter.close()
        with_deadline = 0
        for r in [*rows, *orders]:
            if r.deadline_due_at is None:
                continue
            with_deadline += 1
            assert Party(r.deadline_party) and OnExpiry(r.deadline_on_expiry)
            assert DeadlineSource(r.deadline_source)
            assert r.deadline_consequence_zh and r.deadline_consequence_en
            assert r.deadline_rule_id is None or r.deadline_rule_id in ids, r.deadline_rule_id
            if r.deadline_source in ("rule", "policy") and r.deadline_via is None:
                assert r.deadline_rule_id in ids
        for r in rows:
            status = AfterSaleStatus(r.status)
            assert r.is_open == status.is_open
        assert with_deadline > 0, "no case or order got a deadline"

    async def test_next_actions_are_total(
        self, conformance_harness: ConformanceHarness, conformance_hub: Hub
    ) -> None:
        """Every synced case is in a declared state; every open one has a next action, and one
        waiting on the merchant has a clock or says why none applies."""
        await self._sync(conformance_hub, conformance_harness)
        async with conformance_hub.engine.connect() as conn:
            rows = (await conn.execute(select(tbl(AfterSaleRecord)))).all()
        shop = shop_from_row(await _shop_row(conformance_hub))
        adapter = conformance_hub.adapter(shop)
        try:
            table = adapter.rule_table()
        finally:
            await adapter.close()
        outside = sorted({(r.kind, r.status) for r in rows} - set(table.states))
        assert outside == [], f"synced cases in states the rule table does not declare: {outside}"
        for r in rows:
            if not r.is_open:
                continue
            assert r.deadline_party is not None, f"open case {r.external_id} has no next action"
            party = Party(r.deadline_party)
            assert party is not Party.NONE, f"open case {r.external_id} waits on nobody"
            if party is Party.MERCHANT:
                assert r.deadline_due_at is not None or r.deadline_no_clock_reason, (
                    f"case {r.external_id} ({r.kind}, {r.status}) waits on the merchant with no clock "
                    "and no reason"
                )
                assert "no row of the" not in (r.deadline_no_clock_reason or ""), (
                    f"case {r.external_id} ({r.kind}, {r.status}): {r.deadline_no_clock_reason}"
                )


    # -- the scheduled sync and the platform's clock --------------------------------------------

    async def test_checkpoint_sync_without_since_picks_up_changes(
        self, conformance_harness: ConformanceHarness, conformance_hub: Hub
    ) -> None:
        hub, harness = conformance_hub, conformance_harness
        first = await self._sync(hub, harness)
        assert first.status == "ok", first.errors
        harness.advance(timedelta(minutes=10))
        ext = harness.modify_one()
        before = await self._case(hub, ext)
        harness.advance(timedelta(minutes=10))
        summary = await self._sync_from_checkpoint(hub)
        assert summary.status == "ok", summary.errors
        assert summary.stats.changed >= 1, "the checkpoint sync did not see the modified case"
        after = await self._case(hub, ext)
        assert after.platform_updated_at > before.platform_updated_at
        again = await self._sync_from_checkpoint(hub)
        assert again.stats.new == again.stats.changed == 0, again.as_dict()

    @pytest.mark.parametrize("skew_hours", [-7, 7])
    async def test_platform_clock_differs_from_the_hubs(
        self, conformance_harness: ConformanceHarness, conformance_hub: Hub, skew_hours: int
    ) -> None:
        """Windows follow the platform's clock, never the hub's: with the hub hours behind (or
        ahead), everything still lands and a later change is still seen."""
        hub, harness = conformance_hub, conformance_harness
        hub.now = lambda: harness.now() + timedelta(hours=skew_hours)
        summary = await self._sync(hub, harness)
        assert summary.status == "ok", summary.errors
        assert await self._counts(hub) == harness.expected_counts()
        harness.advance(timedelta(minutes=10))
        ext = harness.modify_one()
        before = await self._case(hub, ext)
        harness.advance(timedelta(minutes=10))
        later = await self._sync_from_checkpoint(hub)
        assert later.status == "ok", later.errors
        after = await self._case(hub, ext)
        assert after.platform_updated_at > before.platform_updated_at, "the change was missed"

    # -- fetch_one, available_actions, perform --------------------------------------------------

    async def test_fetch_one_returns_the_stored_record(
        self, conformance_harness: ConformanceHarness, conformance_hub: Hub
    ) -> None:
        hub = conformance_hub
        await self._sync(hub, conformance_harness)
        raws = tbl(RawRecordRow)
        async with hub.engine.connect() as conn:
            rows = (await conn.execute(select(raws).order_by(raws.c.id))).all()
        picked: dict[str, Any] = {}
        for row in rows:
            picked.setdefault(row.resource, row)
        assert picked, "nothing was synced"
        adapter = hub.adapter(shop_from_row(await _shop_row(hub)))
        try:
            for resource, row in picked.items():
                raw = await adapter.fetch_one(resource, row.external_id)
                assert raw is not None, f"fetch_one({resource!r}, {row.external_id!r}) found nothing"
                assert (raw.resource, raw.external_id) == (resource, row.external_id)
                mapped = adapter.map_record(raw)
                assert mapped.external_id == row.external_id
        finally:
            await adapter.close()

    async def test_available_actions_name_every_capability_and_closed_cases_allow_none(
        self, conformance_harness: ConformanceHarness, conformance_hub: Hub
    ) -> None:
        from ..actions import available_actions

        hub = conformance_hub
        await self._sync(hub, conformance_harness)
        info = hub.registry.info(conformance_harness.platform_id)
        capabilities = {c.action for c in info.capabilities}
        cases = tbl(AfterSaleRecord)
        async with hub.engine.connect() as conn:
            rows = (await conn.execute(select(cases).order_by(cases.c.id))).all()
        closed = [r for r in rows if not AfterSaleStatus(r.status).is_open][:5]
        opened = [r for r in rows if AfterSaleStatus(r.status).is_open][:5]
        shop = shop_from_row(await _shop_row(hub))
        adapter = hub.adapter(shop)
        try:
            for row in [*opened, *closed]:
                named = {a.action for a in adapter.available_actions(after_sale_from_row(row), None)}
                assert named <= capabilities, f"available_actions names unknown {named - capabilities}"
        finally:
            await adapter.close()
        for row in [*opened, *closed]:
            states = [a for a in await available_actions(hub, row.id) if a["origin"] == "platform"]
            assert {a["action"] for a in states} == capabilities
            for a in states:
                assert a["enabled"] or a["reason"], f"{a['action']} is disabled without a reason"
            if row in closed:
                assert not any(a["enabled"] for a in states), f"closed case {row.external_id} allows actions"

    async def test_perform_through_the_core_records_once_and_refetches(
        self, conformance_harness: ConformanceHarness, conformance_hub: Hub
    ) -> None:
        from ..actions import available_actions, perform_action

        hub, harness = conformance_hub, conformance_harness
        await self._sync(hub, harness)
        sample = getattr(harness, "action_sample", None)
        chosen: tuple[Any, str, dict[str, Any]] | None = None
        if sample is not None:
            picked = sample()
            if picked is not None:
                ext, action, params = picked
                chosen = (await self._case(hub, ext), action, dict(params))
        else:
            chosen = await _first_enabled_action(hub)
        if chosen is None:
            pytest.skip(
                f"{harness.platform_id}: no case offers an enabled platform action without required "
                "parameters; give the harness action_sample() -> (external_id, action, params)"
            )
        row, action, params = chosen
        assert row is not None, "action_sample names a case that was not synced"
        states = {a["action"]: a for a in await available_actions(hub, row.id)}
        assert states[action]["enabled"], f"{action} is not enabled: {states[action]['reason']}"
        reply = await perform_action(hub, row.id, action, params, actor="conformance")
        assert reply.status in ("done", "recorded", "needs_verification"), reply.message
        assert not reply.replayed
        again = await perform_action(
            hub, row.id, action, params, actor="conformance", idempotency_key=reply.idempotency_key
        )
        assert again.replayed and again.id == reply.id, "the same key acted twice"
        events = tbl(EventRecord)
        async with hub.engine.connect() as conn:
            kinds = (
                await conn.execute(select(events.c.kind).where(events.c.external_id == row.external_id))
            ).scalars()
            assert "action" in set(kinds), "the action is not on the case's timeline"
        if reply.status == "done":
            after = await self._case(hub, row.external_id)
            assert after.platform_updated_at >= row.platform_updated_at

    # -- timeouts -------------------------------------------------------------------------------

    async def test_timeout_is_retried(
        self, conformance_harness: ConformanceHarness, conformance_hub: Hub
    ) -> None:
        _needs_fault(conformance_harness, "timeout")
        stall = float(getattr(conformance_harness, "timeout_stall", 3.0))
        conformance_harness.inject("timeout", seconds=stall)
        summary = await self._sync(conformance_hub, conformance_harness)
        assert summary.status == "ok", summary.errors
        assert summary.retries >= 1, "a request that timed out was not retried"
        assert await self._counts(conformance_hub) == conformance_harness.expected_counts()


async def _first_enabled_action(hub: Hub) -> tuple[Any, str, dict[str, Any]] | None:
    """An open case with an enabled platform action that needs no parameter, if any."""
    from ..actions import available_actions

    cases = tbl(AfterSaleRecord)
    async with hub.engine.connect() as conn:
        rows = (await conn.execute(select(cases).order_by(cases.c.id))).all()
    for row in rows:
        if not AfterSaleStatus(row.status).is_open:
            continue
        for a in await available_actions(hub, row.id):
            if a["origin"] == "platform" and a["enabled"] and not any(p["required"] for p in a["params"]):
                return row, a["action"], {}
    return None


def _needs_fault(harness: ConformanceHarness, fault: str) -> None:
    faults = getattr(harness, "faults", ALL_FAULTS)
    if fault not in faults:
        pytest.skip(
            f"{harness.platform_id} cannot have the fault {fault!r} (its harness says faults={faults})"
        )


def _since(harness: ConformanceHarness) -> Any:
    since = getattr(harness, "data_since", None)
    return since() - timedelta(minutes=1) if since else harness.now() - timedelta(days=31)


async def _shop_row(hub: Hub) -> Any:
    async with hub.engine.connect() as conn:
        return (await conn.execute(select(tbl(ShopRecord)).where(ShopRecord.name == SHOP))).first()
