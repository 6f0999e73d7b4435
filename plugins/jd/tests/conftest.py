"""The JD plugin's fixtures: hub's test fixtures and the conformance harness over the sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from types import ModuleType

import hub_jd
import pytest
from hub_jd.sandbox import FakeJosServer

from hub.platform import DemoShop
from hub.testing.fixtures import db_url, engine, make_hub, plugin_manager  # noqa: F401 (fixtures)


class JdHarness:
    """hub.testing.harness.ConformanceHarness over the fake JOS router."""

    platform_id = "jd"
    plugin: ModuleType = hub_jd

    def __init__(self, server: FakeJosServer) -> None:
        self.server = server
        # Short timeouts so the timeout fault is over quickly; no quota to protect on loopback.
        self.shop = DemoShop(
            name="jd-conformance", settings=server.shop_settings(request_timeout="0.5", rate_limit="500")
        )

    def now(self) -> datetime:
        return self.server.clock.now()

    def advance(self, delta: timedelta) -> None:
        self.server.advance(delta)

    def expected_counts(self) -> dict[str, int]:
        return {"service": len(self.server.services)}

    def data_since(self) -> datetime:
        return min(s.updated for s in self.server.services.values())

    def inject(self, kind: str, *, count: int = 1, seconds: float = 1.0) -> None:
        self.server.inject(kind, count=count, seconds=seconds)

    def corrupt_one(self) -> str:
        sid = sorted(self.server.services)[3]
        self.server.touch(sid, applyRefundSum="12.5元")
        return str(sid)

    def modify_one(self) -> str:
        sid = next(k for k, s in sorted(self.server.services.items()) if s.payload["serviceStatus"] == 10001)
        self.server.touch(sid, serviceStatus=10002)
        return str(sid)


@pytest.fixture
async def jd_server() -> AsyncIterator[FakeJosServer]:
    server = FakeJosServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def conformance_harness(jd_server: FakeJosServer) -> JdHarness:
    return JdHarness(jd_server)
