"""Sync shops: per resource, windows over the platform's modified time; each window's data and its
checkpoint in one transaction, so a process killed anywhere replays at most one window and, since
upserts are idempotent and newer-wins, ends exactly where an uninterrupted run ends.

Platform errors arrive already classified by the plugin's client; the engine acts on the class:
rate limit → wait ``retry_after`` (or back off) and retry the window; connection → exponential
backoff, a few times; auth → mark the shop for re-authorisation and skip it (others go on);
request → record the error, skip this resource.

A platform that asks for a wait longer than the shop's ``max_wait`` marks the shop rate-limited
until then (see :mod:`hub.sync.waits`). Push messages are hints: a push channel that fails is a
warning, never a failed sync. Anything else a plugin raises (a bug: a missing method, a wrong
type) fails that shop alone, naming the plugin, the shop and what it was doing; the other shops
finish, and every run row says how its run ended (a run a killed process left ``running`` is
closed as ``killed`` by the next run of that shop).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import structlog
from sqlalchemy import insert, select, update

from ..auto.hooks import after_shop_sync, before_shop_sync
from ..domain import RawRecord, Shop
from ..errors import (
    HubError,
    PlatformAuthError,
    PlatformConnectionError,
    PlatformError,
    PlatformRateLimitError,
    PlatformRequestError,
)
from ..notify.announce import announce_after_sync
from ..platform import Hint, PlatformAdapter, ResourceSpec, Window
from ..plugins import notify
from ..runtime import Hub
from ..scrub import register_shop, scrub
from ..store.base import tbl
from ..store.links import resolve_links
from ..store.models import SyncCheckpointRecord, SyncRunRecord
from ..store.nextaction import recompute_if_changed
from ..store.shops import list_shop_rows, mark_reauth, shop_from_row
from ..store.upsert import UpsertStats, upsert_batch
from ..store.validate import no_nul
from . import leases, waits
from .crash import crashpoint
from .fetch import Group, in_order
from .followups import erp_and_parcels_after_sync
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
    status: str = "ok"  #: ok, partial, reauth, rate_limited, failed, skipped
    stats: UpsertStats = field(default_factory=UpsertStats)
    errors: list[str] = field(default_factory=list)
    windows: int = 0
    retries: int = 0
    #: what went wrong without making the sync less than ok (an unavailable push channel)
    warnings: list[str] = field(default_factory=list)
    #: when a platform's long wait stopped the sync: no sync of this shop before this time
    rate_limited_until: datetime | None = None
    #: what the sync is doing now, so a plugin's fault names it
    stage: str = ""

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
            # a platform's error text may echo our request: the known secret values are hidden
            "errors": scrub(self.errors),
            "problems": scrub(s.problems),
            "windows": self.windows,
            "retries": self.retries,
            "warnings": scrub(self.warnings),
            "rate_limited_until": self.rate_limited_until.isoformat() if self.rate_limited_until else None,
        }


ProgressFn = Callable[[str, str, Window, int], None]


class _ResourceFailed(Exception):
    pass


async def retrying(hub: Hub, what: str, fn: Callable[[], Awaitable[T]], summary: ShopSummary, blog: Any) -> T:
    """Run ``fn`` again while it fails with a retryable platform error: wait the platform's
    ``retry_after`` when it gives one, else back off exponentially; give up after max_retries.
    Within a shop's sync every wait is bounded by its ``max_wait`` (a longer stated wait raises
    :class:`hub.sync.waits.RateLimited`) and slept with the shop's lease renewed."""
    attempt = 0
    guard = waits.CURRENT.get()
    while True:
        try:
            return await fn()
        except PlatformRateLimitError as err:
            stated = err.retry_after is not None
            wait = err.retry_after if err.retry_after is not None else _backoff(hub, attempt)
            if guard is not None:
                wait = guard.check(wait, what, stated=stated, detail=str(err))
            blog.warning("rate_limited", what=what, wait_s=wait, code=err.code)
        except PlatformConnectionError as err:
            wait = _backoff(hub, attempt)
            if guard is not None:
                wait = guard.check(wait, what, stated=False)
            blog.warning("platform_unavailable", what=what, wait_s=wait, error=str(err))
        attempt += 1
        summary.retries += 1
        if attempt > hub.settings.max_retries:
            raise _ResourceFailed(f"{what}: gave up after {attempt} attempts")
        if guard is not None:
            await guard.sleep(wait)
        else:
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
        guard = waits.CURRENT.get()
        async for page in adapter.fetch_window(spec.name, window):
            records.extend(page.records)
            problems.extend(f"{p.source}: {p.message}" for p in page.problems)
            if guard is not None:  # a long fetch (a big import) keeps the lease
                await guard.keep()
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
                merchant_side=hub.registry.info(shop.platform).merchant_side,
            )
            summary.stats.add(stats)
            crashpoint("mid_window")
        # fencing: the lease still ours at our epoch (this also renews it), else roll back
        await leases.fence(conn, shop.id, hub.now(), ttl=hub.settings.lease)
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
    summary.stage = f"{spec.name} clock"
    platform_now = await retrying(hub, f"{spec.name} clock", adapter.platform_now, summary, blog)
    start, end = sync_range(spec, checkpoint=current, platform_now=platform_now, since=since, until=until)

    async def fetch(window: Window) -> tuple[list[RawRecord], list[str]]:
        try:
            return await _fetch_window(hub, adapter, spec, window, summary, blog)
        except BaseException:
            # windows are fetched ahead of the writes: name the one that failed, not the last written
            summary.stage = f"{spec.name} {window.start.isoformat()} to {window.end.isoformat()}"
            raise

    # Windows are fetched a few at a time (the shop's rate limiter paces the calls) and written in
    # order, consecutive small windows in one transaction with their checkpoint (see .fetch).
    # The lease is renewed by the fence in each group's commit and between the pages of a fetch.
    group = Group()
    fetched = in_order(windows(spec, start, end), fetch, in_flight=hub.settings.fetch_windows_in_flight)
    async for index, (window, (records, problems)) in _enumerate(fetched):
        if progress:
            progress(shop.name, spec.name, window, index)
        summary.stage = f"{spec.name} {window.start.isoformat()} to {window.end.isoformat()}"
        crashpoint("window_fetched")
        group.add(window, records, problems)
        summary.windows += 1
        if not group.full:
            continue
        current = await _write_group(hub, shop, adapter, spec, group, current, summary, blog)
        group = Group()
    if group.windows:
        await _write_group(hub, shop, adapter, spec, group, current, summary, blog)


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
        summary.stage = f"push hint {hint.resource} {hint.external_id}"
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
            await leases.fence(conn, shop.id, hub.now(), ttl=hub.settings.lease)
            summary.stats.add(
                await upsert_batch(
                    conn,
                    shop_id=shop.id,
                    records=records,
                    mapper=adapter.map_record,
                    rules=adapter.rule_table(),
                    settings=shop.settings,
                    now=hub.now(),
                    merchant_side=hub.registry.info(shop.platform).merchant_side,
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
    register_shop(shop.settings, hub.registry.platforms.get(shop.platform))  # scrubbed from what we store
    summary = ShopSummary(shop=shop.name, platform=shop.platform)
    blog = log.bind(shop=shop.name, platform=shop.platform)
    if shop.needs_reauth:
        summary.status = "reauth"
        summary.errors.append("needs re-authorisation: update its credentials with `hub shop set`")
        return summary
    limited = await waits.rate_limited_until(hub, shop.id)
    if limited is not None:
        until, reason = limited
        summary.status = "rate_limited"
        summary.rate_limited_until = until
        summary.errors.append(f"skipped: rate-limited by the platform until {waits.show(until)} ({reason})")
        blog.info("sync_skipped", reason="rate_limited", until=until.isoformat())
        return summary
    if not await leases.acquire(hub.engine, shop.id, hub.now(), ttl=hub.settings.lease):
        summary.status = "skipped"
        summary.errors.append("another hub process is syncing this shop now")
        blog.info("sync_skipped", reason="leased")
        return summary
    synced = shop
    try:
        synced = await before_shop_sync(hub, shop)  # scheduled shop-policy values come in force
        summary = await _sync_leased(hub, synced, summary, blog, since=since, until=until, progress=progress)
    finally:
        await leases.release(hub.engine, shop.id)
    await after_shop_sync(hub, synced, summary)  # the shop's auto-rules
    await announce_after_sync(hub, synced)  # 超时预警: never raises, never changes the summary
    return summary


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
    now = hub.now()
    async with hub.engine.begin() as conn:
        # We hold the lease, so a run of this shop still marked running was left by a process
        # that died (killed, or its machine went down): say so.
        closed = await conn.execute(
            update(RUNS)
            .where(RUNS.c.shop_id == shop.id, RUNS.c.status == "running")
            .values(status="killed", finished_at=now, errors=[KILLED])
        )
        if closed.rowcount:
            blog.warning("killed_runs_closed", runs=closed.rowcount)
        run_id = (
            await conn.execute(
                insert(RUNS).values(shop_id=shop.id, started_at=now, status="running", errors=[])
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    blog.info("sync_started")
    guard = waits.ShopGuard(hub=hub, shop_id=shop.id, max_wait=waits.DEFAULT_MAX_WAIT, renewed_at=now)
    token = waits.CURRENT.set(guard)
    adapter: PlatformAdapter | None = None
    summary.stage = "starting"
    try:
        guard.max_wait = waits.max_wait_of(shop.settings, shop.name)
        adapter = hub.adapter(shop)
        # new rules or policy settings: recompute the stored next actions before syncing
        summary.stage = "recomputing next actions"
        side = hub.registry.info(shop.platform).merchant_side
        rules = adapter.rule_table()
        recomputed = await recompute_if_changed(hub.engine, shop.id, rules, shop.settings, side)
        if recomputed is not None:
            blog.info("next_actions_recomputed", rows=recomputed)
        summary.stage = "listing resources"
        for spec in adapter.resources():
            try:
                await sync_resource(
                    hub, shop, adapter, spec, summary, since=since, until=until, progress=progress, blog=blog
                )
            except PlatformAuthError as err:
                summary.status = "reauth"
                summary.errors.append(f"{spec.name}: {err}")
                await mark_reauth(hub.engine, shop.id, no_nul(str(err)))
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
            await _push_hints(hub, shop, adapter, summary, blog)
    except waits.RateLimited as err:
        summary.status = "rate_limited"
        summary.rate_limited_until = err.until
        summary.errors.append(f"rate-limited by the platform until {waits.show(err.until)}: {err.reason}")
        await waits.mark_rate_limited(hub, shop.id, err.until, err.reason)
        blog.warning("shop_rate_limited", until=err.until.isoformat(), reason=err.reason)
    except leases.LeaseLost as err:
        # another process owns the shop now: this run stops and commits nothing more
        summary.status = "failed"
        summary.errors.append(str(err))
        blog.error("lease_lost", error=str(err))
    except HubError as err:
        summary.status = "failed"
        summary.errors.append(str(err))
        blog.error("sync_failed", error=str(err))
    except Exception as err:  # a plugin's bug: this shop fails, named; the other shops go on
        summary.status = "failed"
        summary.errors.append(_fault(shop, summary.stage, err))
        blog.error("plugin_failed", stage=summary.stage, error=f"{type(err).__name__}: {err}", exc_info=True)
    finally:
        waits.CURRENT.reset(token)
        if adapter is not None:
            try:
                await adapter.close()
            except Exception as err:  # closing is housekeeping: never worse than a warning
                summary.warnings.append(_fault(shop, "closing the adapter", err))
                blog.warning("adapter_close_failed", error=f"{type(err).__name__}: {err}")
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
                    errors=[
                        no_nul(e)
                        for e in scrub(
                            summary.errors + s.problems + [f"warning: {w}" for w in summary.warnings]
                        )
                    ],
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
        warnings=len(summary.warnings),
    )
    for case, changes in s.changed_cases:
        await notify(hub.pm, "hub_on_case_changed", shop=shop, case=case, changes=changes)
    s.changed_cases.clear()
    await erp_and_parcels_after_sync(hub, shop, summary)
    return summary


#: the error a run left ``running`` by a dead process is closed with
KILLED = "the process running this sync stopped before it finished (killed); the next run resumed it"


def _fault(shop: Shop, stage: str, err: BaseException) -> str:
    """One line naming the plugin, the shop and what it was doing when it raised ``err``."""
    text = " ".join(no_nul(str(err)).split())
    return f"plugin {shop.platform} failed on shop {shop.name} ({stage}): {type(err).__name__}: {text}"


async def _push_hints(
    hub: Hub, shop: Shop, adapter: PlatformAdapter, summary: ShopSummary, blog: Any
) -> None:
    """Read the push channel and re-fetch what it points at. Push is only a hint (polling is the
    source of truth), so a channel that is unreachable or refuses us is a warning, read once per
    sync, never retried for minutes; ``push=off`` turns it off."""
    if str(shop.settings.get("push") or "on").strip().lower() == "off":
        return
    summary.stage = "push"
    try:
        hints = await adapter.fetch_hints()
        if hints:
            await apply_hints(hub, shop, adapter, hints, summary, blog)
            blog.info("hints_applied", hints=len(hints))
    except (PlatformError, _ResourceFailed) as err:
        summary.warnings.append(
            f"push: {err} (push is only a hint: polling covers it; "
            f"`hub shop set {shop.name} --set push=off` stops trying)"
        )
        blog.warning("hints_failed", error=str(err))


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
                errors=[
                    hub.registry.problems.get(row.platform)
                    or f"platform {row.platform!r} is not installed or is disabled"
                ],
            )
        try:
            shop = shop_from_row(row)
        except HubError as err:
            return ShopSummary(shop=row.name, platform=row.platform, status="failed", errors=[str(err)])
        async with sem:
            try:
                return await sync_one_shop(hub, shop, since=since, until=until, progress=progress)
            except Exception as err:  # whatever it is, it stays in this shop's summary
                log.error("sync_failed", shop=row.name, error=f"{type(err).__name__}: {err}", exc_info=True)
                return ShopSummary(
                    shop=row.name, platform=row.platform, status="failed", errors=[_fault(shop, "sync", err)]
                )

    summaries = list(await asyncio.gather(*(one(r) for r in rows)))
    async with hub.engine.begin() as conn:
        made = await resolve_links(conn)
    if made:
        log.info("orders_linked", links=made)
    return summaries
