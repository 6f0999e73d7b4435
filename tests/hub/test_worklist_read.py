"""The work list's driver-level read gives the Core path's pages, items and cursors, every filter.

``list_cases`` reads through ``hub.store.worklist_read`` (one driver statement, JSON from tuples)
for every filter but a search; here each filter's pages, walked to the end by cursor, with and
without the orders merged in, are compared with the Core path (``filter_where`` + ``case_json``)
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.store import worklist_read
from hub.store.base import tbl
from hub.store.bulk import insert_rows
from hub.store.cases import CaseFilter, list_cases
from hub.store.models import NO_DEADLINE, AfterSaleRecord, OrderRecord, ShopRecord

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.worklist import NOW, PLATFORMS, synthetic_cases

N_SHOPS = 20  # synthetic_cases spreads cases over 20 shops


async def _fill(engine: AsyncEngine) -> None:
    shops = [
        {
            "id": i + 1,
            "platform": PLATFORMS[i % 3],
            "name": f"shop-{i + 1:02d}",
            "settings": {},
            "needs_reauth": False,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for i in range(N_SHOPS)
    ]
    cases = list(synthetic_cases(240, seed=7))
    for i, c in enumerate(cases):  # some assigned, so "my queue" narrows the list
        c["assignee"] = ("alice", "bob", None)[i % 3]
    cases[3].update(
        is_open=True,
        status="platform_review",
        dispute_kind="intervention",
        dispute_status="open",
        data={"dispute": {"appeal_open": True}, "warnings": ["unknown status"]},
    )
    orders = []
    for i in range(30):
        due = cases[i]["work_due_at"] if i % 3 == 0 else NOW + timedelta(hours=i)  # ties with cases
        orders.append(
            {
                "shop_id": i % N_SHOPS + 1,
                "external_id": f"S{i:05d}",
                "role": "sale",
                "status": "paid",
                "platform_status": "WAIT_SELLER_SEND",
                "buyer": f"b{i}",
                "total_fen": 100 * i,
                "paid_fen": 90 * i,
                "created_at": NOW - timedelta(days=1),
                "platform_updated_at": NOW,
                "status_since": NOW - timedelta(hours=i) if i % 2 else None,
                "in_work": i % 5 != 4,
                "work_due_at": due if due is not None else NO_DEADLINE,
                "deadline_due_at": None if due == NO_DEADLINE else due,
                "deadline_party": "merchant",
                "deadline_action": "ship",
                "deadline_on_expiry": "penalty",
                "deadline_source": "rule",
                "deadline_rule_id": "t.ship",
                "deadline_rule_source": "s",
                "deadline_summary": "48 小时内发货",
                "deadline_penalty_fen": 500 if i % 2 else None,
                "deadline_no_clock_reason": None,
                "deadline_consequence_zh": "罚款",
                "deadline_consequence_en": "penalty",
                "deadline_via": None,
                "own_action": {"party": "merchant", "no_clock_reason_zh": "x"},
                "data": {"warnings": ["w"]} if i % 4 == 0 else {},
                "content_hash": "h",
            }
        )
    async with engine.begin() as conn:
        await insert_rows(conn, tbl(ShopRecord), shops)
        await insert_rows(conn, tbl(AfterSaleRecord), cases)
        await insert_rows(conn, tbl(OrderRecord), orders)


async def _walk(
    engine: AsyncEngine, f: CaseFilter, limit: int
) -> list[tuple[list[dict[str, Any]], str | None]]:
    pages, cursor = [], None
    while True:
        page = await list_cases(engine, f, limit=limit, cursor=cursor)
        pages.append((page.items, page.next_cursor))
        cursor = page.next_cursor
        if cursor is None or len(pages) > 100:
            return pages


FILTERS = [
    CaseFilter(now=NOW),
    CaseFilter(now=NOW, orders=True),
    CaseFilter(now=NOW, shop_ids=[1, 2, 3], orders=True),
    CaseFilter(now=NOW, shop_ids=[]),
    CaseFilter(now=NOW, platforms=["pinduoduo"], orders=True),
    CaseFilter(now=NOW, shops=["shop-04", "shop-05"]),
    CaseFilter(now=NOW, kinds=["return_refund"], awaiting=["seller"]),
    CaseFilter(now=NOW, statuses=["succeeded", "closed"]),
    CaseFilter(now=NOW, due_within=timedelta(hours=24), orders=True),
    CaseFilter(now=NOW, dispute_only=True),
    CaseFilter(now=NOW, mine="alice", orders=True),
    CaseFilter(now=NOW, mine="bob", shop_ids=[1, 2]),
]


async def test_driver_pages_equal_core_pages(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    await _fill(engine)
    for index, f in enumerate(FILTERS):
        assert worklist_read.supported(f)
        fast = await _walk(engine, f, limit=7)
        with monkeypatch.context() as patch:
            patch.setattr(worklist_read, "supported", lambda _f: False)
            core = await _walk(engine, f, limit=7)
        assert fast == core, f
        items = [item for page, _ in fast for item in page]
        assert len({(i["item"], i["id"]) for i in items}) == len(items)  # no item twice across pages
        if index == 0:
            assert len(items) > 100 and any(i["next_action"] and i["next_action"]["via"] for i in items)
            assert any(i["dispute"] and i["dispute"]["appeal_open"] for i in items)
        if f.orders:
            assert {"case", "order"} <= {i["item"] for i in items}


async def test_search_stays_on_the_core_path(engine: AsyncEngine) -> None:
    await _fill(engine)
    f = dataclasses.replace(FILTERS[0], search="R000000005")
    assert not worklist_read.supported(f)
    page = await list_cases(engine, f, limit=5)
    assert [i["external_id"] for i in page.items] in ([], ["R000000005"])


def test_the_driver_path_reads_every_filter_field() -> None:
    """A field added to CaseFilter must be read by the driver path too (or named as not narrowing):
    otherwise the work list would silently ignore it."""
    from hub.store.worklist_read import HANDLED_FIELDS

    fields = {f.name for f in dataclasses.fields(CaseFilter)}
    assert fields - HANDLED_FIELDS == set(), "hub/store/worklist_read.py does not read these filter fields"
