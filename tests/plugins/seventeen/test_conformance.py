"""The hub's conformance suite against the 17网 export world.

17网 has no API (no SDK, no documentation): nothing can rate-limit, expire credentials or
answer 5xx, so the harness declares ``faults = ("malformed",)`` and the suite skips the three
error-classification tests, saying why. A malformed file is covered by ``test_snapshot.py``.
"""

from __future__ import annotations

from hub.testing.conformance import ConformanceSuite


class TestConformance(ConformanceSuite):
    pass
