"""Fixtures: the fake PDD router on loopback, an adapter pointed at it, and the conformance harness."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType

import aiohttp
import pytest

import plugins.pinduoduo as plugin_module
from hub.clock import utcnow
from hub.domain import RawRecord, Shop
from hub.platform import AdapterContext, DemoShop, Window
from hub.ratelimit import RateLimiter
from plugins.pinduoduo.adapter import PddAdapter, make_adapter
from plugins.pinduoduo.sandbox import FakePddServer, PddSandbox

LAG = timedelta(minutes=3)


class SpyLimiter(RateLimiter):
    """A fast limiter that remembers which APIs asked for a token."""

    def __init__(self) -> None:
        super().__init__(default_rate=100_000)
        self.asked: list[str | None] = []

    async def acquire(self, api: str | None = None) -> None:
        self.asked.append(api)
        await super().acquire(api)


@pytest.fixture
async def server() -> AsyncIterator[FakePddServer]:
    s = FakePddServer()
    s.generate()
    await s.start()
    yield s
    await s.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def settings_for(server: FakePddServer, **extra: str) -> dict[str, str]:
    return {
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "access_token": server.access_token,
        "gateway_url": server.gateway_url,
        "push_url": server.push_url,
        "request_timeout": "0.5",
        **extra,
    }


def build_adapter(
    server: FakePddServer,
    session: aiohttp.ClientSession,
    data_dir: Path,
    limiter: RateLimiter | None = None,
    **extra: str,
) -> PddAdapter:
    ctx = AdapterContext(session=session, limiter=limiter or SpyLimiter(), now=utcnow, data_dir=data_dir)
    return make_adapter(Shop(name="t", platform="pinduoduo", settings=settings_for(server, **extra)), ctx)


@pytest.fixture
async def adapter(
    server: FakePddServer, session: aiohttp.ClientSession, tmp_path: Path
) -> AsyncIterator[PddAdapter]:
    a = build_adapter(server, session, tmp_path)
    yield a
    await a.close()


async def sync_all(adapter: PddAdapter, resource: str, *, days: float = 14) -> dict[str, RawRecord]:
    """Read every window of ``resource`` up to PDD's clock minus the lag, the way the engine does."""
    end = await adapter.platform_now() - LAG
    start = end - timedelta(days=days)
    out: dict[str, RawRecord] = {}
    while start < end:
        stop = min(start + timedelta(minutes=30), end)
        async for page in adapter.fetch_window(resource, Window(start=start, end=stop)):
            for r in page.records:
                out[r.external_id] = r
        start = stop
    return out


@dataclass
class PddHarness:
    """The conformance harness (hub.testing.harness.ConformanceHarness) over PddSandbox."""

    sandbox: PddSandbox
    shop: DemoShop
    platform_id: str = "pinduoduo"
    plugin: ModuleType = field(default=plugin_module)

    def now(self) -> datetime:
        return self.sandbox.server.clock.now()

    def advance(self, delta: timedelta) -> None:
        self.sandbox.server.advance(delta)

    def expected_counts(self) -> dict[str, int]:
        return self.sandbox.server.expected_counts()

    def inject(self, kind: str, *, count: int = 1, seconds: float = 1.0) -> None:
        self.sandbox.server.inject(kind, count=count, seconds=seconds)

    def corrupt_one(self) -> str:
        return self.sandbox.server.corrupt_one()

    def modify_one(self) -> str:
        return self.sandbox.server.modify_one()

    def data_since(self) -> datetime:
        """The oldest modified time in the shop: the conformance sync starts there."""
        server = self.sandbox.server
        return min([o.updated for o in server.orders.values()] + [c.updated for c in server.cases.values()])


@pytest.fixture
async def conformance_harness(tmp_path: Path) -> AsyncIterator[PddHarness]:
    from hub.testing.fake_server import FakeClock

    # Six hours of history: the same variety of cases in few 30-minute windows, so the engine's
    # real rate limiter (refund list: 10 calls/s, as published) does not make the suite slow.
    sandbox = PddSandbox(clock=FakeClock(), span=timedelta(hours=6))
    shops = await sandbox.start(str(tmp_path))
    shop = DemoShop(
        name=shops[0].name, settings={**shops[0].settings, "request_timeout": "0.5", "rate_limit": "500"}
    )
    yield PddHarness(sandbox=sandbox, shop=shop)
    await sandbox.stop()
