"""Fixtures for the Taobao plugin tests: a running fake TOP gateway, adapters pointing at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.domain import AfterSale, RawRecord, Shop
from hub.platform import AdapterContext, Window
from hub.ratelimit import RateLimiter
from hub.testing.fake_server import FakeClock
from plugins.taobao.adapter import TaobaoAdapter, create_adapter
from plugins.taobao.sandbox import Refund, SimShop, TaobaoHarness, TaobaoSandbox

START = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
async def sandbox() -> AsyncIterator[TaobaoSandbox]:
    sb = TaobaoSandbox(clock=FakeClock(START), trades=40)
    await sb.start("")
    yield sb
    await sb.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def make_adapter(
    sandbox: TaobaoSandbox, http: aiohttp.ClientSession, tmp_path: Path
) -> Callable[..., TaobaoAdapter]:
    def make(sim: SimShop, **overrides: str) -> TaobaoAdapter:
        demo = sandbox.demo_shop(sim, **overrides)
        ctx = AdapterContext(
            session=http, limiter=RateLimiter(1000.0), now=sandbox.gateway.clock.now, data_dir=tmp_path
        )
        return create_adapter(Shop(name=demo.name, platform="taobao", settings=demo.settings), ctx)

    return make


@pytest.fixture
def taobao(sandbox: TaobaoSandbox, make_adapter: Callable[..., TaobaoAdapter]) -> TaobaoAdapter:
    assert sandbox.taobao is not None
    return make_adapter(sandbox.taobao, request_timeout="0.5")


@pytest.fixture
def tmall(sandbox: TaobaoSandbox, make_adapter: Callable[..., TaobaoAdapter]) -> TaobaoAdapter:
    assert sandbox.tmall is not None
    return make_adapter(sandbox.tmall, request_timeout="0.5")


async def sync_all(
    adapter: TaobaoAdapter, resource: str, *, back: timedelta = timedelta(days=25)
) -> dict[str, RawRecord]:
    """Read every window of ``resource`` the way the engine would; newest record per id."""
    now = await adapter.platform_now()
    spec = next(s for s in adapter.resources() if s.name == resource)
    assert spec.window is not None
    out: dict[str, RawRecord] = {}
    start = now - back
    while start < now:
        end = min(start + spec.window, now)
        async for page in adapter.fetch_window(resource, Window(start=start, end=end)):
            for record in page.records:
                out[record.external_id] = record
        start = end
    return out


def case_of(adapter: TaobaoAdapter, raw: RawRecord | None) -> AfterSale:
    assert raw is not None
    mapped: Any = adapter.map_record(raw)
    assert isinstance(mapped, AfterSale)
    return mapped


@pytest.fixture
async def conformance_harness() -> AsyncIterator[TaobaoHarness]:
    harness = await TaobaoHarness.started()
    yield harness
    await harness.stop()


_NEXT_REFUND = [70_000_000]


def add_refund(
    sim: SimShop,
    at: datetime,
    *,
    status: str = "WAIT_SELLER_AGREE",
    has_return: bool = False,
    reason: str = "不想要了",
    trade_status: str = "TRADE_FINISHED",
    **extra: Any,
) -> Refund:
    """Put one fresh refund into the simulated shop, on a trade without one, created at ``at``."""
    trade = next(
        t
        for t in sorted(sim.trades.values(), key=lambda t: t.tid)
        if t.status == trade_status and all(o.refund_id is None for o in t.orders)
    )
    order = trade.orders[0]
    _NEXT_REFUND[0] += 1
    refund = Refund(
        refund_id=_NEXT_REFUND[0],
        tid=trade.tid,
        oid=order.oid,
        status=status,
        created=at,
        modified=at,
        reason=reason,
        refund_fen=order.payment_fen,
        total_fen=order.payment_fen,
        has_good_return=has_return,
        title=order.title,
        buyer_nick=trade.buyer_nick,
        seller_nick=sim.nick,
        order_status=trade.status,
        refund_phase="aftersale" if trade.status == "TRADE_FINISHED" else "onsale",
        trade_type=trade.type,
        dispute_type="REFUND_AND_RETURN" if has_return else "REFUND",
    )
    for key, value in extra.items():
        setattr(refund, key, value)
    sim.refunds[refund.refund_id] = refund
    order.refund_status, order.refund_id = status, refund.refund_id
    return refund
