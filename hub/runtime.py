"""The running hub: settings, database engine, plugin registry, the one HTTP session, the clock.

The CLI, the web app and the tests open one :class:`Hub` and pass it around; nothing in hub keeps
global state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pluggy
from sqlalchemy.ext.asyncio import AsyncEngine

from .clock import utcnow
from .config import Settings
from .domain import Shop
from .platform import AdapterContext, PlatformAdapter
from .plugins import Registry, build_registry, get_plugin_manager
from .ratelimit import RateLimiter
from .store.engine import create_engine


async def _keep_alive() -> None:
    """AdapterContext.keep_alive: renew the lease of the shop being synced (see hub.sync.waits)."""
    from .sync.waits import keep_alive  # hub.sync imports this module

    await keep_alive()


@dataclass
class Hub:
    settings: Settings
    engine: AsyncEngine
    registry: Registry
    now: Callable[[], datetime] = utcnow
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _http: aiohttp.ClientSession | None = None
    _limiters: dict[int, RateLimiter] = field(default_factory=dict)

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        pm: pluggy.PluginManager | None = None,
        engine: AsyncEngine | None = None,
        **kw: Any,
    ) -> Hub:
        """Build the hub (no IO yet: the engine connects lazily, the HTTP session on first use)."""
        pm = pm or get_plugin_manager()
        return cls(
            settings=settings,
            engine=engine or create_engine(settings.database_url),
            registry=build_registry(pm),
            **kw,
        )

    @property
    def pm(self) -> pluggy.PluginManager:
        assert self.registry.pm is not None
        return self.registry.pm

    @property
    def http(self) -> aiohttp.ClientSession:
        """The one shared client session (HA's inject-websession rule: adapters never make their own)."""
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.settings.http_timeout),
                headers={"User-Agent": "hub/0.1 (+after-sales)"},
            )
        return self._http

    def limiter(self, shop: Shop) -> RateLimiter:
        assert shop.id is not None
        if shop.id not in self._limiters:
            info = self.registry.info(shop.platform)
            rates = dict(info.rate_limits)
            total = rates.pop("*", self.settings.default_rate)
            total_rate = total[0] / total[1] if isinstance(total, tuple) else float(total)
            default = float(shop.settings.get("rate_limit") or total_rate)
            self._limiters[shop.id] = RateLimiter(default, rates)
        return self._limiters[shop.id]

    def shop_dir(self, shop: Shop) -> Path:
        path = self.settings.home / "shops" / shop.name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def adapter(self, shop: Shop) -> PlatformAdapter:
        ctx = AdapterContext(
            session=self.http,
            limiter=self.limiter(shop),
            now=self.now,
            data_dir=self.shop_dir(shop),
            sleep=self.sleep,
            keep_alive=_keep_alive,
        )
        return self.registry.factory(shop.platform)(shop, ctx)

    async def close(self) -> None:
        if self._http is not None and not self._http.closed:
            await self._http.close()
        await self.engine.dispose()

    async def __aenter__(self) -> Hub:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
