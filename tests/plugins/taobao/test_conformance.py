"""hub's conformance suite against the Taobao sandbox (its Tmall shop), through the real engine and store."""

from __future__ import annotations

from hub.testing.conformance import ConformanceSuite


class TestConformance(ConformanceSuite):
    pass
