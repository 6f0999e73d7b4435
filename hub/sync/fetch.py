"""Fetching a resource's windows concurrently, handing them over in order, in commit groups.

A backfill is many windows (30 days of Pinduoduo's 30-minute windows is 1,440), each at least one
API call a WAN round trip away. Fetched one after another, the sync waits out every round trip on
top of what the shop's rate limit allows; fetched a few at a time, the rate limiter alone paces the
calls. The windows are still *written* strictly in order: the checkpoint only ever moves to the end
of a window whose records are committed with it, so a process killed anywhere replays from the last
committed window, exactly as with sequential fetching.

Writing is grouped too: a window with few or no records does not get a transaction and a
checkpoint update of its own; consecutive windows are committed together once they hold
``GROUP_RECORDS`` records (or ``GROUP_WINDOWS`` windows, which bounds what a crash replays).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from ..domain import RawRecord
from ..platform import Window

T = TypeVar("T")

#: windows fetched ahead of the one being written (the rate limiter still paces the calls)
WINDOWS_IN_FLIGHT = 8
#: commit a group once it holds this many records: below it, a transaction and a checkpoint per
#: window would cost more statements than the records themselves
GROUP_RECORDS = 10
#: ... or spans this many windows: a crash replays at most this many (empty) windows
GROUP_WINDOWS = 96


async def in_order(
    items: Iterable[Window], fetch: Callable[[Window], Awaitable[T]], *, in_flight: int = WINDOWS_IN_FLIGHT
) -> AsyncIterator[tuple[Window, T]]:
    """``(window, await fetch(window))`` for each window, in the windows' order, with up to
    ``in_flight`` fetches running at once. The first failure is raised when its window's turn
    comes (the windows before it have been handed over); nothing after it is handed over, and the
    fetches still running are cancelled."""
    pending: deque[tuple[Window, asyncio.Task[T]]] = deque()
    source = iter(items)
    try:
        while True:
            while len(pending) < max(1, in_flight):
                window = next(source, None)
                if window is None:
                    break
                pending.append((window, asyncio.ensure_future(fetch(window))))
            if not pending:
                return
            window, task = pending.popleft()
            yield window, await task
    finally:
        for _, task in pending:
            task.cancel()
        # wait for the cancelled fetches to unwind (their results and errors are not wanted)
        await asyncio.gather(*(task for _, task in pending), return_exceptions=True)


@dataclass
class Group:
    """Consecutive fetched windows not written yet: their records, problems and span."""

    windows: list[Window] = field(default_factory=list)
    records: list[RawRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, window: Window, records: Iterable[RawRecord], problems: Iterable[str]) -> None:
        self.windows.append(window)
        self.records.extend(records)
        self.problems.extend(problems)

    @property
    def full(self) -> bool:
        return len(self.records) >= GROUP_RECORDS or len(self.windows) >= GROUP_WINDOWS

    @property
    def span(self) -> Window:
        """One window from the first one's start to the last one's end."""
        return Window(start=self.windows[0].start, end=self.windows[-1].end)
