"""The task queues: procrastinate on PostgreSQL, the ``worker_tasks`` table on SQLite.

Why procrastinate: it is a PostgreSQL job queue for asyncio with what hub needs (queueing locks
that keep one pending sync per shop, retries, worker heartbeats to find the jobs of a killed
worker, LISTEN/NOTIFY so idle workers wake at once) and nothing hub does not (no broker). It talks
to PostgreSQL through psycopg 3 with its own small pool, beside SQLAlchemy's asyncpg pool: the two
never share a transaction, so a task never assumes its enqueue committed with hub data. Tasks are
idempotent (a sync replays from its checkpoint) and every data commit is fenced by the shop lease,
which is what makes that safe. Its tables come with the alembic revision that adds the worker.

SQLite has no such engine (and allows one writer): there, one ``hub worker`` process serves the
``worker_tasks`` table, and a second one is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import structlog
from sqlalchemy import select, text, update
from sqlalchemy.engine.url import make_url

from ..clock import utcnow
from ..errors import ConfigError, HubError
from ..runtime import Hub
from ..store.shops import SHOPS, shop_from_row
from ..sync import leases
from . import ledger
from .tasks import ShopLocks, get_kind

if TYPE_CHECKING:
    from .scheduler import Scheduler

log = structlog.get_logger("hub.worker")

TASKS = ledger.TASKS
MAX_ATTEMPTS = 3


class WorkerError(HubError):
    """The worker cannot start (another one holds the SQLite database, a bad option)."""


def dedupe_key(kind: str, shop_id: int | None) -> str:
    return f"{kind}:{shop_id if shop_id is not None else '-'}"


async def execute(
    hub: Hub,
    locks: ShopLocks,
    *,
    kind: str,
    shop_id: int | None,
    params: Mapping[str, Any],
    queued_at: datetime,
    task_id: int | None = None,
    job_id: int | None = None,
) -> str:
    """Run one task: look its kind up, load its shop, record it in the ledger (``task_id``: the
    SQLite queue's row; ``job_id``: the procrastinate job, kept in the ledger row's args). Returns
    the outcome (``ok``, ``partial``, ``skipped``, ``reauth``, ``failed``, ``gone``); an unexpected
    exception is recorded and re-raised so that the queue retries the task."""
    k = get_kind(kind)
    tid = await ledger.started(
        hub.engine,
        kind=kind,
        shop_id=shop_id,
        args={**params, "job_id": str(job_id)} if job_id is not None else dict(params),
        queued_at=queued_at,
        now=hub.now(),
        worker=leases.OWNER,
        task_id=task_id,
    )
    tlog = log.bind(task=kind, shop_id=shop_id)
    tlog.info("task_started", latency_s=round((hub.now() - queued_at).total_seconds(), 3))
    shop = None
    error: str | None = None
    try:
        if k.per_shop:
            async with hub.engine.connect() as conn:
                row = (await conn.execute(select(SHOPS).where(SHOPS.c.id == shop_id))).first()
            if row is None or row.platform not in hub.registry.platforms:
                outcome = "gone"  # removed, or its plugin is not installed here: nothing to do
            elif shop_id is None or not locks.try_take(shop_id):
                outcome = "skipped"  # this process runs a task of the shop already
            else:
                try:
                    shop = shop_from_row(row)
                    outcome = await k.handler(hub, shop, params)
                finally:
                    locks.give_back(shop_id)
        else:
            outcome = await k.handler(hub, None, params)
    except HubError as err:  # bad settings (an unset env: secret): a retry cannot help
        outcome, error = "failed", str(err)
        tlog.error("task_failed", error=error)
    except Exception as err:
        error = f"{type(err).__name__}: {err}"
        await ledger.finished(hub.engine, tid, status="error", now=hub.now(), error=error)
        tlog.error("task_failed", error=error)
        raise
    await ledger.finished(hub.engine, tid, status=outcome, now=hub.now(), error=error)
    tlog.info("task_finished", outcome=outcome)
    return outcome


class TaskQueue(ABC):
    """Where tasks wait: :meth:`defer` from anywhere, :meth:`run` in ``hub worker``."""

    backend: str

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.locks = ShopLocks()

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    @abstractmethod
    async def defer(
        self, kind: str, shop_id: int | None = None, params: Mapping[str, Any] | None = None
    ) -> bool:
        """Queue a task; False when the same task (kind and shop) is already waiting."""

    @abstractmethod
    async def run(
        self,
        *,
        concurrency: int,
        burst: bool,
        scheduler: Scheduler | None,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        """Work until stopped (SIGTERM/SIGINT: running tasks finish first), or with ``burst``
        until nothing is left to do."""

    async def recover_stalled(self, now: datetime) -> int:
        """Give the tasks of dead workers to live ones; how many were."""
        return 0


def open_queue(hub: Hub) -> TaskQueue:
    backend = make_url(hub.settings.database_url).get_backend_name()
    if backend == "postgresql":
        return PgQueue(hub)
    return LocalQueue(hub)


class LocalQueue(TaskQueue):
    """SQLite: the ``worker_tasks`` table is the queue and one process serves it."""

    backend = "sqlite"
    poll = 0.5

    def __init__(self, hub: Hub) -> None:
        super().__init__(hub)
        self._lockfile: IO[str] | None = None

    async def defer(
        self, kind: str, shop_id: int | None = None, params: Mapping[str, Any] | None = None
    ) -> bool:
        get_kind(kind)
        key = dedupe_key(kind, shop_id)
        async with self.hub.engine.begin() as conn:
            waiting = (
                await conn.execute(
                    select(TASKS.c.id).where(TASKS.c.dedupe_key == key, TASKS.c.status == "queued")
                )
            ).first()
            if waiting:
                return False
            await conn.execute(
                TASKS.insert().values(
                    kind=kind,
                    shop_id=shop_id,
                    dedupe_key=key,
                    args=dict(params or {}),
                    status="queued",
                    queued_at=self.hub.now(),
                    attempts=0,
                )
            )
        return True

    def _take_file_lock(self) -> None:
        """One worker per SQLite database: an exclusive lock on a file beside it."""
        db = make_url(self.hub.settings.database_url).database
        if not db or db == ":memory:":
            raise WorkerError("hub worker needs a database file (an in-memory SQLite database has no queue)")
        path = Path(db).expanduser().with_name(Path(db).name + ".worker.lock")
        handle = path.open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            pid = handle.read().strip() or "?"
            handle.close()
            raise WorkerError(
                f"another hub worker (pid {pid}) is already running on the SQLite database {db}; "
                "SQLite allows one worker process: stop it, or use PostgreSQL to run several"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lockfile = handle

    async def _requeue_orphans(self) -> None:
        """Tasks left running by a killed worker run again (we hold the only worker lock)."""
        async with self.hub.engine.begin() as conn:
            res = await conn.execute(update(TASKS).where(TASKS.c.status == "running").values(status="queued"))
        if res.rowcount:
            log.warning("tasks_requeued", tasks=res.rowcount, reason="left running by a stopped worker")

    async def _claim(self) -> Any:
        async with self.hub.engine.begin() as conn:
            row = (
                await conn.execute(
                    select(TASKS)
                    .where(TASKS.c.status == "queued", TASKS.c.queued_at <= self.hub.now())
                    .order_by(TASKS.c.queued_at, TASKS.c.id)
                    .limit(1)
                )
            ).first()
            if row is None:
                return None
            await conn.execute(
                update(TASKS).where(TASKS.c.id == row.id, TASKS.c.status == "queued").values(status="running")
            )
            return row

    async def _run_one(self, row: Any) -> None:
        try:
            await execute(
                self.hub,
                self.locks,
                kind=row.kind,
                shop_id=row.shop_id,
                params=row.args or {},
                queued_at=row.queued_at,
                task_id=row.id,
            )
        except Exception:
            if row.attempts + 1 < MAX_ATTEMPTS:
                async with self.hub.engine.begin() as conn:
                    await conn.execute(
                        update(TASKS)
                        .where(TASKS.c.id == row.id)
                        .values(
                            status="queued",
                            queued_at=self.hub.now() + timedelta(seconds=2 ** (row.attempts + 1)),
                        )
                    )

    async def run(
        self,
        *,
        concurrency: int,
        burst: bool,
        scheduler: Scheduler | None,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        self._take_file_lock()
        await self._requeue_orphans()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        running: set[asyncio.Task[None]] = set()
        next_tick = 0.0
        if on_ready:
            on_ready()
        try:
            while not stop.is_set():
                if scheduler is not None and loop.time() >= next_tick:
                    await scheduler.safe_tick()
                    next_tick = loop.time() + scheduler.interval
                claimed = False
                while len(running) < concurrency:
                    row = await self._claim()
                    if row is None:
                        break
                    claimed = True
                    task = asyncio.create_task(self._run_one(row))
                    running.add(task)
                    task.add_done_callback(running.discard)
                if burst and not claimed and not running:
                    break
                waiters: set[asyncio.Future[Any]] = {asyncio.ensure_future(stop.wait()), *running}
                await asyncio.wait(waiters, timeout=self.poll, return_when=asyncio.FIRST_COMPLETED)
                for w in waiters - set(running):
                    if not w.done():
                        w.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)

    async def close(self) -> None:
        if self._lockfile is not None:
            self._lockfile.close()
            self._lockfile = None


def libpq_url(url: str) -> str:
    """The SQLAlchemy asyncpg URL as a libpq connection string (psycopg)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PgQueue(TaskQueue):
    """PostgreSQL: procrastinate's queue, shared by every worker on every machine."""

    backend = "postgresql"

    def __init__(self, hub: Hub, *, pool_size: int = 4) -> None:
        super().__init__(hub)
        import procrastinate

        self.procrastinate = procrastinate
        self.app = procrastinate.App(
            connector=procrastinate.PsycopgConnector(
                conninfo=libpq_url(hub.settings.database_url), min_size=1, max_size=pool_size
            )
        )
        lease_s = hub.settings.lease_seconds
        #: a worker beats this often; one silent for ``stalled_after`` is dead and its jobs move
        self.heartbeat = max(0.5, min(10.0, lease_s / 6))
        self.stalled_after = max(3 * self.heartbeat, min(30.0, lease_s / 2))

        @self.app.task(
            name="hub_task",
            pass_context=True,
            retry=procrastinate.RetryStrategy(max_attempts=MAX_ATTEMPTS, exponential_wait=2),
        )
        async def hub_task(
            context: Any, kind: str, shop_id: int | None, queued_at: str, params: dict[str, Any]
        ) -> None:
            await execute(
                hub,
                self.locks,
                kind=kind,
                shop_id=shop_id,
                params=params,
                queued_at=datetime.fromisoformat(queued_at),
                job_id=context.job.id,
            )

    async def open(self) -> None:
        await self.app.open_async()

    async def close(self) -> None:
        await self.app.close_async()

    async def defer(
        self, kind: str, shop_id: int | None = None, params: Mapping[str, Any] | None = None
    ) -> bool:
        get_kind(kind)
        from procrastinate.exceptions import AlreadyEnqueued

        try:
            await self.app.configure_task("hub_task", queueing_lock=dedupe_key(kind, shop_id)).defer_async(
                kind=kind, shop_id=shop_id, queued_at=self.hub.now().isoformat(), params=dict(params or {})
            )
        except AlreadyEnqueued:
            return False
        return True

    async def recover_stalled(self, now: datetime) -> int:
        """Jobs of workers that stopped beating go back to the queue, to start when the shop's
        lease allows (at once when its holder is known dead, else when the lease lapses)."""
        jobs = await self.app.job_manager.get_stalled_jobs(seconds_since_heartbeat=self.stalled_after)
        moved = 0
        for job in jobs:
            assert job.id is not None
            shop_id = job.task_kwargs.get("shop_id")
            retry_at = utcnow()
            if shop_id is not None:
                async with self.hub.engine.connect() as conn:
                    row = (
                        await conn.execute(
                            select(SHOPS.c.lease_owner, SHOPS.c.lease_until).where(SHOPS.c.id == shop_id)
                        )
                    ).first()
                if (
                    row
                    and row.lease_until
                    and row.lease_until > retry_at
                    and not leases._dead_here(row.lease_owner)
                ):
                    retry_at = row.lease_until
            async with self.hub.engine.connect() as conn:
                newer = (
                    await conn.execute(
                        text(
                            "SELECT count(*) FROM procrastinate_jobs "
                            "WHERE queueing_lock = :lock AND status = 'todo' AND id <> :job"
                        ),
                        {"lock": job.queueing_lock, "job": job.id},
                    )
                ).scalar_one()
            try:
                if newer:
                    # the same task is already waiting again (the scheduler's next period): it
                    # does this work, and a retry would break the queueing lock
                    await self.app.job_manager.finish_job_by_id_async(
                        job.id, status=self.procrastinate.jobs.Status.FAILED, delete_job=False
                    )
                else:
                    await self.app.job_manager.retry_job(job, retry_at=retry_at)
            except Exception as err:  # another worker moved it first
                log.info("stalled_job_taken", job=job.id, error=str(err))
                continue
            moved += 1
            async with self.hub.engine.begin() as conn:  # its ledger row ends here; the retry gets its own
                await conn.execute(
                    text(
                        "UPDATE worker_tasks SET status = 'interrupted', finished_at = :now "
                        "WHERE status = 'running' AND args->>'job_id' = :job"
                    ),
                    {"now": now, "job": str(job.id)},
                )
            log.warning(
                "stalled_job_superseded" if newer else "stalled_job_retried",
                job=job.id,
                task=job.task_kwargs.get("kind"),
                shop_id=shop_id,
            )
        return moved

    async def run(
        self,
        *,
        concurrency: int,
        burst: bool,
        scheduler: Scheduler | None,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        options: dict[str, Any] = {
            "concurrency": concurrency,
            "name": leases.OWNER,
            "wait": not burst,
            "fetch_job_polling_interval": 1.0,
            "update_heartbeat_interval": self.heartbeat,
            "stalled_worker_timeout": self.stalled_after,
            "delete_jobs": "successful",
            "install_signal_handlers": True,
        }
        if burst:
            if scheduler is not None:
                await scheduler.safe_tick()
            if on_ready:
                on_ready()
            await self.app.run_worker_async(**options)
            return
        ticking: asyncio.Task[None] | None = None
        if scheduler is not None:
            ticking = asyncio.create_task(scheduler.loop())
        if on_ready:
            on_ready()
        try:
            await self.app.run_worker_async(**options)
        finally:
            if ticking is not None:
                ticking.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticking


def check_concurrency(value: int) -> int:
    if value < 1:
        raise ConfigError(f"--concurrency must be at least 1, not {value}")
    return value
