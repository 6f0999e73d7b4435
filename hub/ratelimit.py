"""A per-shop rate limiter: token buckets keyed by API, each at the platform's published rate."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping


class TokenBucket:
    """``rate`` tokens a second, up to ``burst`` saved. ``acquire()`` waits for a token."""

    def __init__(
        self, rate: float, burst: float | None = None, *, monotonic: Callable[[], float] = time.monotonic
    ):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._tokens = self.burst
        self._monotonic = monotonic
        self._last = monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    async def acquire(self) -> float:
        """Take one token, sleeping as long as needed; returns the seconds waited."""
        waited = 0.0
        async with self._lock:
            self._refill()
            while self._tokens < 1:
                delay = (1 - self._tokens) / self.rate
                await asyncio.sleep(delay)
                waited += delay
                self._refill()
            self._tokens -= 1
        return waited


def _bucket(limit: float | tuple[int, float]) -> TokenBucket:
    """``10.0`` is 10 calls a second; ``(100, 10)`` is 100 calls per 10 seconds, in bursts of 100."""
    if isinstance(limit, tuple):
        calls, seconds = limit
        return TokenBucket(calls / seconds, burst=float(calls))
    return TokenBucket(float(limit))


class RateLimiter:
    """One shop's limiter: a bucket per API name, the default bucket for APIs with no own limit.

    :param default_rate: calls a second for any API (the shop's overall limit).
    :param per_api: calls a second for named APIs (the platform's published per-API limits).
    """

    def __init__(
        self, default_rate: float = 10.0, per_api: Mapping[str, float | tuple[int, float]] | None = None
    ) -> None:
        self.default = TokenBucket(default_rate)
        self.per_api = {name: _bucket(limit) for name, limit in (per_api or {}).items()}
        self.waited = 0.0

    async def acquire(self, api: str | None = None) -> None:
        """Wait until one more call of ``api`` is allowed (both its own and the shop's limit)."""
        if api in self.per_api:
            self.waited += await self.per_api[api].acquire()
        self.waited += await self.default.acquire()
