"""The ``worker_tasks`` ledger: when each task was queued, started and finished, by which worker.

It feeds ``/metrics`` (task latency, outcomes) on both backends; on SQLite it is also the queue.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ..store.base import tbl
from ..store.models import WorkerTaskRecord

TASKS = tbl(WorkerTaskRecord)
#: finished tasks are kept this long (enough for latency figures and `hub doctor`)
KEEP = timedelta(days=7)


async def started(
    engine: AsyncEngine,
    *,
    kind: str,
    shop_id: int | None,
    args: dict[str, Any],
    queued_at: datetime,
    now: datetime,
    worker: str,
    task_id: int | None = None,
) -> int:
    """Mark a task running (the SQLite queue's row, or a new row for a procrastinate job)."""
    async with engine.begin() as conn:
        if task_id is not None:
            await conn.execute(
                update(TASKS)
                .where(TASKS.c.id == task_id)
                .values(status="running", started_at=now, worker=worker, attempts=TASKS.c.attempts + 1)
            )
            return task_id
        res = await conn.execute(
            insert(TASKS).values(
                kind=kind,
                shop_id=shop_id,
                args=args,
                status="running",
                queued_at=queued_at,
                started_at=now,
                worker=worker,
                attempts=1,
            )
        )
        return int(res.inserted_primary_key[0])  # type: ignore[index]


async def finished(
    engine: AsyncEngine, task_id: int, *, status: str, now: datetime, error: str | None
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            update(TASKS).where(TASKS.c.id == task_id).values(status=status, finished_at=now, error=error)
        )


async def prune(engine: AsyncEngine, now: datetime) -> None:
    """Forget finished tasks older than :data:`KEEP`."""
    async with engine.begin() as conn:
        await conn.execute(
            delete(TASKS).where(TASKS.c.finished_at.is_not(None), TASKS.c.finished_at < now - KEEP)
        )
