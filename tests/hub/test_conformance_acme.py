"""The core runs its own conformance suite against the acme test platform."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from types import ModuleType

import pytest

import tests.testplatform as acme
from hub.platform import DemoShop
from hub.testing.conformance import ConformanceSuite
from tests.testplatform.server import AcmeSandbox


class AcmeHarness:
    platform_id = "acme"
    plugin: ModuleType = acme

    def __init__(self) -> None:
        self.sandbox = AcmeSandbox()
        self.server = self.sandbox.server
        self.shop = DemoShop(name="x", settings={})

    async def start(self) -> None:
        [self.shop] = await self.sandbox.start("")

    def now(self) -> datetime:
        return self.server.clock.now()

    def data_since(self) -> datetime:
        return min(
            datetime.fromisoformat(r["modified"])
            for r in [*self.server.cases.values(), *self.server.orders.values()]
        )

    def advance(self, delta: timedelta) -> None:
        self.server.clock.advance(delta)

    def expected_counts(self) -> dict[str, int]:
        return {"case": len(self.server.cases), "order": len(self.server.orders)}

    def inject(self, kind: str, *, count: int = 1, seconds: float = 0.01) -> None:
        self.server.inject(kind, count=count, seconds=seconds)

    def corrupt_one(self) -> str:
        ext = sorted(self.server.cases)[3]
        self.server.touch(ext, amount="not-money")
        return ext

    def modify_one(self) -> str:
        ext = next(k for k, v in sorted(self.server.cases.items()) if v["status"] == "NEW")
        self.server.touch(ext, status="AGREED")
        return ext


@pytest.fixture
async def conformance_harness() -> AsyncIterator[AcmeHarness]:
    harness = AcmeHarness()
    await harness.start()
    try:
        yield harness
    finally:
        await harness.sandbox.stop()


class TestAcmeConformance(ConformanceSuite):
    pass
