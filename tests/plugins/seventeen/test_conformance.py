"""The hub's conformance suite against the 17网 export world.

17网 has no API (reference/platform-apis.md §3): nothing can rate-limit, expire credentials or
answer 5xx, so the three error-classification tests do not apply to an import folder; the
folder's own fault, a malformed file, is covered by ``test_snapshot.py``.
"""

from __future__ import annotations

import pytest

from hub.testing.conformance import ConformanceSuite

NO_API = "17网 has no API: an import folder has no rate limit, credentials or server errors"


class TestConformance(ConformanceSuite):
    @pytest.mark.skip(reason=NO_API)
    async def test_rate_limit_is_waited_out(self) -> None:  # type: ignore[override]
        raise AssertionError("not applicable")

    @pytest.mark.skip(reason=NO_API)
    async def test_server_error_is_retried(self) -> None:  # type: ignore[override]
        raise AssertionError("not applicable")

    @pytest.mark.skip(reason=NO_API)
    async def test_expired_credentials_mark_the_shop(self) -> None:  # type: ignore[override]
        raise AssertionError("not applicable")
