"""Bounded waits and lease renewal for one shop's sync.

A platform may ask for any wait: TOP's "This ban will last for 86400 more seconds", PDD's
"请99999秒后重试". Sleeping that long would hold the process and let the shop's lease lapse, so a
wait longer than the shop's ``max_wait`` setting is not slept: the shop is marked rate-limited
until the stated time and later syncs skip it until then. Shorter waits are slept in steps, the
lease renewed before each step, and a long fetch (a big import) renews it between pages.

The guard of the shop being synced travels in a context variable: every shop is synced in its own
task, so ``retrying`` finds its shop's limits without threading them through every call.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from ..clock import CST, parse_duration
from ..errors import ConfigError
from ..scrub import scrub_text
from ..store.base import tbl
from ..store.models import ShopRecord
from ..store.validate import no_nul
from . import leases

if TYPE_CHECKING:
    from ..runtime import Hub

#: the default cap on one wait; a shop's ``max_wait`` setting overrides it
DEFAULT_MAX_WAIT = timedelta(minutes=5)
#: waits are slept in steps of at most this, the lease renewed before each
STEP = leases.LEASE / 5
#: a long fetch renews the lease when it was last renewed this long ago
RENEW_EVERY = leases.LEASE / 10


class RateLimited(Exception):
    """The platform asked for a wait longer than the shop's ``max_wait``: stop, come back at ``until``."""

    def __init__(self, until: datetime, reason: str) -> None:
        super().__init__(reason)
        self.until = until
        self.reason = reason


def max_wait_of(settings: object, shop: str) -> timedelta:
    """The shop's ``max_wait`` setting (``90s``, ``5m``, ``1h``); a bad value is a clear error."""
    text = str(getattr(settings, "get", lambda *_: None)("max_wait") or "").strip()
    if not text:
        return DEFAULT_MAX_WAIT
    try:
        value = parse_duration(text)
    except ValueError as err:
        raise ConfigError(f"shop {shop}: setting max_wait={text!r} is not a duration (e.g. 90s, 5m)") from err
    if value <= timedelta(0):
        raise ConfigError(f"shop {shop}: setting max_wait={text!r} must be positive")
    return value


async def keep_alive() -> None:
    """Renew the lease of the shop this task is syncing, if it was last renewed a while ago
    (``AdapterContext.keep_alive``: an adapter calls it during one long step, such as a big
    import); :class:`hub.sync.leases.LeaseLost` when another process took the shop over. Outside
    a sync it does nothing."""
    guard = CURRENT.get(None)
    if guard is not None:
        await guard.keep()


@dataclass
class ShopGuard:
    """One shop's sync: its wait cap and its lease."""

    hub: Hub
    shop_id: int
    max_wait: timedelta
    renewed_at: datetime | None = None
    waited: float = field(default=0.0)

    def check(self, wait: float, what: str, *, stated: bool, detail: str = "") -> float:
        """The wait to sleep; raises :class:`RateLimited` when the platform stated one longer
        than ``max_wait`` (a back-off of our own is only capped)."""
        cap = self.max_wait.total_seconds()
        if wait <= cap:
            return wait
        if stated:
            until = self.hub.now() + timedelta(seconds=wait)
            said = f" ({detail})" if detail else ""
            raise RateLimited(
                until, f"{what}: the platform asked to wait {wait:g} s{said}; max_wait is {cap:g} s"
            )
        return cap

    async def renew(self) -> None:
        """Renew the lease now; :class:`hub.sync.leases.LeaseLost` when another process holds it."""
        now = self.hub.now()
        await leases.renew(self.hub.engine, self.shop_id, now, ttl=self.hub.settings.lease)
        self.renewed_at = now

    async def keep(self) -> None:
        """Renew the lease if it was last renewed a while ago (called between pages of a fetch)."""
        if self.renewed_at is None or self.hub.now() - self.renewed_at >= RENEW_EVERY:
            await self.renew()

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` in steps, renewing the lease before each step."""
        left = seconds
        step = STEP.total_seconds()
        while left > 0:
            await self.renew()
            chunk = min(step, left)
            await self.hub.sleep(chunk)
            self.waited += chunk
            left -= chunk


def show(when: datetime) -> str:
    """A rate-limit end as operators read it: ISO, Beijing time, to the minute."""
    return when.astimezone(CST).isoformat(timespec="minutes")


SHOPS = tbl(ShopRecord)


async def mark_rate_limited(hub: Hub, shop_id: int, until: datetime, reason: str) -> None:
    """Store that the shop must not be synced before ``until`` (shown by ``hub shop list``)."""
    async with hub.engine.begin() as conn:
        await conn.execute(
            update(SHOPS)
            .where(SHOPS.c.id == shop_id)
            .values(
                rate_limited_until=until, rate_limit_reason=no_nul(scrub_text(reason)), updated_at=hub.now()
            )
        )


async def rate_limited_until(hub: Hub, shop_id: int) -> tuple[datetime, str] | None:
    """``(until, reason)`` while the shop is rate-limited; a limit that has passed is cleared."""
    async with hub.engine.connect() as conn:
        row = (
            await conn.execute(
                select(SHOPS.c.rate_limited_until, SHOPS.c.rate_limit_reason).where(SHOPS.c.id == shop_id)
            )
        ).first()
    if row is None or row.rate_limited_until is None:
        return None
    if row.rate_limited_until > hub.now():
        return row.rate_limited_until, row.rate_limit_reason or "the platform asked to wait"
    async with hub.engine.begin() as conn:
        await conn.execute(
            update(SHOPS)
            .where(SHOPS.c.id == shop_id, SHOPS.c.rate_limited_until == row.rate_limited_until)
            .values(rate_limited_until=None, rate_limit_reason=None)
        )
    return None


CURRENT: ContextVar[ShopGuard | None] = ContextVar("hub_sync_shop_guard", default=None)
