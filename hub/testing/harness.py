"""The harness a platform plugin provides so the conformance suite can drive its sandbox.

A plugin's test package defines a fixture named ``conformance_harness`` that yields an object
satisfying :class:`ConformanceHarness`, started, and stops it afterwards.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import ModuleType
from typing import Protocol, runtime_checkable

from ..platform import DemoShop

#: The faults the conformance suite plays; the same names as :data:`hub.testing.fake_server.FAULTS`.
ALL_FAULTS = ("rate_limit", "auth_expired", "server_error", "timeout", "malformed")


@runtime_checkable
class ConformanceHarness(Protocol):
    #: the platform id the plugin registers
    platform_id: str
    #: the plugin module (its hookimpls), registered in a plugin manager without entry points
    plugin: ModuleType
    #: a shop whose settings point at the running sandbox
    shop: DemoShop
    #: the faults this platform can have (optional; default: all of :data:`ALL_FAULTS`). A platform
    #: without an API (import files) has no rate limit, credentials or server errors: it says
    #: ``faults = ("malformed",)`` and the suite skips the tests of the others, saying why.

    def now(self) -> datetime:
        """The sandbox platform's clock (aware UTC)."""
        ...

    def advance(self, delta: timedelta) -> None:
        """Move the sandbox clock forward; cases move on by the platform's own rules."""
        ...

    def expected_counts(self) -> dict[str, int]:
        """How many records each resource of the shop holds now, e.g. {"trade": 300, "refund": 40}.

        Counted over everything modified up to ``now()``; a sync from far enough back must store
        exactly that many orders (resources mapped to orders) and after-sales cases.
        """
        ...

    def data_since(self) -> datetime:
        """The earliest modified time of the sandbox's records: the suite syncs from there.

        Keep the conformance data within a few days of ``now()`` so that the suite's syncs stay
        fast for platforms with small windows (PDD: 30 minutes).
        """
        ...

    def inject(self, kind: str, *, count: int = 1, seconds: float = 1.0) -> None:
        """Make the next ``count`` requests fail: rate_limit (ban of ``seconds``), auth_expired,
        server_error, timeout (stall ``seconds``)."""
        ...

    def corrupt_one(self) -> str:
        """Make one after-sales record malformed (unmappable) and newly modified; return its external id."""
        ...

    def modify_one(self) -> str:
        """Change one open after-sales case (a newer modified time, a new status); return its external id."""
        ...
