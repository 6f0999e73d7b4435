"""Cutting a resource's modified-time range into windows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from ..platform import ResourceSpec, Window

EPOCH_SNAPSHOT = datetime.fromisoformat("2000-01-01T00:00:00+00:00")


def sync_range(
    spec: ResourceSpec,
    *,
    checkpoint: datetime | None,
    platform_now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[datetime, datetime]:
    """The modified-time range to read: from the checkpoint less the overlap (or ``since``, or the
    initial look-back) to ``until`` or the platform's clock less the resource's lag."""
    end = until or platform_now - spec.lag
    if spec.window is None:
        return (since or EPOCH_SNAPSHOT, end)
    if since is not None:
        start = since
    elif checkpoint is not None:
        start = checkpoint - spec.overlap
    else:
        start = platform_now - spec.initial_lookback
    return start, end


def windows(spec: ResourceSpec, start: datetime, end: datetime) -> Iterator[Window]:
    """Consecutive windows of at most ``spec.window`` covering [start, end]. None if start >= end."""
    if start >= end:
        return
    if spec.window is None:
        yield Window(start=start, end=end)
        return
    step: timedelta = spec.window
    cursor = start
    while cursor < end:
        stop = min(cursor + step, end)
        yield Window(start=cursor, end=stop)
        cursor = stop
