"""The alert pass that follows a shop's sync.

Two steps, so that a deadline is announced once whoever runs them and however often:

1. **queue** (:func:`queue_due`): every open work item of the shop whose next action is due within
   a channel's window gets a ``pending`` row in ``alert_sent``, keyed by channel, item, due time and
   party. The key is unique, so a second sync, a second process or a case that leaves the window
   and comes back adds nothing; a deadline that moves is a new key, announced again.
2. **deliver** (:func:`deliver`): per channel, the pending rows still matching their item's current
   deadline go out in one message (the first ten listed, "…及另外 N 件"); rows whose deadline moved
   or whose item closed meanwhile become ``stale``. A message that fails after its retries leaves
   its rows pending with the error (the next pass tries again, up to :data:`MAX_PASSES` passes,
   then they are ``failed``); the channel keeps its last error for ``hub notify list``.

:func:`announce_after_sync` is what the sync engine calls: it never raises, so a robot that is down
changes nothing about a sync. Inside ``hub worker`` the delivery is queued as an ``alerts`` task
(:mod:`hub.notify.task`) instead of being sent by the sync task.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..domain import Shop
from ..errors import HubError
from ..runtime import Hub
from ..scrub import scrub_text
from ..store.base import tbl
from ..store.cases import CaseFilter, all_cases
from ..store.models import AfterSaleRecord, OrderRecord
from ..store.shops import SHOPS
from .channels import CHANNELS, Channel, channel_rows, resolve
from .message import DEFAULT_CAP, AlertItem, compose
from .models import AlertSentRecord
from .robots import SendError, send

if TYPE_CHECKING:
    from ..worker.queue import TaskQueue

log = structlog.get_logger("hub.notify")

SENT = tbl(AlertSentRecord)
C, O = tbl(AfterSaleRecord), tbl(OrderRecord)  # noqa: E741
#: passes a pending alert is tried in before it is given up as ``failed``
MAX_PASSES = 5

#: the worker's queue while ``hub worker`` runs: deliveries become ``alerts`` tasks
WORKER_QUEUE: contextvars.ContextVar[TaskQueue | None] = contextvars.ContextVar(
    "hub_notify_worker_queue", default=None
)
#: one delivery at a time per event loop: concurrent shop syncs batch into one message per channel
_delivering: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


@dataclass
class ChannelResult:
    """What a delivery did on one channel (``hub notify test`` and the tests read it)."""

    channel: str
    sent: int = 0
    stale: int = 0
    failed: int = 0
    attempts: int = 0
    error: str | None = None


@dataclass
class DeliveryReport:
    channels: list[ChannelResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.error is None for c in self.channels)


def _covers(row: Any, shop: str) -> bool:
    return not row.shops or shop in row.shops


def _insert(dialect: str) -> Any:
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(SENT)


async def queue_due(hub: Hub, shop: Shop) -> int:
    """Queue the shop's deadlines that entered a channel's window; how many rows were new."""
    assert shop.id is not None
    rows = [r for r in await channel_rows(hub.engine) if _covers(r, shop.name)]
    if not rows:
        return 0
    now = hub.now()
    added = 0
    for row in rows:
        items = await all_cases(
            hub.engine,
            CaseFilter(
                shop_ids=[shop.id],
                awaiting=list(row.parties or ("merchant",)),
                due_within=_within(row),
                now=now,
                orders=True,
            ),
        )
        values = [
            {
                "channel_id": row.id,
                "item": it["item"],
                "item_id": it["id"],
                "due_at": datetime.fromisoformat(it["next_action"]["due_at"]),
                "party": it["next_action"]["party"],
                "status": "pending",
                "attempts": 0,
                "created_at": now,
            }
            for it in items
            if it.get("next_action") and it["next_action"].get("due_at")
        ]
        if not values:
            continue
        stmt = _insert(hub.engine.dialect.name).on_conflict_do_nothing(
            index_elements=["channel_id", "item", "item_id", "due_at", "party"]
        )
        async with hub.engine.begin() as conn:
            for chunk in range(0, len(values), 500):
                res = await conn.execute(stmt, values[chunk : chunk + 500])
                added += max(res.rowcount or 0, 0)
    return added


def _within(row: Any) -> timedelta:
    return timedelta(seconds=row.within_seconds)


async def _current(conn: Any, pending: Sequence[Any]) -> dict[tuple[str, int], Any]:
    """The items behind ``pending`` rows as they are now (with shop name and platform)."""
    out: dict[tuple[str, int], Any] = {}
    for item, table in (("case", C), ("order", O)):
        ids = sorted({p.item_id for p in pending if p.item == item})
        for chunk in range(0, len(ids), 500):
            rows = (
                await conn.execute(
                    select(
                        table.c.id,
                        table.c.external_id,
                        table.c.deadline_due_at,
                        table.c.deadline_party,
                        table.c.deadline_action,
                        table.c.deadline_consequence_zh,
                        (table.c.is_open if item == "case" else table.c.in_work).label("live"),
                        SHOPS.c.name.label("shop"),
                        SHOPS.c.platform,
                    )
                    .join(SHOPS, SHOPS.c.id == table.c.shop_id)
                    .where(table.c.id.in_(ids[chunk : chunk + 500]))
                )
            ).all()
            out.update({(item, r.id): r for r in rows})
    return out


def public_link(item: str, item_id: int, external_id: str) -> str | None:
    """The workbench page of the item, when ``HUB_PUBLIC_URL`` says where the workbench is."""
    base = os.environ.get("HUB_PUBLIC_URL", "").strip().rstrip("/")
    if not base:
        return None
    from urllib.parse import quote

    return f"{base}/cases/{item_id}" if item == "case" else f"{base}/?search={quote(external_id)}"


def _platform_label(hub: Hub, platform: str) -> str:
    info = hub.registry.platforms.get(platform)
    return info.name_zh if info is not None else platform


async def deliver(hub: Hub, *, channel: str | None = None) -> DeliveryReport:
    """Send every channel's pending alerts (one message per channel); see the module's doc."""
    report = DeliveryReport()
    lock = _delivering.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    async with lock:
        for row in await channel_rows(hub.engine):
            if channel is not None and row.name != channel:
                continue
            result = await _deliver_channel(hub, row)
            if result is not None:
                report.channels.append(result)
    return report


async def _deliver_channel(hub: Hub, row: Any) -> ChannelResult | None:
    async with hub.engine.connect() as conn:
        pending = (
            await conn.execute(
                select(SENT)
                .where(SENT.c.channel_id == row.id, SENT.c.status == "pending")
                .order_by(SENT.c.id)
            )
        ).all()
        if not pending:
            return None
        current = await _current(conn, pending)
    now = hub.now()
    result = ChannelResult(channel=row.name)
    live: list[tuple[Any, AlertItem]] = []
    stale: list[int] = []
    for p in pending:
        cur = current.get((p.item, p.item_id))
        if cur is None or not cur.live or cur.deadline_due_at != p.due_at or cur.deadline_party != p.party:
            stale.append(p.id)  # closed, or its deadline moved (the new one has its own row)
            continue
        live.append(
            (
                p,
                AlertItem(
                    item=p.item,
                    item_id=p.item_id,
                    shop=cur.shop,
                    platform=cur.platform,
                    platform_label=_platform_label(hub, cur.platform),
                    external_id=cur.external_id,
                    party=p.party,
                    action=cur.deadline_action or "",
                    due_at=p.due_at,
                    consequence_zh=cur.deadline_consequence_zh,
                    link=public_link(p.item, p.item_id, cur.external_id),
                ),
            )
        )
    result.stale = len(stale)
    if stale:
        await _mark(hub, stale, status="stale")
    if not live:
        return result
    ids = [p.id for p, _ in live]
    try:
        chan: Channel = resolve(row)
        message = compose([a for _, a in live], now, cap=DEFAULT_CAP)
        result.attempts = await send(hub.http, chan, message, now=hub.now, sleep=hub.sleep)
    except (SendError, HubError) as err:
        result.error = scrub_text(str(err))
        result.failed = len(ids)
        await _failed(hub, row.id, live, result.error)
        log.warning("alert_failed", channel=row.name, items=len(ids), error=result.error)
        return result
    result.sent = len(ids)
    async with hub.engine.begin() as conn:
        await conn.execute(
            update(SENT).where(SENT.c.id.in_(ids)).values(status="sent", sent_at=hub.now(), error=None)
        )
        await conn.execute(update(CHANNELS).where(CHANNELS.c.id == row.id).values(last_sent_at=hub.now()))
    log.info("alert_sent", channel=row.name, items=len(ids), attempts=result.attempts)
    return result


async def _mark(hub: Hub, ids: Sequence[int], *, status: str) -> None:
    async with hub.engine.begin() as conn:
        await conn.execute(update(SENT).where(SENT.c.id.in_(list(ids))).values(status=status))


async def _failed(hub: Hub, channel_id: int, live: Sequence[tuple[Any, AlertItem]], error: str) -> None:
    """Record the failure: the rows stay pending (retried by the next pass) until MAX_PASSES."""
    now = hub.now()
    async with hub.engine.begin() as conn:
        for p, _ in live:
            attempts = p.attempts + 1
            await conn.execute(
                update(SENT)
                .where(SENT.c.id == p.id)
                .values(
                    attempts=attempts, error=error, status="failed" if attempts >= MAX_PASSES else "pending"
                )
            )
        await conn.execute(
            update(CHANNELS).where(CHANNELS.c.id == channel_id).values(last_error=error, last_error_at=now)
        )


async def announce_after_sync(hub: Hub, shop: Shop) -> None:
    """The sync engine's one call after a shop's sync: queue what entered a window, then send it
    (or, inside ``hub worker``, queue an ``alerts`` task). Never raises: alerts are a side
    channel, and a sync's outcome does not depend on a robot."""
    try:
        if not await queue_due(hub, shop) and not await _has_pending(hub):
            return  # nothing new and nothing left over from a failed pass
        queue = WORKER_QUEUE.get()
        if queue is not None:
            from . import task  # registers the task kind

            await queue.defer(task.KIND)
        else:
            await deliver(hub)
    except Exception as err:
        log.warning("alerts_skipped", shop=shop.name, error=scrub_text(f"{type(err).__name__}: {err}"))


async def _has_pending(hub: Hub) -> bool:
    async with hub.engine.connect() as conn:
        return (
            await conn.execute(select(SENT.c.id).where(SENT.c.status == "pending").limit(1))
        ).first() is not None
