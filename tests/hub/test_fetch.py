"""Concurrent window fetching hands windows over in order; a failure stops at its window."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from hub.domain import RawRecord
from hub.platform import Window
from hub.sync import fetch
from hub.sync.fetch import Group, in_order

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _windows(n: int) -> list[Window]:
    return [
        Window(start=T0 + timedelta(minutes=30 * i), end=T0 + timedelta(minutes=30 * (i + 1)))
        for i in range(n)
    ]


async def test_windows_come_in_order_with_a_bounded_number_in_flight() -> None:
    running = 0
    peak = 0

    async def get(w: Window) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        index = int((w.start - T0) / timedelta(minutes=30))
        await asyncio.sleep(0.001 * ((7 * index) % 5))  # later windows often finish first
        running -= 1
        return index

    got = [(w, i) async for w, i in in_order(_windows(40), get, in_flight=6)]
    assert [i for _, i in got] == list(range(40))
    assert [w for w, _ in got] == _windows(40)
    assert 1 < peak <= 6


async def test_a_failed_window_is_raised_at_its_turn_and_the_rest_is_cancelled() -> None:
    finished: list[int] = []

    async def get(w: Window) -> int:
        index = int((w.start - T0) / timedelta(minutes=30))
        if index == 3:
            raise RuntimeError("window 3 failed")
        await asyncio.sleep(0 if index < 3 else 3600)
        finished.append(index)
        return index

    seen: list[int] = []
    with pytest.raises(RuntimeError, match="window 3 failed"):
        async for _, index in in_order(_windows(20), get, in_flight=4):
            seen.append(index)
    assert seen == [0, 1, 2]
    assert finished == [0, 1, 2]  # the windows after it were cancelled, not waited for


async def test_one_in_flight_is_sequential() -> None:
    order: list[str] = []

    async def get(w: Window) -> None:
        order.append(f"start {w.start.minute}")
        await asyncio.sleep(0)
        order.append(f"end {w.start.minute}")

    _ = [x async for x in in_order(_windows(2), get, in_flight=1)]
    assert order == ["start 0", "end 0", "start 30", "end 30"]


def test_a_group_is_full_by_records_or_by_windows() -> None:
    rec = RawRecord(resource="r", external_id="1", payload={}, updated_at=T0)
    group = Group()
    for w in _windows(3):
        group.add(w, [rec] * 3, ["p"])
    assert not group.full and group.span == Window(start=T0, end=T0 + timedelta(minutes=90))
    group.add(_windows(4)[3], [rec] * (fetch.GROUP_RECORDS - 9), [])
    assert group.full and len(group.problems) == 3
    empty = Group()
    for w in _windows(fetch.GROUP_WINDOWS):
        assert not empty.full
        empty.add(w, [], [])
    assert empty.full
