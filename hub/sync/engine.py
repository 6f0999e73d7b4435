"""Sync shops: per resource, windows over the platform's modified time; each window's data and its
checkpoint in one transaction, so a process killed anywhere replays at most one window and, since
upserts are idempotent and newer-wins, ends exactly where an uninterrupted run ends.

Platform errors arrive already classified by the plugin's client; the engine acts on the class:
rate limit → wait ``retry_after`` (or back off) and retry the window; connection → exponential
backoff, a few times; auth → mark the shop for re-authorisation and skip it (others go on);
request → record the error, skip this resource.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import structlog
from sqlalchemy import insert, select, update

from ..domain import RawRecord, Shop
from ..errors import (
    HubError,
    PlatformAuthError,
    PlatformConnectionError,
    PlatformError,
    PlatformRateLimitError,
    PlatformRequestError,
)
from ..platform import Hint, PlatformAdapter, ResourceSpec, Window
from ..plugins import notify
from ..runtime import Hub
from ..store.base import tbl
from ..store.links import resolve_links
from ..store.models import SyncCheckpointRecord, SyncRunRecord
from ..store.shops import list_shop_rows, mark_reauth, shop_from_row
from ..store.upsert import UpsertStats, upsert_batch
from . import leases
from .crash import crashpoint
from .fetch import Group, in_order
from .windows import sync_range, windows

log = structlog.get_logger("hub.sync")

CHECKPOINTS = tbl(SyncCheckpointRecord)
RUNS = tbl(SyncRunRecord)
BATCH = 1000
T = TypeVar("T")


@dataclass
class ShopSummary:
    shop: str
    platform: str
    status: str = "ok"  #: ok, partial, reauth, failed, skipped
    stats: UpsertStats = field(default_factory=UpsertStats)
    errors: list[str] = field(default_factory=list)
    windows: int = 0
    retries: int = 0

    def as_dict(self) -> dict[str, Any]:
        s = self.stats
        return {
            "shop": self.shop,
            "platform": self.platform,
            "status": self.status,
            "fetched": s.fetched,
            "new": s.new,
            "changed": s.changed,
            "unchanged": s.unchanged + s.stale,
            "quarantined": s.quarantined,
            "errors": self.errors,
            "problems": s.problems,
            "windows": self.windows,
            "retries": self.retries,
        }


ProgressFn = Callable[[str, str, Window, int], None]


class _ResourceFailed(Exception):
    pass


async def retrying(hub: Hub, what: str, fn: Callable[[], Awaitable[T]], summary: ShopSummary, blog: Any) -> T:
    """Run ``fn`` again while it fails with a retryable platform error: wait the platform's
    ``retry_after`` when it gives one, else back off exponentially; give up after max_retries."""
    attempt = 0
    while True:
        try:
            return await fn()
        except PlatformRateLimitError as err:
            wait = err.retry_after if err.retry_after is not None else _backoff(hub, attempt)
            blog.warning("rate_limited", what=what, wait_s=wait, code=err.code)
        except PlatformConnectionError as err:
            wait = _backoff(hub, attempt)
            blog.warning("platform_unavailable", what=what, wait_s=wait, error=str(err))
        attempt += 1
        summary.retries += 1
        if attempt > hub.settings.max_retries:
            raise _ResourceFailed(f"{what}: gave up after {attempt} attempts")
        await hub.sleep(wait)


async def _fetch_window(
    hub: Hub,
    adapter: PlatformAdapter,
    spec: ResourceSpec,
    window: Window,
    summary: ShopSummary,
    blog: Any,
) -> tuple[list[RawRecord], list[str]]:
    """All pages of one window; the whole window is re-read when a retryable error interrupts it."""

    async def once() -> tuple[list[RawRecord], list[str]]:
        records: list[RawRecord] = []
        problems: list[str] = []
        async for page in adapter.fetch_window(spec.name, window):
            records.extend(page.records)
            problems.extend(f"{p.source}: {p.message}" for p in page.problems)
        return records, problems

    return await retrying(hub, spec.name, once, summary, blog)


def _backoff(hub: Hub, attempt: int) -> float:
    return float(min(hub.settings.backoff_max, hub.settings.backoff_base * (2**attempt)))


async def _checkpoint(hub: Hub, shop_id: int, resource: str) -> datetime | None:
    async with hub.engine.connect() as conn:
        return (
            await conn.execute(
                select(CHECKPOINTS.c.position_at).where(
                    CHECKPOINTS.c.shop_id == shop_id, CHECKPOINTS.c.resource == resource
                )
            )
        ).scalar()


async def _write_window(
    hub: Hub,
    shop: Shop,
    adapter: PlatformAdapter,
    spec: ResourceSpec,
    window: Window,
    records: Sequence[RawRecord],
    current: datetime | None,
    summary: ShopSummary,
) -> datetime:
    """Upsert a window's records and move the checkpoint, in one transaction."""
    assert shop.id is not None
    rules = adapter.rule_table()
    new_position = max(current, window.end) if current else window.end
    async with hub.engine.begin() as conn:
        for i in range(0, len(records), BATCH):
            stats = await upsert_batch(
                conn,
                shop_id=shop.id,
                records=records[i : i + BATCH],
                mapper=adapter.map_record,
                rules=rules,
                settings=shop.settings,
                now=hub.now(),
            )
            summary.stats.add(stats)
            crashpoint("mid_window")
        if current is None:
            await conn.execute(
                insert(CHECKPOINTS).values(
                    shop_id=shop.id, resource=spec.name, position_at=new_position, updated_at=hub.now()
                )
            )
        elif new_position != current:
            await conn.execute(
                update(CHECKPOINTS)
                .where(
                    CHECKPOINTS.c.shop_id == shop.id,
                    CHECKPOINTS.c.resource == spec.name,
                )
                .values(position_at=new_position, updated_at=hub.now())
            )
        crashpoint("before_commit")
    crashpoint("after_commit")
    return new_position


