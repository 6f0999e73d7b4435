"""Sync against the sandbox: windows, pages from the last back, every status, detail merge, faults."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.domain import AfterSale, AfterSaleKind, Order
from hub.errors import MappingError, PlatformRequestError
from hub.platform import PlatformAdapter, Window
from plugins.pinduoduo.adapter import PddAdapter
from plugins.pinduoduo.mapping import STATUS_CODES
from plugins.pinduoduo.sandbox import FakePddServer

from .conftest import build_adapter, sync_all


def test_adapter_satisfies_the_protocol(adapter: PddAdapter) -> None:
    assert isinstance(adapter, PlatformAdapter)
    specs = {s.name: s for s in adapter.resources()}
    assert set(specs) == {"order", "after_sale"}
    for s in specs.values():
        assert s.window == timedelta(minutes=30)  # PDD increment APIs: span <= 30 min
        assert s.lag >= timedelta(minutes=3)  # end at least 3 min behind PDD's clock


async def test_platform_now_is_pdds_clock(server: FakePddServer, adapter: PddAdapter) -> None:
    assert await adapter.platform_now() == server.clock.now()
    server.advance(timedelta(hours=5))
    assert await adapter.platform_now() == server.clock.now()


async def test_full_sync_reads_everything(server: FakePddServer, adapter: PddAdapter) -> None:
    cases = await sync_all(adapter, "after_sale")
    orders = await sync_all(adapter, "order")
    assert {"order": len(orders), "after_sale": len(cases)} == server.expected_counts()
    for raw in orders.values():
        assert isinstance(adapter.map_record(raw), Order)
    mapped = [adapter.map_record(r) for r in cases.values()]
    assert all(isinstance(m, AfterSale) and not m.warnings for m in mapped)
    # Every documented status code except 0 (无售后 is not a case) and every type is in the shop.
    assert {m.platform_status for m in mapped} == {str(c) for c in STATUS_CODES if c != 0}
    assert {m.kind for m in mapped if isinstance(m, AfterSale)} == set(AfterSaleKind) - {
        AfterSaleKind.COMPENSATION
    }


async def test_all_filter_and_each_filter_miss_no_status(
    server: FakePddServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """The 'all' value (after_sales_status=1, type=1) and iterating every code read the same cases.
    (The shop's cases are squeezed into the last two hours so the 27-calls-a-window mode stays fast.)"""
    now = server.clock.now()
    for i, c in enumerate(server.cases.values()):
        c.updated = now - timedelta(hours=2) + timedelta(minutes=i)
    each = build_adapter(server, session, tmp_path / "each", after_sales_status_filter="each")
    everything = build_adapter(server, session, tmp_path / "all")
    by_each = await sync_all(each, "after_sale", days=0.125)
    by_all = await sync_all(everything, "after_sale", days=0.125)
    assert set(by_each) == set(by_all) == {str(i) for i in server.cases}
    statuses = {
        int(str(c.params["after_sales_status"])) for c in server.calls_to("pdd.refund.list.increment.get")
    }
    assert statuses == {1} | set(STATUS_CODES)
    assert {str(c.params["after_sales_type"]) for c in server.calls_to("pdd.refund.list.increment.get")} == {
        "1"
    }


async def test_detail_is_merged_into_the_payload(server: FakePddServer, adapter: PddAdapter) -> None:
    c = next(c for c in server.cases.values() if c.status == 2)
    cases = await sync_all(adapter, "after_sale")
    raw = cases[str(c.id)]
    assert raw.payload["after_sales_type"] == 2 and raw.payload["detail"]["after_sales_type"] == 1
    assert raw.payload["refund_amount"] == f"{c.refund_fen // 100}.{c.refund_fen % 100:02d}"
    assert raw.payload["detail"]["refund_amount"] == c.refund_fen
    mapped = adapter.map_record(raw)
    assert isinstance(mapped, AfterSale) and mapped.refund_fen == c.refund_fen
    assert mapped.platform_deadline is not None and mapped.platform_deadline.due_at == c.expire
    assert raw.updated_at == c.updated


async def test_pages_are_read_from_the_last_back_and_a_moving_row_is_not_lost(
    server: FakePddServer, adapter: PddAdapter
) -> None:
    """250 cases in one window; while we page, one row of page 1 is modified and leaves the window.
    Reading last-first still reads every row that stayed; the moved one comes in the next window."""
    now = await adapter.platform_now()  # aligns our timestamps with PDD's clock
    start = now - timedelta(hours=2)
    template = next(iter(server.cases.values()))
    server.cases = {}
    for i in range(250):
        c = replace(template, id=900000 + i, updated=start + timedelta(seconds=i), created=start)
        server.cases[c.id] = c
    moved = server.cases[900005]
    original = server._refund_increment

    def one_moves_after_first_read(p: Any) -> dict[str, Any]:
        body = original(p)
        if str(p.get("page")) == "3":
            moved.updated = now  # modified now: out of this window
        return body

    server._apis = lambda: {  # type: ignore[method-assign]
        **FakePddServer._apis(server),
        "pdd.refund.list.increment.get": one_moves_after_first_read,
    }
    pages = [
        p
        async for p in adapter.fetch_window(
            "after_sale", Window(start=start, end=start + timedelta(minutes=30))
        )
    ]
    read = {r.external_id for p in pages for r in p.records}
    assert [str(c.params["page"]) for c in server.calls_to("pdd.refund.list.increment.get")] == [
        "1",
        "3",
        "2",
        "1",
    ]
    assert read >= {str(i) for i in server.cases if i != moved.id}
    later = [
        p
        async for p in adapter.fetch_window("after_sale", Window(start=now - timedelta(minutes=29), end=now))
    ]
    assert str(moved.id) in {r.external_id for p in later for r in p.records}


async def test_window_longer_than_30_minutes_is_refused(adapter: PddAdapter, server: FakePddServer) -> None:
    now = server.clock.now()
    with pytest.raises(ValueError, match="30 minutes"):
        async for _ in adapter.fetch_window("order", Window(start=now - timedelta(minutes=31), end=now)):
            pass


async def test_empty_window(adapter: PddAdapter, server: FakePddServer) -> None:
    far = server.clock.now() - timedelta(days=200)
    pages = [
        p
        async for p in adapter.fetch_window("after_sale", Window(start=far, end=far + timedelta(minutes=30)))
    ]
    assert [len(p.records) for p in pages] == [0]


async def test_malformed_record_is_quarantined_not_the_page(
    server: FakePddServer, adapter: PddAdapter
) -> None:
    server.inject("malformed_record", api="pdd.refund.list.increment.get")
    cases = await sync_all(adapter, "after_sale")
    bad = []
    for raw in cases.values():
        try:
            adapter.map_record(raw)
        except MappingError as err:
            bad.append((raw.external_id, err.field))
    assert len(bad) == 1 and bad[0][1] == "refund_amount"
    assert len(cases) == server.expected_counts()["after_sale"]


async def test_corrupt_one_is_unmappable(server: FakePddServer, adapter: PddAdapter) -> None:
    cid = server.corrupt_one()
    server.advance(timedelta(minutes=5))
    cases = await sync_all(adapter, "after_sale", days=1)
    with pytest.raises(MappingError):
        adapter.map_record(cases[cid])


async def test_modify_one_moves_a_case_on(server: FakePddServer, adapter: PddAdapter) -> None:
    cid = server.modify_one()
    server.advance(timedelta(minutes=5))
    cases = await sync_all(adapter, "after_sale", days=1)
    mapped = adapter.map_record(cases[cid])
    assert isinstance(mapped, AfterSale) and mapped.updated_at == server.clock.now() - timedelta(minutes=5)


async def test_fetch_one(server: FakePddServer, adapter: PddAdapter) -> None:
    o = next(iter(server.orders.values()))
    raw = await adapter.fetch_one("order", o.order_sn)
    assert raw is not None and raw.external_id == o.order_sn
    assert await adapter.fetch_one("order", "000000-0") is None
    c = next(iter(server.cases.values()))
    with pytest.raises(PlatformRequestError, match="order_sn is unknown"):
        await adapter.fetch_one("after_sale", str(c.id))
    await sync_all(adapter, "after_sale", days=12)
    one = await adapter.fetch_one("after_sale", str(c.id))
    assert one is not None and one.payload["detail"]["id"] == c.id


async def test_case_order_memo_survives_a_new_adapter(
    server: FakePddServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    first = build_adapter(server, session, tmp_path)
    await sync_all(first, "after_sale", days=12)
    await first.close()
    second = build_adapter(server, session, tmp_path)
    c = next(iter(server.cases.values()))
    assert await second.fetch_one("after_sale", str(c.id)) is not None
    await second.close()


def test_factory_needs_credentials(
    session: aiohttp.ClientSession, server: FakePddServer, tmp_path: Path
) -> None:
    from hub.errors import ConfigError

    with pytest.raises(ConfigError, match="access_token"):
        build_adapter(server, session, tmp_path, access_token="")
