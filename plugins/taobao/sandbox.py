"""A fake TOP gateway on loopback, with a simulated Taobao shop and a Tmall shop.

It checks what the real gateway checks (app key, signature, ±10 min timestamp against its own
clock, session), pages like TOP (modified time descending, page_size ≤ 100, windows ≤ 1 day),
answers in TOP's envelopes (wrapped lists, or simplified with ``simplify=true``), moves cases on
its controllable clock the way Taobao does (docs/rules/taobao.md: auto-agree at 72 h, auto-close 7 days
after a return agreement, auto-refund 10 days after the buyer ships the return; intervention),
answers the write APIs with refund_version checks, serves TMC messages, and plays back faults.

The shop simulation lives in sandbox_shop.py, the gateway in sandbox_gateway.py and the demo data
in sandbox_data.py; this module starts them for ``hub demo`` and the conformance harness and
re-exports their public names.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from hub.clock import utcnow
from hub.platform import DemoShop
from hub.testing.fake_server import FakeClock, WallClock

from .sandbox_data import build_shop
from .sandbox_gateway import TopError, TopGateway
from .sandbox_shop import INTERVENING, Exchange, Plan, Refund, SimShop, Trade

# --- the Sandbox for ``hub demo`` and the conformance harness -----------------------------------


class TaobaoSandbox:
    """A running fake TOP with one Taobao shop and one Tmall shop, generated relative to now."""

    def __init__(self, *, clock: FakeClock | None = None, seed: int = 20240501, trades: int = 300) -> None:
        self.gateway = TopGateway(clock or WallClock())  # the demo's: it follows real time
        self._real_time = clock is None
        self.seed = seed
        self.trades = trades
        self.taobao: SimShop | None = None
        self.tmall: SimShop | None = None

    async def start(self, workdir: str = "") -> Sequence[DemoShop]:
        """Serve on loopback and return the two demo shops (the clock is set to the real time
        unless a clock was given, so deadlines look real)."""
        if self._real_time:
            self.gateway.clock.set(utcnow().replace(microsecond=0))
        now = self.gateway.clock.now()
        rng = random.Random(self.seed)
        self.taobao = self.gateway.add_shop(
            build_shop(
                SimShop(
                    name="淘宝演示店",
                    nick="demo_taobao",
                    app_key="12497914",
                    secret=f"tb-{rng.getrandbits(64):x}",
                    session=f"6100{rng.getrandbits(64):x}",
                ),
                now,
                seed=self.seed,
                trades=self.trades,
                tid_base=2231958349000,
                refund_base=83_477_000,
            )
        )
        self.tmall = self.gateway.add_shop(
            build_shop(
                SimShop(
                    name="天猫演示旗舰店",
                    nick="demo_tmall",
                    app_key="12497915",
                    secret=f"tm-{rng.getrandbits(64):x}",
                    session=f"6200{rng.getrandbits(64):x}",
                    tmall=True,
                ),
                now,
                seed=self.seed + 1,
                trades=max(10, self.trades // 2),
                tid_base=3231958349000,
                refund_base=93_477_000,
            )
        )
        await self.gateway.start()
        return [self.demo_shop(self.taobao), self.demo_shop(self.tmall)]

    def demo_shop(self, shop: SimShop, **overrides: str) -> DemoShop:
        settings = {
            "app_key": shop.app_key,
            "app_secret": shop.secret,
            "session": shop.session,
            "gateway_url": self.gateway.url,
            "sign_method": "hmac" if shop.tmall else "md5",
            "tmall": "true" if shop.tmall else "false",
            # A small shop: one-day windows (TOP's largest) keep the first sync to a few calls.
            "sync_window": "1d",
            # A sandbox on loopback: no quota to protect.
            "rate_limit": "500",
            **overrides,
        }
        return DemoShop(name=shop.name, settings=settings)

    async def stop(self) -> None:
        await self.gateway.stop()


class TaobaoHarness:
    """The conformance harness: the Tmall demo shop (it syncs all three resources)."""

    platform_id = "taobao"

    def __init__(self, sandbox: TaobaoSandbox, shop: DemoShop) -> None:
        import plugins.taobao as plugin

        self.plugin = plugin
        self.sandbox = sandbox
        self.shop = shop

    @classmethod
    async def started(cls, *, trades: int = 60, request_timeout: str = "0.5") -> TaobaoHarness:
        sandbox = TaobaoSandbox(
            clock=FakeClock(datetime(2026, 11, 1, 2, 0, tzinfo=utcnow().tzinfo)), trades=trades
        )
        await sandbox.start("")
        assert sandbox.tmall is not None
        return cls(sandbox, sandbox.demo_shop(sandbox.tmall, request_timeout=request_timeout))

    @property
    def sim(self) -> SimShop:
        assert self.sandbox.tmall is not None
        return self.sandbox.tmall

    def now(self) -> datetime:
        return self.sandbox.gateway.clock.now()

    def advance(self, delta: timedelta) -> None:
        self.sandbox.gateway.advance(delta)

    def expected_counts(self) -> dict[str, int]:
        now = self.now()
        return {
            "trade": sum(t.modified <= now for t in self.sim.trades.values()),
            "refund": sum(r.modified <= now for r in self.sim.refunds.values()),
            "tmall_dispute": sum(x.modified <= now for x in self.sim.exchanges.values()),
        }

    def inject(self, kind: str, *, count: int = 1, seconds: float = 1.0) -> None:
        self.sandbox.gateway.inject(kind, count=count, seconds=seconds)

    def corrupt_one(self) -> str:
        refund = next(
            r for r in sorted(self.sim.refunds.values(), key=lambda r: r.refund_id) if not r.malformed
        )
        refund.malformed = True
        refund.touch(self.now())
        return str(refund.refund_id)

    def modify_one(self) -> str:
        now = self.now()
        for refund in sorted(self.sim.refunds.values(), key=lambda r: r.refund_id):
            if refund.malformed or refund.cs_status in INTERVENING:
                continue
            if refund.status == "WAIT_BUYER_RETURN_GOODS":
                self.sim.buyer_ships_return(refund, now)
                return str(refund.refund_id)
            if refund.status == "WAIT_SELLER_AGREE":
                self.sim._set(refund, "CLOSED", "RefundClosed", now)  # the buyer withdraws the request
                return str(refund.refund_id)
        raise LookupError("no open refund left to modify")

    async def stop(self) -> None:
        await self.sandbox.stop()


__all__ = [
    "Exchange",
    "Plan",
    "Refund",
    "SimShop",
    "TaobaoHarness",
    "TaobaoSandbox",
    "TopError",
    "TopGateway",
    "Trade",
    "build_shop",
]