async def sync_resource(
    hub: Hub,
    shop: Shop,
    adapter: PlatformAdapter,
    spec: ResourceSpec,
    summary: ShopSummary,
    *,
    since: datetime | None,
    until: datetime | None,
    progress: ProgressFn | None,
    blog: Any,
) -> None:
    assert shop.id is not None
    current = await _checkpoint(hub, shop.id, spec.name)
    platform_now = await retrying(hub, f"{spec.name} clock", adapter.platform_now, summary, blog)
    start, end = sync_range(spec, checkpoint=current, platform_now=platform_now, since=since, until=until)

    def fetch(window: Window) -> Awaitable[tuple[list[RawRecord], list[str]]]:
        return _fetch_window(hub, adapter, spec, window, summary, blog)

    # Windows are fetched a few at a time (the shop's rate limiter paces the calls) and written in
    # order, consecutive small windows in one transaction with their checkpoint (see .fetch).
    group = Group()
    renewed = time.monotonic()
    fetched = in_order(windows(spec, start, end), fetch, in_flight=hub.settings.fetch_windows_in_flight)
    async for index, (window, (records, problems)) in _enumerate(fetched):
        if progress:
            progress(shop.name, spec.name, window, index)
        crashpoint("window_fetched")
        group.add(window, records, problems)
        summary.windows += 1
        if not group.full:
            continue
        current = await _write_group(hub, shop, adapter, spec, group, current, summary, blog)
        group = Group()
        if time.monotonic() - renewed >= LEASE_RENEW_SECONDS:
            if not await leases.acquire(hub.engine, shop.id, hub.now()):  # renew; lost only if it lapsed
                raise _ResourceFailed("the shop's sync lease lapsed and another process took it")
            renewed = time.monotonic()
    if group.windows:
        await _write_group(hub, shop, adapter, spec, group, current, summary, blog)


#: renew the shop's lease (10 minutes) this often while a sync runs
LEASE_RENEW_SECONDS = 60.0


async def _enumerate(items: AsyncIterator[T]) -> AsyncIterator[tuple[int, T]]:
    index = 0
    async for item in items:
        yield index, item
        index += 1


async def _write_group(
    hub: Hub,
    shop: Shop,
    adapter: PlatformAdapter,
    spec: ResourceSpec,
    group: Group,
    current: datetime | None,
    summary: ShopSummary,
    blog: Any,
) -> datetime:
    position = await _write_window(hub, shop, adapter, spec, group.span, group.records, current, summary)
    for problem in group.problems:
        summary.errors.append(problem)
        blog.warning("fetch_problem", resource=spec.name, problem=problem)
    return position


async def apply_hints(
    hub: Hub, shop: Shop, adapter: PlatformAdapter, hints: Sequence[Hint], summary: ShopSummary, blog: Any
) -> None:
    """Re-fetch what push messages point at; duplicates are fetched once, newer-wins does the rest."""
    assert shop.id is not None
    seen: set[tuple[str, str]] = set()
    records: list[RawRecord] = []
    for hint in hints:
        key = (hint.resource, hint.external_id)
        if key in seen:
            continue
        seen.add(key)
        raw = await retrying(
            hub,
            f"{hint.resource} {hint.external_id}",
            functools.partial(adapter.fetch_one, *key),
            summary,
            blog,
        )
        if raw is not None:
            records.append(raw)
    if records:
        async with hub.engine.begin() as conn:
            summary.stats.add(
                await upsert_batch(
                    conn,
                    shop_id=shop.id,
                    records=records,
                    mapper=adapter.map_record,
                    rules=adapter.rule_table(),
                    settings=shop.settings,
                    now=hub.now(),
                )
            )


