"""hub's conformance suite, run against the Pinduoduo sandbox through the real engine and store."""

from __future__ import annotations

from hub.testing.conformance import ConformanceSuite


class TestConformance(ConformanceSuite):
    pass
