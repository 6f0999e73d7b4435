"""The worker's part of ``/metrics``: queue depth, task latency and duration, task outcomes and
lease takeovers, read from the database at scrape time (so any ``hub serve`` shows every worker)."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from ..store.shops import SHOPS
from .ledger import TASKS
from .tasks import REGISTRY


async def queue_depth(engine: AsyncEngine) -> dict[str, int]:
    """Tasks waiting to start, by kind: procrastinate's table on PostgreSQL, the ledger on SQLite."""
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            if not (await conn.execute(text("SELECT to_regclass('procrastinate_jobs')"))).scalar():
                return {}
            rows = await conn.execute(
                text(
                    "SELECT args->>'kind', count(*) FROM procrastinate_jobs "
                    "WHERE status = 'todo' AND task_name = 'hub_task' GROUP BY 1"
                )
            )
        else:
            rows = await conn.execute(
                select(TASKS.c.kind, func.count()).where(TASKS.c.status == "queued").group_by(TASKS.c.kind)
            )
        return {str(k): int(n) for k, n in rows}


def _seconds(engine: AsyncEngine, later: str, earlier: str) -> str:
    if engine.dialect.name == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def _esc(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


async def worker_metric_lines(engine: AsyncEngine) -> list[str]:
    """Prometheus text lines for the worker families."""
    depth = await queue_depth(engine)
    latency = _seconds(engine, "started_at", "queued_at")
    duration = _seconds(engine, "finished_at", "started_at")
    async with engine.connect() as conn:
        timing = (
            await conn.execute(
                text(
                    f"SELECT kind, count(*), coalesce(sum({latency}), 0), "
                    "count(finished_at), "
                    f"coalesce(sum(CASE WHEN finished_at IS NOT NULL THEN {duration} END), 0) "
                    "FROM worker_tasks WHERE started_at IS NOT NULL GROUP BY kind ORDER BY kind"
                )
            )
        ).all()
        outcomes = (
            await conn.execute(
                select(TASKS.c.kind, TASKS.c.status, func.count())
                .where(TASKS.c.finished_at.is_not(None))
                .group_by(TASKS.c.kind, TASKS.c.status)
                .order_by(TASKS.c.kind, TASKS.c.status)
            )
        ).all()
        takeovers = (
            await conn.execute(
                select(SHOPS.c.name, SHOPS.c.platform, SHOPS.c.lease_takeovers).order_by(SHOPS.c.name)
            )
        ).all()
    lines = [
        "# HELP hub_queue_depth Tasks waiting in the worker queue, by kind.",
        "# TYPE hub_queue_depth gauge",
    ]
    for kind in sorted(set(REGISTRY) | set(depth)):
        lines.append(f'hub_queue_depth{{kind="{_esc(kind)}"}} {depth.get(kind, 0)}')
    lines += [
        "# HELP hub_task_latency_seconds From enqueue to start, by task kind (recent tasks).",
        "# TYPE hub_task_latency_seconds summary",
    ]
    for kind, started, lat_sum, _done, _dur in timing:
        lines.append(f'hub_task_latency_seconds_sum{{kind="{_esc(kind)}"}} {float(lat_sum):.6f}')
        lines.append(f'hub_task_latency_seconds_count{{kind="{_esc(kind)}"}} {int(started)}')
    lines += [
        "# HELP hub_task_duration_seconds From start to finish, by task kind (recent tasks).",
        "# TYPE hub_task_duration_seconds summary",
    ]
    for kind, _started, _lat, done, dur_sum in timing:
        lines.append(f'hub_task_duration_seconds_sum{{kind="{_esc(kind)}"}} {float(dur_sum):.6f}')
        lines.append(f'hub_task_duration_seconds_count{{kind="{_esc(kind)}"}} {int(done)}')
    lines += [
        "# HELP hub_tasks_total Finished worker tasks by kind and outcome (recent tasks).",
        "# TYPE hub_tasks_total counter",
    ]
    for kind, status, n in outcomes:
        lines.append(f'hub_tasks_total{{kind="{_esc(kind)}",outcome="{_esc(status)}"}} {int(n)}')
    lines += [
        "# HELP hub_lease_takeovers_total Sync leases taken over from a dead or lapsed holder, by shop.",
        "# TYPE hub_lease_takeovers_total counter",
    ]
    for name, platform, n in takeovers:
        lines.append(f'hub_lease_takeovers_total{{shop="{_esc(name)}",platform="{_esc(platform)}"}} {int(n)}')
    return lines
