"""Reliability of `hub sync` against plugins with bugs and platforms that misbehave.

Each test drives the sync engine the way `hub sync` does, with a buggy plugin registered
in-process (tests/testplatform/faulty.py) or a sandbox playing a hostile platform.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

import tests.testplatform as acme
import tests.testplatform.faulty as faulty
from hub.store.models import AfterSaleRecord, QuarantineRecord, ShopRecord, SyncRunRecord
from hub.store.shops import add_shop
from hub.sync import leases, sync_shops
from hub.sync.engine import KILLED
from tests.testplatform.server import TOKEN, AcmeSandbox

ROOT = Path(__file__).resolve().parents[2]


async def setup(make_hub: Any, **faulty_settings: str) -> tuple[Any, AcmeSandbox]:
    """One good acme shop and, when settings are given, one faulty shop on the same sandbox."""
    sandbox = AcmeSandbox()
    [demo] = await sandbox.start("")
    hub = make_hub(acme, faulty)
    hub.now = sandbox.server.clock.now
    await add_shop(hub.engine, hub.registry.info("acme"), "good", dict(demo.settings))
    if faulty_settings:
        await add_shop(hub.engine, hub.registry.info("faulty"), "buggy", {**demo.settings, **faulty_settings})
    return hub, sandbox


async def runs(engine: Any) -> dict[str, list[tuple[str, list[str]]]]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(ShopRecord.name, SyncRunRecord.status, SyncRunRecord.errors)
                .join(ShopRecord, ShopRecord.id == SyncRunRecord.shop_id)
                .order_by(SyncRunRecord.id)
            )
        ).all()
    out: dict[str, list[tuple[str, list[str]]]] = {}
    for name, status, errors in rows:
        out.setdefault(name, []).append((status, errors))
    return out


async def quarantine(engine: Any) -> list[Any]:
    async with engine.connect() as conn:
        return list(
            (await conn.execute(select(QuarantineRecord).where(QuarantineRecord.resolved_at.is_(None)))).all()
        )


async def case_count(engine: Any, shop: str) -> int:
    async with engine.connect() as conn:
        return len(
            (
                await conn.execute(
                    select(AfterSaleRecord.id)
                    .join(ShopRecord, ShopRecord.id == AfterSaleRecord.shop_id)
                    .where(ShopRecord.name == shop)
                )
            ).all()
        )


# -- 1. a plugin's fault stays in its shop ---------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "stage", "error"),
    [
        ("missing_method", "order clock", "AttributeError"),
        ("fetch_raises", "case 20", "KeyError"),
        ("bad_setting", "order 20", "ValueError"),
        ("nul_error", "case 20", "RuntimeError: row 3 holds a byte"),
    ],
)
async def test_a_plugin_bug_fails_its_shop_only(make_hub: Any, fault: str, stage: str, error: str) -> None:
    hub, sandbox = await setup(make_hub, fault=fault, page_size="abc")
    try:
        summaries = {s.shop: s for s in await sync_shops(hub)}
        assert summaries["good"].status == "ok", summaries["good"].errors
        assert await case_count(hub.engine, "good") == len(sandbox.server.cases)
        bad = summaries["buggy"]
        assert bad.status == "failed"
        [message] = bad.errors
        assert message.startswith(f"plugin faulty failed on shop buggy ({stage}"), message
        assert error in message
        history = await runs(hub.engine)
        assert history["good"] == [("ok", [])]
        assert history["buggy"][0][0] == "failed" and history["buggy"][0][1] == [message]
    finally:
        await sandbox.stop()


async def test_a_bug_in_close_is_a_warning(make_hub: Any) -> None:
    hub, sandbox = await setup(make_hub, fault="close_raises")
    try:
        summaries = {s.shop: s for s in await sync_shops(hub)}
        assert summaries["buggy"].status == "ok"
        assert "RuntimeError: connection pool already closed" in summaries["buggy"].warnings[0]
    finally:
        await sandbox.stop()


async def test_a_run_left_running_by_a_killed_process_is_closed_as_killed(make_hub: Any) -> None:
    hub, sandbox = await setup(make_hub)
    try:
        async with hub.engine.begin() as conn:
            shop_id = (await conn.execute(select(ShopRecord.id))).scalar_one()
            # what a SIGKILLed `hub sync` leaves: its run row still running, its lease held by a
            # process that no longer exists
            await conn.execute(
                insert(SyncRunRecord).values(
                    shop_id=shop_id, started_at=hub.now(), status="running", errors=[]
                )
            )
        dead = f"{leases.socket.gethostname()}:999999999:deadbeef"
        assert await leases.acquire(hub.engine, shop_id, hub.now(), owner=dead)
        [summary] = await sync_shops(hub)
        assert summary.status == "ok"
        assert (await runs(hub.engine))["good"] == [("killed", [KILLED]), ("ok", [])]
    finally:
        await sandbox.stop()


# -- 2. the boundary: a bad mapped record is quarantined with its field named ---------------------


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("enum_as_str", "status: must be a AfterSaleStatus, got str 'requested'"),
        ("naive_datetime", "updated_at: naive datetime"),
        ("naive_raw", "updated_at: naive datetime"),
        ("negative_fen", "refund_fen: negative"),
        ("float_fen", "refund_fen: must be an integer number of fen, got float"),
        ("int_id", "order_external_id: must be a string, got int"),
        ("nul", "reason: contains a NUL byte"),
        ("long_id", "order_external_id: longer than 80 characters (200)"),
        ("bad_fact", "facts.promised_at: not an ISO time: 'next tuesday'"),
    ],
)
async def test_a_bad_mapped_record_is_quarantined_with_its_field(
    make_hub: Any, fault: str, message: str
) -> None:
    hub, sandbox = await setup(make_hub)
    try:
        case_ids = sorted(sandbox.server.cases)
        bad_ids = {case_ids[3], case_ids[50]}
        if fault == "enum_as_str":  # only a case the mapping puts in "requested"
            bad_ids = {i for i in case_ids if sandbox.server.cases[i]["status"] == "NEW"}
        await add_shop(
            hub.engine,
            hub.registry.info("faulty"),
            "buggy",
            {
                "api_url": sandbox.server.base_url + "/api",
                "token": TOKEN,
                "fault": fault,
                "bad_ids": ",".join(sorted(bad_ids)),
            },
        )
        summaries = {s.shop: s for s in await sync_shops(hub)}
        bad = summaries["buggy"]
        assert bad.status == "ok", bad.errors  # the window landed; the bad records wait in quarantine
        assert bad.stats.quarantined == len(bad_ids)
        assert await case_count(hub.engine, "buggy") == len(case_ids) - len(bad_ids)
        held = await quarantine(hub.engine)
        assert {q.external_id for q in held} == bad_ids
        assert all(message in q.error for q in held), [q.error for q in held]
        assert all(q.payload["id"] in bad_ids for q in held)  # the raw record is kept
        assert any(message in p for p in bad.stats.problems)
    finally:
        await sandbox.stop()


async def test_nul_bytes_the_platform_sent_are_stripped(make_hub: Any) -> None:
    hub, sandbox = await setup(make_hub)
    try:
        victim = sorted(sandbox.server.cases)[7]
        sandbox.server.cases[victim]["reason"] = "破\x00损"
        [summary] = await sync_shops(hub)
        assert summary.status == "ok", summary.errors
        assert await case_count(hub.engine, "good") == len(sandbox.server.cases)
        async with hub.engine.connect() as conn:
            reason = (
                await conn.execute(
                    select(AfterSaleRecord.reason).where(AfterSaleRecord.external_id == victim)
                )
            ).scalar_one()
        assert reason == "破损"
    finally:
        await sandbox.stop()


# -- 3. bounded waits -------------------------------------------------------------------------------


async def test_a_day_long_ban_marks_the_shop_rate_limited_and_later_syncs_skip_it(make_hub: Any) -> None:
    hub, sandbox = await setup(make_hub)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    hub.sleep = sleep
    try:
        sandbox.server.inject("rate_limit", seconds=86400)
        [summary] = await sync_shops(hub)
        assert summary.status == "rate_limited"
        assert summary.rate_limited_until == hub.now() + timedelta(seconds=86400)
        assert not slept or max(slept) <= 300
        assert "rate-limited by the platform until" in summary.errors[0]
        assert summary.as_dict()["rate_limited_until"] == summary.rate_limited_until.isoformat()
        assert (await runs(hub.engine))["good"][0][0] == "rate_limited"
        async with hub.engine.connect() as conn:
            shop = (await conn.execute(select(ShopRecord))).one()
        assert shop.rate_limited_until == summary.rate_limited_until and "86400" in shop.rate_limit_reason
        calls = len(sandbox.server.calls)
        [skipped] = await sync_shops(hub)
        assert skipped.status == "rate_limited" and skipped.errors[0].startswith("skipped: rate-limited")
        assert len(sandbox.server.calls) == calls, "a rate-limited shop is not called"
        assert len((await runs(hub.engine))["good"]) == 1
        # the operator sees it in `hub shop list`
        from hub.commands import cmd_shop_list

        lines = await _shop_list(hub, cmd_shop_list)
        assert "RATE-LIMITED until" in lines
        sandbox.server.clock.advance(timedelta(days=1, minutes=1))
        [after] = await sync_shops(hub)
        assert after.status == "ok", after.errors
        async with hub.engine.connect() as conn:
            assert (await conn.execute(select(ShopRecord.rate_limited_until))).scalar() is None
    finally:
        await sandbox.stop()


async def _shop_list(hub: Any, cmd: Any) -> str:
    import contextlib
    import io

    out = io.StringIO()
    url = hub.engine.url.render_as_string(hide_password=False)
    with contextlib.redirect_stdout(out):
        await cmd(argparse.Namespace(database=url, json=False))
    return out.getvalue()


async def test_max_wait_is_a_shop_setting_and_shorter_waits_are_slept(make_hub: Any) -> None:
    hub, sandbox = await setup(make_hub)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    hub.sleep = sleep
    try:
        sandbox.server.inject("rate_limit", seconds=200)
        [summary] = await sync_shops(hub)
        assert summary.status == "ok" and sum(slept) == 200
        from hub.store.shops import update_shop

        await update_shop(hub.engine, hub.registry.info("acme"), "good", {"max_wait": "90s"})
        sandbox.server.clock.advance(timedelta(hours=1))
        sandbox.server.inject("rate_limit", seconds=200)
        [summary] = await sync_shops(hub)
        assert summary.status == "rate_limited"
        await update_shop(hub.engine, hub.registry.info("acme"), "good", {"max_wait": "soon"})
        sandbox.server.clock.advance(timedelta(hours=1))
        [summary] = await sync_shops(hub)
        assert summary.status == "failed"
        assert summary.errors == ["shop good: setting max_wait='soon' is not a duration (e.g. 90s, 5m)"]
    finally:
        await sandbox.stop()


async def test_the_lease_is_renewed_during_a_long_wait(make_hub: Any) -> None:
    hub, sandbox = await setup(make_hub)
    lapsed: list[bool] = []

    async def sleep(seconds: float) -> None:
        sandbox.server.clock.advance(timedelta(seconds=seconds))
        async with hub.engine.connect() as conn:
            until = (await conn.execute(select(ShopRecord.lease_until))).scalar_one()
        lapsed.append(until < hub.now())

    hub.sleep = sleep
    try:
        from hub.store.shops import update_shop

        await update_shop(hub.engine, hub.registry.info("acme"), "good", {"max_wait": "30m"})
        sandbox.server.inject("rate_limit", seconds=25 * 60)  # longer than the 10-minute lease
        [summary] = await sync_shops(hub)
        assert summary.status == "ok", summary.errors
        assert len(lapsed) > 1 and not any(lapsed), "the lease lapsed while the sync waited"
    finally:
        await sandbox.stop()


async def test_the_lease_is_renewed_between_the_pages_of_a_long_fetch(
    make_hub: Any, monkeypatch: Any
) -> None:
    hub, sandbox = await setup(make_hub)
    # One window at a time: this sandbox advances its clock 3 minutes per request, so requests
    # in flight together would add up their minutes, which real time does not do.
    hub.settings = dataclasses.replace(hub.settings, fetch_windows_in_flight=1)
    server = sandbox.server
    handle = server.handle

    async def slow(request: Any) -> Any:  # every page takes 3 minutes of the platform's clock
        server.clock.advance(timedelta(minutes=3))
        return await handle(request)

    server.handle = slow  # type: ignore[method-assign]
    await server.stop()
    await server.start()
    async with hub.engine.begin() as conn:
        settings = (await conn.execute(select(ShopRecord.settings))).scalar_one()
    settings["api_url"] = server.base_url + "/api"
    from hub.store.shops import update_shop

    await update_shop(hub.engine, hub.registry.info("acme"), "good", settings)
    renewals: list[Any] = []
    fence = leases.fence  # every renewal (between pages, and in each window's commit) runs it

    async def spy(conn: Any, shop_id: int, now: Any, *args: Any, **kwargs: Any) -> None:
        renewals.append(now)
        await fence(conn, shop_id, now, *args, **kwargs)

    monkeypatch.setattr(leases, "fence", spy)
    try:
        server.populate(n_cases=400, days=1, seed=3)  # one day: ~10 pages in one window
        [summary] = await sync_shops(hub)
        assert summary.status == "ok", summary.errors
        gaps = [b - a for a, b in itertools.pairwise(renewals)]
        assert gaps and max(gaps) < leases.LEASE, f"the lease went {max(gaps)} without renewal"
    finally:
        await sandbox.stop()


# -- 4. push is a hint ------------------------------------------------------------------------------


async def test_a_refused_push_channel_is_a_warning_and_push_off_stops_it(make_hub: Any) -> None:
    hub, sandbox = await setup(make_hub)
    try:
        sandbox.server.inject("auth_expired", api="messages.consume")
        [summary] = await sync_shops(hub)
        assert summary.status == "ok", summary.errors
        assert summary.warnings and summary.warnings[0].startswith("push: acme: token_expired")
        async with hub.engine.connect() as conn:
            shop = (await conn.execute(select(ShopRecord))).one()
        assert not shop.needs_reauth
        assert (await runs(hub.engine))["good"][0] == ("ok", [f"warning: {summary.warnings[0]}"])
        from hub.store.shops import update_shop

        await update_shop(hub.engine, hub.registry.info("acme"), "good", {"push": "off"})
        before = len(sandbox.server.calls_to("messages.consume"))
        [summary] = await sync_shops(hub)
        assert summary.status == "ok" and not summary.warnings
        assert len(sandbox.server.calls_to("messages.consume")) == before
    finally:
        await sandbox.stop()


async def test_an_unreachable_push_channel_is_not_retried_for_minutes(make_hub: Any) -> None:
    hub, sandbox = await setup(make_hub)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    hub.sleep = sleep
    try:
        sandbox.server.inject("server_error", api="messages.consume", count=20)
        [summary] = await sync_shops(hub)
        assert summary.status == "ok" and summary.warnings
        assert not slept
    finally:
        await sandbox.stop()


# -- `hub sync` as a user runs it -------------------------------------------------------------------


async def test_hub_sync_with_a_buggy_plugin_prints_every_summary_and_exits_1(tmp_path: Any) -> None:
    import asyncio
    import os
    import sys

    sandbox = AcmeSandbox()
    [demo] = await sandbox.start("")
    db = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    env = {
        **os.environ,
        "HUB_HOME": str(tmp_path),
        "HUB_PLUGINS": "tests.testplatform,tests.testplatform.faulty",
        "HUB_DISABLED_PLUGINS": "taobao,pinduoduo,seventeen",
        "PYTHONPATH": str(ROOT),
        "HUB_LOG_FORMAT": "json",
        "HUB_LOG_LEVEL": "critical",
    }

    async def hub(*args: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "hub",
            "--database",
            db,
            *args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        return proc.returncode or 0, out.decode(), err.decode()

    try:
        url, token = demo.settings["api_url"], demo.settings["token"]
        assert (await hub("db", "upgrade"))[0] == 0
        for platform, name, extra in (
            ("acme", "good", ()),
            ("faulty", "buggy", ("--set", "fault=missing_method")),
        ):
            code, out, err = await hub(
                "shop", "add", platform, name, "--set", f"api_url={url}", "--set", f"token={token}", *extra
            )
            assert code == 0, err
        code, out, err = await hub("sync")
        assert code == 1
        assert "Traceback" not in out + err
        lines = {line.split()[0]: line.split()[1] for line in out.splitlines() if line[:1].isalpha()}
        assert lines["good"] == "ok" and lines["buggy"] == "failed", out
        assert "! plugin faulty failed on shop buggy (order clock): AttributeError" in out
    finally:
        await sandbox.stop()


def test_the_boundary_hash_is_the_store_hash_and_nul_bytes_go() -> None:
    from hub.store.serialize import digest
    from hub.store.validate import clean_doc

    doc = {"id": "C1", "title": "法式 连衣裙", "lines": [{"sku": "A1", "qty": 2}], "n": 1.5, "x": None}
    same, h = clean_doc(doc)
    assert same is doc and h == digest(doc)
    dirty = {"id": "C1\x00", "title": "法式\x00连衣裙", "lines": [{"sku\x00": "A1"}]}
    clean, h = clean_doc(dirty)
    assert clean == {"id": "C1", "title": "法式连衣裙", "lines": [{"sku": "A1"}]}
    assert h == digest(clean)
