"""The adapter against the fake TOP gateway: windows, pages read last-first, detail merges, faults, hints."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

import pytest

from hub.domain import AfterSale, AfterSaleKind, Order
from hub.errors import MappingError, PlatformAuthError, PlatformConnectionError, PlatformRateLimitError
from hub.platform import PlatformAdapter, Window
from plugins.taobao import INFO
from plugins.taobao.adapter import TaobaoAdapter
from plugins.taobao.sandbox import TaobaoSandbox

from .conftest import add_refund, sync_all


def test_adapter_satisfies_the_protocol(taobao: TaobaoAdapter) -> None:
    assert isinstance(taobao, PlatformAdapter)


def test_resources_and_windows(
    taobao: TaobaoAdapter, tmall: TaobaoAdapter, make_adapter: Any, sandbox: TaobaoSandbox
) -> None:
    assert [r.name for r in taobao.resources()] == ["trade", "refund"]
    assert [r.name for r in tmall.resources()] == ["trade", "refund", "tmall_dispute"]
    assert sandbox.taobao is not None
    default = make_adapter(sandbox.taobao, sync_window="")
    # TOP increment API: "建议使用30分钟以内的时间跨度"; a setting can never exceed 1 day.
    assert default.resources()[0].window == timedelta(minutes=30)
    assert make_adapter(sandbox.taobao, sync_window="3d").resources()[0].window == timedelta(days=1)


def test_settings_declared() -> None:
    settings = {s.name: s for s in INFO.settings}
    assert settings["app_secret"].secret and settings["session"].secret
    assert settings["gateway_url"].default == "https://eco.taobao.com/router/rest"
    assert settings["sign_method"].default == "md5" and "hmac" in settings["sign_method"].choices
    assert settings["tmall"].choices == ("true", "false")


def test_capabilities() -> None:
    caps = {c.action: c for c in INFO.capabilities}
    assert caps["agree_refund"].money_moves and caps["agree_refund"].api == "taobao.rp.refunds.agree"
    assert not any(c.money_moves for a, c in caps.items() if a != "agree_refund")
    assert caps["refuse_return"].api == "taobao.rp.returngoods.refuse"
    assert caps["review"].api == "taobao.rp.refund.review"
    assert not caps["appeal"].supported and caps["appeal"].reason


async def test_full_sync_reads_every_record(sandbox: TaobaoSandbox, tmall: TaobaoAdapter) -> None:
    assert sandbox.tmall is not None
    trades = await sync_all(tmall, "trade")
    refunds = await sync_all(tmall, "refund")
    disputes = await sync_all(tmall, "tmall_dispute")
    assert len(trades) == len(sandbox.tmall.trades)  # "fixed" trades too: the adapter lists the types
    assert len(refunds) == len(sandbox.tmall.refunds)
    # only exchanges come from tmall.dispute.receive.get; refund-type disputes are the refund resource's
    assert len(disputes) == len(sandbox.tmall.exchanges)
    for raw in trades.values():
        assert isinstance(tmall.map_record(raw), Order) and raw.updated_at is not None
    cases = [tmall.map_record(r) for r in (*refunds.values(), *disputes.values())]
    assert all(isinstance(c, AfterSale) for c in cases)
    assert {c.kind for c in cases if isinstance(c, AfterSale)} >= {
        AfterSaleKind.REFUND_ONLY,
        AfterSaleKind.RETURN_REFUND,
        AfterSaleKind.EXCHANGE,
    }
    # the detail the list lacks is merged in
    raw = next(iter(refunds.values()))
    assert {"refund_version", "refund_remind_timeout", "cs_status"} <= set(raw.payload)
    json.dumps(raw.payload)  # JSON-safe as received


async def test_pages_are_read_from_the_last_back(sandbox: TaobaoSandbox, taobao: TaobaoAdapter) -> None:
    assert sandbox.taobao is not None
    now = sandbox.gateway.clock.now()
    sim = sandbox.taobao
    template = next(iter(sim.trades.values()))
    for i in range(250):  # 250 trades modified in the window: three pages of 100
        tid = 5_000_000_000 + i * 10
        sim.trades[tid] = dataclasses.replace(
            template, tid=tid, modified=now - timedelta(minutes=10, seconds=i)
        )
    sandbox.gateway.calls.clear()
    seen = []
    async for page in taobao.fetch_window("trade", Window(start=now - timedelta(minutes=20), end=now)):
        seen.extend(r.external_id for r in page.records)
    pages = [c.params["page_no"] for c in sandbox.gateway.calls_to("taobao.trades.sold.increment.get")]
    assert pages == ["1", "3", "2", "1"]  # count first, then 3 → 1
    assert len(set(seen)) == 250
    call = sandbox.gateway.calls_to("taobao.trades.sold.increment.get")[0].params
    assert call["use_has_next"] == "false" and call["page_size"] == "100" and "fixed" in call["type"]


async def test_empty_window(sandbox: TaobaoSandbox, taobao: TaobaoAdapter) -> None:
    now = sandbox.gateway.clock.now()
    pages = [
        p
        async for p in taobao.fetch_window(
            "refund", Window(start=now - timedelta(days=400), end=now - timedelta(days=399, hours=12))
        )
    ]
    assert sum(len(p.records) for p in pages) == 0


async def test_window_longer_than_a_day_is_refused(sandbox: TaobaoSandbox, taobao: TaobaoAdapter) -> None:
    now = sandbox.gateway.clock.now()
    with pytest.raises(ValueError):
        async for _ in taobao.fetch_window("trade", Window(start=now - timedelta(days=2), end=now)):
            pass


async def test_rate_limit_ban(sandbox: TaobaoSandbox, taobao: TaobaoAdapter) -> None:
    sandbox.gateway.inject("rate_limit", seconds=3)
    with pytest.raises(PlatformRateLimitError) as info:
        await sync_all(taobao, "trade", back=timedelta(days=1))
    assert info.value.retry_after == 3


async def test_expired_session(sandbox: TaobaoSandbox, taobao: TaobaoAdapter) -> None:
    assert sandbox.taobao is not None
    sandbox.taobao.session_expired = True
    with pytest.raises(PlatformAuthError) as info:
        await sync_all(taobao, "refund", back=timedelta(days=1))
    assert info.value.code == "27"


async def test_isp_error_is_retryable(sandbox: TaobaoSandbox, taobao: TaobaoAdapter) -> None:
    sandbox.gateway.inject("server_error", api="taobao.refunds.receive.get")
    with pytest.raises(PlatformConnectionError) as info:
        await sync_all(taobao, "refund", back=timedelta(days=1))
    assert info.value.sub_code is not None and info.value.sub_code.startswith("isp.")


async def test_malformed_refund_raises_mapping_error(sandbox: TaobaoSandbox, taobao: TaobaoAdapter) -> None:
    assert sandbox.taobao is not None
    refund = sorted(sandbox.taobao.refunds.values(), key=lambda r: r.refund_id)[0]
    refund.malformed = True
    refund.touch(sandbox.gateway.clock.now())
    raws = await sync_all(taobao, "refund", back=timedelta(hours=1))
    raw = raws[str(refund.refund_id)]
    with pytest.raises(MappingError) as info:
        taobao.map_record(raw)
    assert info.value.field in ("refund_fee", "created")


async def test_injected_malformed_record_is_kept_raw(sandbox: TaobaoSandbox, taobao: TaobaoAdapter) -> None:
    sandbox.gateway.inject("malformed", api="taobao.trades.sold.increment.get")
    raws = await sync_all(taobao, "trade", back=timedelta(days=25))
    broken = [r for r in raws.values() if r.updated_at is None]
    assert len(broken) == 1
    with pytest.raises(MappingError):
        taobao.map_record(broken[0])


async def test_fetch_one_and_gone(sandbox: TaobaoSandbox, taobao: TaobaoAdapter) -> None:
    assert sandbox.taobao is not None
    tid = next(iter(sandbox.taobao.trades))
    raw = await taobao.fetch_one("trade", str(tid))
    assert raw is not None and raw.external_id == str(tid)
    assert await taobao.fetch_one("trade", "999") is None
    assert await taobao.fetch_one("refund", "999") is None


# -- push (TMC) -------------------------------------------------------------------------------------


async def test_tmc_messages_become_hints_and_are_confirmed(
    sandbox: TaobaoSandbox, taobao: TaobaoAdapter
) -> None:
    assert sandbox.taobao is not None
    sim = sandbox.taobao
    now = sandbox.gateway.clock.now()
    for m in sim.messages:
        m.confirmed = True
    r = add_refund(sim, now)
    sim.refund_event(r, "RefundCreated", now)
    sim.refund_event(r, "RefundBuyerModifyAgreement", now)  # a second message for the same refund
    trade = next(iter(sim.trades.values()))
    sim.trade_event(trade, "TradeMemoModified", now)
    hints = await taobao.fetch_hints()
    assert [(h.resource, h.external_id) for h in hints] == [
        ("refund", str(r.refund_id)),
        ("trade", str(trade.tid)),
    ]
    assert all(h.message_id for h in hints)
    confirm = sandbox.gateway.calls_to("taobao.tmc.messages.confirm")[-1].params
    assert len(confirm["s_message_ids"].split(",")) == 3
    assert await taobao.fetch_hints() == []  # confirmed: not delivered again


async def test_duplicate_or_old_messages_change_nothing(
    sandbox: TaobaoSandbox, taobao: TaobaoAdapter
) -> None:
    """A message is only a hint: the re-fetched record carries the platform's current modified/version,
    so a duplicated or out-of-order message yields the same record (the core's newer-wins keeps it)."""
    assert sandbox.taobao is not None
    sim = sandbox.taobao
    now = sandbox.gateway.clock.now()
    r = add_refund(sim, now - timedelta(hours=2))
    sim.refund_event(r, "RefundCreated", now - timedelta(hours=2))
    sim._set(r, "CLOSED", "RefundClosed", now)
    old = {
        "id": 1,
        "topic": "taobao_refund_RefundCreated",
        "content": json.dumps({"refund_id": r.refund_id, "modified": "2020-01-01 00:00:00"}),
    }
    hint = taobao.hint_for(old)
    assert hint is not None and hint.resource == "refund"
    first = await taobao.fetch_one(hint.resource, hint.external_id)
    again = await taobao.fetch_one(hint.resource, hint.external_id)
    assert first is not None and again is not None
    assert first.payload == again.payload and first.payload["status"] == "CLOSED"


def test_unusable_messages_give_no_hint(taobao: TaobaoAdapter, tmall: TaobaoAdapter) -> None:
    assert taobao.hint_for({"id": 1, "topic": "taobao_refund_RefundCreated", "content": "{not json"}) is None
    assert taobao.hint_for({"id": 2, "topic": "taobao_item_ItemAdd", "content": "{}"}) is None
    exchange = {
        "id": 3,
        "topic": "taobao_refund_RefundCreated",
        "content": json.dumps({"refund_id": 5, "bill_type": "replace_bill"}),
    }
    hint = tmall.hint_for(exchange)
    assert hint is not None and hint.resource == "tmall_dispute"
