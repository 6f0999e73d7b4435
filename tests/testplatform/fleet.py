"""Many acme shops behind one sandbox, with a fixed delay per call, that records every sync's
calls so a test can prove no two syncs of one shop overlapped (the worker and bench tests).

Each shop is an :class:`AcmeServer`'s state served at ``/s/<shop>/api``; the acme adapter sends
one session id per sync (per adapter), so a session's first and last call bound that sync.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web

from hub.testing.fake_server import FakeClock, FakePlatformServer

from .server import TOKEN, AcmeServer


@dataclass
class Overlap:
    shop: str
    first: str  #: session ids
    second: str

    def __str__(self) -> str:
        return f"shop {self.shop}: session {self.second[:8]} started before {self.first[:8]} ended"


@dataclass
class FleetServer(FakePlatformServer):
    latency: float = 0.05  #: seconds added to every call
    shops: dict[str, AcmeServer] = field(default_factory=dict)
    #: per shop, the call sequence as (order, session)
    trace: dict[str, list[tuple[int, str]]] = field(default_factory=lambda: defaultdict(list))
    in_flight: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    _seq: int = 0

    def add_shops(
        self, count: int, *, n_cases: int = 40, days: int = 20, now: datetime | None = None
    ) -> None:
        """``count`` shops (``shop-000``...), each with its own cases on one clock."""
        clock = FakeClock(now) if now else self.clock
        for i in range(count):
            shop = AcmeServer(clock=clock)
            shop.populate(n_cases=n_cases, days=days, seed=100 + i)
            self.shops[f"shop-{i:03d}"] = shop

    def shop_settings(self, name: str) -> dict[str, str]:
        return {"api_url": f"{self.base_url}/s/{name}/api", "token": TOKEN}

    def setup_routes(self, app: web.Application) -> None:
        app.router.add_post("/s/{shop}/api", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["shop"]
        shop = self.shops.get(name)
        if shop is None:
            return web.json_response({"error": f"no shop {name}"}, status=404)
        session = request.headers.get("X-Acme-Session", "-")
        self._seq += 1
        self.trace[name].append((self._seq, session))
        await asyncio.sleep(self.latency)
        response = await shop.handle(request)
        self._seq += 1
        self.trace[name].append((self._seq, session))
        return response

    def sessions(self, shop: str) -> list[tuple[int, int, str]]:
        """Each session's (first, last) event on ``shop``, in order of start."""
        bounds: dict[str, list[int]] = {}
        for seq, session in self.trace.get(shop, []):
            b = bounds.setdefault(session, [seq, seq])
            b[1] = seq
        return sorted((b[0], b[1], s) for s, b in bounds.items())

    def overlaps(self) -> list[Overlap]:
        """Pairs of sessions on one shop whose calls interleave: two syncs of a shop at once."""
        found: list[Overlap] = []
        for shop in self.trace:
            open_until, holder = 0, ""
            for first, last, session in self.sessions(shop):
                if first < open_until:
                    found.append(Overlap(shop=shop, first=holder, second=session))
                if last > open_until:
                    open_until, holder = last, session
        return found
