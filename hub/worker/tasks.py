"""The task registry: every kind of work a worker runs, by name.

A kind is an async handler ``(hub, shop, args) -> outcome``; a module that adds a kind (an
auto-rule runner, an alert sender) decorates its handler with :func:`task_kind` when imported,
and enqueues it with :meth:`hub.worker.queue.TaskQueue.defer`. The worker looks kinds up here by
the name stored in the queue, so a task queued by one machine runs on any other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from ..domain import Shop
from ..errors import HubError, PlatformAuthError, PlatformError
from ..runtime import Hub
from ..store.links import resolve_links
from ..store.shops import mark_reauth
from ..sync import leases
from ..sync.engine import ShopSummary, apply_hints, retrying, sync_one_shop

log = structlog.get_logger("hub.worker")

Handler = Callable[[Hub, Shop | None, Mapping[str, Any]], Awaitable[str]]


@dataclass(frozen=True)
class TaskKind:
    name: str
    handler: Handler
    help: str
    #: the task works on one shop (``shop_id`` required; one at a time per shop in a process)
    per_shop: bool = True


REGISTRY: dict[str, TaskKind] = {}


def task_kind(name: str, *, help: str, per_shop: bool = True) -> Callable[[Handler], Handler]:
    """Register ``handler`` as the task kind ``name`` (a name is registered once)."""

    def deco(handler: Handler) -> Handler:
        if name in REGISTRY and REGISTRY[name].handler is not handler:
            raise HubError(f"task kind {name!r} is registered twice")
        REGISTRY[name] = TaskKind(name=name, handler=handler, help=help, per_shop=per_shop)
        return handler

    return deco


def get_kind(name: str) -> TaskKind:
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY)) or "none"
        raise HubError(f"unknown task kind {name!r} (known: {known})") from None


@task_kind("sync", help="sync one shop: every resource's windows, then its push hints")
async def run_sync(hub: Hub, shop: Shop | None, args: Mapping[str, Any]) -> str:
    """One shop's sync through the engine's public entry point, then order links."""
    assert shop is not None
    summary = await sync_one_shop(hub, shop)
    if summary.status in ("ok", "partial"):
        async with hub.engine.begin() as conn:
            await resolve_links(conn)
    return summary.status


@task_kind("hints", help="re-fetch what the shop's push messages point at")
async def run_hints(hub: Hub, shop: Shop | None, args: Mapping[str, Any]) -> str:
    """Consume the shop's push messages and re-fetch the records they name, under the shop's
    lease (a running sync of the shop means this is skipped: the sync reads them too)."""
    assert shop is not None and shop.id is not None
    if shop.needs_reauth:
        return "reauth"
    if not await leases.acquire(hub.engine, shop.id, hub.now(), ttl=hub.settings.lease):
        return "skipped"
    summary = ShopSummary(shop=shop.name, platform=shop.platform)
    blog = log.bind(shop=shop.name, platform=shop.platform)
    adapter = hub.adapter(shop)
    try:
        hints = await retrying(hub, "push", adapter.fetch_hints, summary, blog)
        if hints:
            await apply_hints(hub, shop, adapter, hints, summary, blog)
            blog.info("hints_applied", hints=len(hints))
        return "ok"
    except PlatformAuthError as err:
        await mark_reauth(hub.engine, shop.id, str(err))
        return "reauth"
    except PlatformError as err:
        blog.warning("hints_failed", error=str(err))
        return "partial"
    finally:
        await adapter.close()
        await leases.release(hub.engine, shop.id)


class ShopLocks:
    """One task per shop at a time inside a process: two tasks of one shop in one worker share the
    lease owner, so the lease alone would let both in."""

    def __init__(self) -> None:
        self._busy: set[int] = set()

    def try_take(self, shop_id: int) -> bool:
        if shop_id in self._busy:
            return False
        self._busy.add(shop_id)
        return True

    def give_back(self, shop_id: int) -> None:
        self._busy.discard(shop_id)
