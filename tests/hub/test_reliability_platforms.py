"""Reliability against the real plugins' sandboxes playing hostile platforms: PDD's
"请99999秒后重试", a PDD app without PMC access, Taobao's gateway refusing a drifted timestamp,
the demo sandboxes' clocks, and a NUL byte in a 17网 export cell (PostgreSQL refuses it)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import plugins.pinduoduo as pdd_plugin
import plugins.seventeen as seventeen_plugin
import plugins.taobao as taobao_plugin
from hub.store.models import AfterSaleRecord, OrderRecord, RawRecordRow, ShopRecord
from hub.store.shops import add_shop
from hub.sync import sync_shops
from hub.testing.fake_server import FakeClock, WallClock
from plugins.pinduoduo.sandbox import PddSandbox
from plugins.seventeen.sandbox import SeventeenSandbox
from plugins.taobao.sandbox import TaobaoSandbox

START = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
async def pdd() -> AsyncIterator[PddSandbox]:
    sandbox = PddSandbox(clock=FakeClock(START), span=timedelta(hours=6))
    await sandbox.start("")
    yield sandbox
    await sandbox.stop()


async def pdd_hub(make_hub: Any, sandbox: PddSandbox, **extra: str) -> Any:
    hub = make_hub(pdd_plugin)
    hub.now = sandbox.server.clock.now
    demo = sandbox.demo_shop()
    settings = {**demo.settings, "request_timeout": "0.5", "rate_limit": "500", **extra}
    await add_shop(hub.engine, hub.registry.info("pinduoduo"), "pdd", settings)
    return hub


async def test_pdd_please_retry_in_99999_seconds_marks_the_shop_rate_limited(
    make_hub: Any, pdd: PddSandbox
) -> None:
    hub = await pdd_hub(make_hub, pdd)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    hub.sleep = sleep
    pdd.server.inject("rate_limit", seconds=99999)
    [summary] = await sync_shops(hub)
    assert summary.status == "rate_limited", summary.errors
    assert summary.rate_limited_until == START + timedelta(seconds=99999)
    assert "请99999秒后重试" in summary.errors[0] and not slept
    [skipped] = await sync_shops(hub)
    assert skipped.status == "rate_limited" and "skipped" in skipped.errors[0]


async def test_pdd_without_pmc_access_syncs_ok_with_a_warning(make_hub: Any, pdd: PddSandbox) -> None:
    hub = await pdd_hub(make_hub, pdd)
    pdd.server.pmc_allowed = False
    [summary] = await sync_shops(hub)
    assert summary.status == "ok", summary.errors
    assert summary.stats.new > 0
    assert summary.warnings and "PMC refused the connection (HTTP 401)" in summary.warnings[0]
    async with hub.engine.connect() as conn:
        assert not (await conn.execute(select(ShopRecord.needs_reauth))).scalar_one()


async def test_pdd_with_an_unreachable_pmc_and_push_off(make_hub: Any, pdd: PddSandbox) -> None:
    hub = await pdd_hub(make_hub, pdd, push_url="ws://127.0.0.1:9")
    [summary] = await sync_shops(hub)
    assert summary.status == "ok" and "PMC unreachable" in summary.warnings[0]
    from hub.store.shops import update_shop

    await update_shop(hub.engine, hub.registry.info("pinduoduo"), "pdd", {"push": "off"})
    [summary] = await sync_shops(hub)
    assert summary.status == "ok" and summary.warnings == []


async def test_taobao_relearns_the_gateway_clock_on_invalid_timestamp(make_hub: Any) -> None:
    """The gateway's clock and ours drift apart (a frozen sandbox, a skewed server): an action
    taken more than 10 minutes later is refused "Invalid Timestamp", relearns, and goes through."""
    from hub.actions import perform_action

    sandbox = TaobaoSandbox(clock=FakeClock(START), trades=30)
    await sandbox.start("")
    ours = FakeClock(START)
    try:
        hub = make_hub(taobao_plugin)
        hub.now = ours.now
        assert sandbox.taobao is not None
        demo = sandbox.demo_shop(sandbox.taobao, request_timeout="2")
        await add_shop(hub.engine, hub.registry.info("taobao"), demo.name, dict(demo.settings))
        [summary] = await sync_shops(hub)
        assert summary.status == "ok", summary.errors
        async with hub.engine.connect() as conn:
            case_id = (
                (
                    await conn.execute(
                        select(AfterSaleRecord.id).where(
                            AfterSaleRecord.platform_status == "WAIT_SELLER_AGREE"
                        )
                    )
                )
                .scalars()
                .first()
            )
        assert case_id is not None
        ours.advance(timedelta(minutes=11))  # our clock moved on; the gateway's did not
        reply = await perform_action(hub, case_id, "agree_refund", actor="tester")
        assert reply.status != "failed", reply.message
        assert "Invalid Timestamp" not in reply.message
        assert sandbox.gateway.calls_to("taobao.time.get")
    finally:
        await sandbox.stop()


def test_wall_clock_follows_its_source_and_can_be_moved() -> None:
    real = [START]
    clock = WallClock(source=lambda: real[0])
    assert clock.now() == START
    real[0] += timedelta(minutes=10)
    assert clock.now() == START + timedelta(minutes=10)
    clock.advance(timedelta(hours=1))
    real[0] += timedelta(seconds=5)
    assert clock.now() == START + timedelta(hours=1, minutes=10, seconds=5)
    clock.set(START)
    real[0] += timedelta(seconds=7)
    assert clock.now() == START + timedelta(seconds=7)


def test_the_demo_sandboxes_clocks_follow_real_time() -> None:
    assert isinstance(TaobaoSandbox().gateway.clock, WallClock)
    assert isinstance(PddSandbox().server.clock, WallClock)
    assert isinstance(SeventeenSandbox().world.clock, WallClock)


def poison_csv_exports(folder: Path) -> int:
    """Put a NUL byte inside a text cell of every row of the CSV exports; return how many."""
    poisoned = 0
    for path in sorted(folder.glob("*.csv")):
        raw = path.read_bytes()
        enc = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            enc, text = "gbk", raw.decode("gbk")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        header = rows[0]
        col = next(header.index(n) for n in ("商品名称", "退货原因") if n in header)
        for row in rows[1:]:
            if len(row) > col and row[col]:
                row[col] = row[col][:1] + "\x00" + row[col][1:]  # a NUL inside a text cell
                poisoned += 1
        out = io.StringIO(newline="")
        csv.writer(out, lineterminator="\r\n").writerows(rows)
        path.write_bytes(out.getvalue().encode(enc))
    return poisoned


async def test_a_nul_byte_in_a_17wang_cell_is_stripped_and_the_sync_goes_on(
    make_hub: Any, tmp_path: Path
) -> None:
    sandbox = SeventeenSandbox(clock=FakeClock(START))
    [demo] = await sandbox.start(str(tmp_path))
    hub = make_hub(seventeen_plugin)
    hub.now = sandbox.world.clock.now
    await add_shop(hub.engine, hub.registry.info("seventeen"), demo.name, dict(demo.settings))
    poisoned = poison_csv_exports(Path(demo.settings["import_dir"]))
    assert poisoned, "the sandbox wrote CSV exports"
    [summary] = await sync_shops(hub)
    assert summary.status == "ok", summary.errors
    assert summary.stats.new > 0 and summary.stats.quarantined == 0
    async with hub.engine.connect() as conn:
        stored = [
            json.dumps(list(row), ensure_ascii=False, default=str)
            for table in (OrderRecord, AfterSaleRecord, RawRecordRow)
            for row in (await conn.execute(select(table))).all()
        ]
    assert stored and not any("\\u0000" in text or "\x00" in text for text in stored)
    assert any("法" in text for text in stored)
    [again] = await sync_shops(hub)
    assert again.status == "ok" and again.stats.new == again.stats.changed == 0
