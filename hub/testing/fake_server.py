"""The base of every platform sandbox: an aiohttp server on loopback with a clock and faults.

A sandbox subclasses :class:`FakePlatformServer`, adds its routes in :meth:`setup_routes`, keeps
its simulated shop in memory, and calls :meth:`take_fault` at the top of each request to play
back injected faults in its platform's own error envelope. ``start(workdir)`` satisfies the
:class:`hub.platform.Sandbox` protocol: override :meth:`demo_shops` and register the class itself
as the sandbox factory.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from ..clock import utcnow
from ..platform import DemoShop

#: The faults every sandbox understands (each may add its own). ``malformed`` is not a request
#: fault: the harness's ``corrupt_one`` makes one record unmappable. The same names as
#: :data:`hub.testing.harness.ALL_FAULTS` (a test keeps them equal).
FAULTS = ("rate_limit", "auth_expired", "server_error", "timeout", "malformed")


class FakeClock:
    """A clock that stands still until told to move. Starts at the real current time (whole
    seconds) unless given a start, so a demo's cases are as old as the sandbox made them."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC).replace(microsecond=0)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        self._now += delta
        return self._now

    def set(self, value: datetime) -> None:
        self._now = value


class WallClock(FakeClock):
    """A sandbox clock that follows real time, as a real platform's does (the demo's sandboxes
    use it: a frozen clock drifts from the hub's, and after ten minutes the platform refuses every
    timestamp). It can still be moved forward or set; it then keeps running from there."""

    def __init__(self, start: datetime | None = None, *, source: Callable[[], datetime] = utcnow) -> None:
        self._source = source
        self._offset = timedelta(0) if start is None else start - source()

    def now(self) -> datetime:
        return self._source() + self._offset

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        self._offset += delta
        return self.now()

    def set(self, value: datetime) -> None:
        self._offset = value - self._source()


@dataclass
class Call:
    """One request the sandbox received (secrets are kept here: it is test memory, never logged)."""

    api: str
    params: dict[str, Any]
    at: datetime


@dataclass
class Fault:
    kind: str
    seconds: float = 1.0  #: rate-limit ban length, or timeout stall
    api: str | None = None  #: only requests to this API; None: any


@dataclass
class FakePlatformServer:
    """Base sandbox server. Subclasses fill :meth:`setup_routes` and their state."""

    clock: FakeClock = field(default_factory=FakeClock)  #: the platform's clock (starts now)
    calls: list[Call] = field(default_factory=list)  #: every request received, in order
    faults: deque[Fault] = field(default_factory=deque)  #: injected faults waiting to be played
    host: str = "127.0.0.1"  #: loopback only
    port: int = 0  #: 0: a free port, known after ``start``
    latency: float = 0.0  #: seconds every request waits before it is answered
    _runner: web.AppRunner | None = None

    def __post_init__(self) -> None:
        """Called after the dataclass ``__init__``: a subclass sets up its simulated state here
        (declared on the base so a plain subclass's override runs too)."""

    def setup_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def demo_shops(self, workdir: str) -> Sequence[DemoShop]:
        """The shops ``hub demo`` adds once the server runs (settings pointing at :attr:`base_url`)."""
        return []

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=32 * 1024**2, middlewares=[self._latency])
        self.setup_routes(app)
        return app

    @web.middleware
    async def _latency(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Hold every request ``latency`` seconds first: a real platform is a WAN round trip away
        (bench/sync.py measures the sync against 50 ms)."""
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        return await handler(request)

    async def start(self, workdir: str = "") -> Sequence[DemoShop]:
        """Serve on loopback (a free port); return :meth:`demo_shops` (the Sandbox protocol)."""
        await self.serve()
        return self.demo_shops(workdir)

    async def serve(self) -> str:
        """Serve on loopback; return the base URL."""
        self._runner = web.AppRunner(self.make_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server: Any = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        return self.base_url

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def inject(self, kind: str, *, count: int = 1, seconds: float = 1.0, api: str | None = None) -> None:
        """Make the next ``count`` matching requests fail with ``kind`` (see :data:`FAULTS`)."""
        for _ in range(count):
            self.faults.append(Fault(kind=kind, seconds=seconds, api=api))

    def take_fault(self, api: str) -> Fault | None:
        """The next injected fault for this API, consumed; ``None`` when there is none."""
        for fault in list(self.faults):
            if fault.api in (None, api):
                self.faults.remove(fault)
                return fault
        return None

    async def stall(self, fault: Fault) -> None:
        """Play a timeout: hold the request longer than the client waits."""
        await asyncio.sleep(fault.seconds)

    def record(self, api: str, params: dict[str, Any]) -> None:
        self.calls.append(Call(api=api, params=dict(params), at=self.clock.now()))

    def calls_to(self, api: str) -> list[Call]:
        return [c for c in self.calls if c.api == api]