async def sync_one_shop(
    hub: Hub,
    shop: Shop,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: ProgressFn | None = None,
) -> ShopSummary:
    assert shop.id is not None
    summary = ShopSummary(shop=shop.name, platform=shop.platform)
    blog = log.bind(shop=shop.name, platform=shop.platform)
    if shop.needs_reauth:
        summary.status = "reauth"
        summary.errors.append("needs re-authorisation: update its credentials with `hub shop set`")
        return summary
    if not await leases.acquire(hub.engine, shop.id, hub.now()):
        summary.status = "skipped"
        summary.errors.append("another hub process is syncing this shop now")
        blog.info("sync_skipped", reason="leased")
        return summary
    try:
        return await _sync_leased(hub, shop, summary, blog, since=since, until=until, progress=progress)
    finally:
        await leases.release(hub.engine, shop.id)


async def _sync_leased(
    hub: Hub,
    shop: Shop,
    summary: ShopSummary,
    blog: Any,
    *,
    since: datetime | None,
    until: datetime | None,
    progress: ProgressFn | None,
) -> ShopSummary:
    assert shop.id is not None
    async with hub.engine.begin() as conn:
        run_id = (
            await conn.execute(
                insert(RUNS).values(shop_id=shop.id, started_at=hub.now(), status="running", errors=[])
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    blog.info("sync_started")
    adapter = hub.adapter(shop)
    try:
        for spec in adapter.resources():
            try:
                await sync_resource(
                    hub, shop, adapter, spec, summary, since=since, until=until, progress=progress, blog=blog
                )
            except PlatformAuthError as err:
                summary.status = "reauth"
                summary.errors.append(f"{spec.name}: {err}")
                await mark_reauth(hub.engine, shop.id, str(err))
                blog.error("needs_reauth", resource=spec.name, error=str(err), code=err.code)
                break
            except (PlatformRequestError, _ResourceFailed) as err:
                summary.status = "partial"
                summary.errors.append(f"{spec.name}: {err}")
                blog.error("resource_failed", resource=spec.name, error=str(err))
            except PlatformError as err:
                summary.status = "partial"
                summary.errors.append(f"{spec.name}: {err}")
                blog.error("resource_failed", resource=spec.name, error=str(err))
        if summary.status != "reauth":
            try:
                hints = await retrying(hub, "push", adapter.fetch_hints, summary, blog)
                if hints:
                    await apply_hints(hub, shop, adapter, hints, summary, blog)
                    blog.info("hints_applied", hints=len(hints))
            except PlatformAuthError as err:
                summary.status = "reauth"
                summary.errors.append(f"push: {err}")
                await mark_reauth(hub.engine, shop.id, str(err))
            except (PlatformError, _ResourceFailed) as err:
                summary.errors.append(f"push: {err}")
                blog.warning("hints_failed", error=str(err))
    except HubError as err:
        summary.status = "failed"
        summary.errors.append(str(err))
        blog.error("sync_failed", error=str(err))
    finally:
        await adapter.close()
        s = summary.stats
        if summary.status == "ok" and summary.errors:
            summary.status = "partial"
        async with hub.engine.begin() as conn:
            await conn.execute(
                update(RUNS)
                .where(RUNS.c.id == run_id)
                .values(
                    finished_at=hub.now(),
                    status=summary.status,
                    fetched=s.fetched,
                    new=s.new,
                    changed=s.changed,
                    unchanged=s.unchanged + s.stale,
                    quarantined=s.quarantined,
                    errors=summary.errors + s.problems,
                )
            )
    blog.info(
        "sync_finished",
        status=summary.status,
        fetched=s.fetched,
        new=s.new,
        changed=s.changed,
        unchanged=s.unchanged + s.stale,
        quarantined=s.quarantined,
        errors=len(summary.errors),
    )
    for case, changes in s.changed_cases:
        await notify(hub.pm, "hub_on_case_changed", shop=shop, case=case, changes=changes)
    s.changed_cases.clear()
    return summary


async def sync_shops(
    hub: Hub,
    *,
    names: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: ProgressFn | None = None,
    concurrency: int = 4,
) -> list[ShopSummary]:
    """Sync the named shops (all when ``names`` is empty), a few at a time, then resolve order links."""
    rows = await list_shop_rows(hub.engine)
    if names:
        missing = sorted(set(names) - {r.name for r in rows})
        if missing:
            raise HubError(f"no shop named {', '.join(missing)} (see `hub shop list`)")
        rows = [r for r in rows if r.name in names]
    sem = asyncio.Semaphore(concurrency)

    async def one(row: Any) -> ShopSummary:
        if row.platform not in hub.registry.platforms:
            return ShopSummary(
                shop=row.name,
                platform=row.platform,
                status="skipped",
                errors=[f"platform {row.platform!r} is not installed or is disabled"],
            )
        try:
            shop = shop_from_row(row)
        except HubError as err:
            return ShopSummary(shop=row.name, platform=row.platform, status="failed", errors=[str(err)])
        async with sem:
            return await sync_one_shop(hub, shop, since=since, until=until, progress=progress)

    summaries = list(await asyncio.gather(*(one(r) for r in rows)))
    async with hub.engine.begin() as conn:
        made = await resolve_links(conn)
    if made:
        log.info("orders_linked", links=made)
    return summaries
