"""The ``alerts`` worker task: where ``hub worker`` runs, a shop's sync task queues this instead of
sending alerts itself, so a slow robot never holds a sync slot and concurrent syncs share one
message per channel (the queue keeps one ``alerts`` task waiting at a time)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..domain import Shop
from ..runtime import Hub
from ..worker.tasks import task_kind
from .announce import WORKER_QUEUE, deliver

if TYPE_CHECKING:
    from ..worker.queue import TaskQueue

KIND = "alerts"


@task_kind(KIND, help="send the pending 超时预警 alerts to their notify channels", per_shop=False)
async def run_alerts(hub: Hub, shop: Shop | None, args: Mapping[str, Any]) -> str:
    """Deliver what the syncs queued: ``ok``, or ``partial`` when a channel failed (its alerts
    stay pending for the next pass; the task itself is not retried by the queue)."""
    report = await deliver(hub)
    return "ok" if report.ok else "partial"


def use_worker_queue(queue: TaskQueue) -> None:
    """Called by ``hub worker``: from now on, alerts after a sync are queued on ``queue``."""
    WORKER_QUEUE.set(queue)
