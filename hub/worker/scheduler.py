"""Enqueue each shop's sync every ``sync_every``, once per period however many workers tick.

A tick claims a due shop with one conditional UPDATE of ``shops.next_sync_at`` (due and not yet
claimed by another worker's tick), and only the tick that moved it enqueues the sync; the queue's
dedupe key keeps a second pending sync of the shop out as well.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import structlog
from sqlalchemy import or_, select, update

from ..ledger_task import schedule_daily_ledger
from ..runtime import Hub
from ..store.shops import DEFAULT_SYNC_EVERY, SHOPS, sync_every
from . import ledger
from .queue import TaskQueue

log = structlog.get_logger("hub.worker")


async def schedule_due(hub: Hub, queue: TaskQueue, now: datetime, *, every_shop: bool = False) -> list[str]:
    """Enqueue the sync of every shop that is due (``every_shop``: all of them, now); the names."""
    async with hub.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(SHOPS.c.id, SHOPS.c.name, SHOPS.c.platform, SHOPS.c.settings, SHOPS.c.needs_reauth)
            )
        ).all()
    queued: list[str] = []
    for row in rows:
        if row.platform not in hub.registry.platforms or row.needs_reauth:
            continue  # nothing a sync could do until the plugin is installed / credentials fixed
        try:
            period = sync_every(row.settings)
        except ValueError:
            log.warning("bad_sync_every", shop=row.name, value=row.settings.get("sync_every"))
            period = sync_every({"sync_every": DEFAULT_SYNC_EVERY})
        claim = update(SHOPS).where(SHOPS.c.id == row.id).values(next_sync_at=now + period)
        if not every_shop:
            claim = claim.where(or_(SHOPS.c.next_sync_at.is_(None), SHOPS.c.next_sync_at <= now))
        async with hub.engine.begin() as conn:
            claimed = (await conn.execute(claim)).rowcount
        if claimed and await queue.defer("sync", row.id):
            queued.append(row.name)
    if queued:
        log.info("syncs_scheduled", shops=len(queued))
    return queued


class Scheduler:
    """The periodic part of a worker: due syncs, push-hint re-fetches, dead workers' tasks."""

    def __init__(
        self, hub: Hub, queue: TaskQueue, *, interval: float = 5.0, hints_every: timedelta | None = None
    ) -> None:
        self.hub, self.queue = hub, queue
        self.interval = interval
        self.hints_every = hints_every
        self._last_hints: datetime | None = None
        self._last_prune: datetime | None = None

    async def tick(self) -> None:
        now = self.hub.now()
        await schedule_due(self.hub, self.queue, now)
        if self.hints_every and (self._last_hints is None or now - self._last_hints >= self.hints_every):
            self._last_hints = now
            async with self.hub.engine.connect() as conn:
                ids = (
                    await conn.execute(
                        select(SHOPS.c.id, SHOPS.c.platform).where(SHOPS.c.needs_reauth.is_(False))
                    )
                ).all()
            for shop_id, platform in ids:
                if platform in self.hub.registry.platforms:
                    await self.queue.defer("hints", shop_id)
        await schedule_daily_ledger(self.hub, self.queue, now)  # HUB_LEDGER_DIR's file for finance
        await self.queue.recover_stalled(now)
        if self._last_prune is None or now - self._last_prune >= timedelta(hours=1):
            self._last_prune = now
            await ledger.prune(self.hub.engine, now)

    async def safe_tick(self) -> None:
        """A tick whose failure is logged, not fatal: a database blip must not stop the worker."""
        try:
            await self.tick()
        except Exception as err:
            log.error("schedule_failed", error=f"{type(err).__name__}: {err}")

    async def loop(self) -> None:
        """Tick every ``interval`` seconds until cancelled."""
        while True:
            await self.safe_tick()
            await asyncio.sleep(self.interval)
