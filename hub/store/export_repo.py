"""Reading the whole filtered work list for an export, in the list's order, without holding it.

A keyset page re-sorts whatever the work-list index cannot order for it: for open cases (the
index's own range) that is nothing, but an export of every status re-sorted the whole table for
each page of 1,000 (a second per page at 200,000 cases). Here each table is read by **one**
ordered query through a server-side cursor (``stream_results``: PostgreSQL keeps the rows on the
server, SQLite steps through its result), fetched in batches, and the cases and the orders are
merged on the list's key (due time, cases before orders, id) as they arrive.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from .cases import (
    _ITEM_RANK,
    C,
    CaseFilter,
    O,
    _item_json,
    _list_base,
    _order_base,
    filter_where,
    order_filter_where,
    resolve_search,
)


async def _rows(engine: AsyncEngine, stack: AsyncExitStack, stmt: Any, batch: int) -> AsyncIterator[Any]:
    conn = await stack.enter_async_context(engine.connect())
    if conn.dialect.name == "postgresql":
        # a server-side cursor lives in a transaction; a read-only one takes no locks
        await stack.enter_async_context(conn.begin())
    result = await conn.stream(stmt.execution_options(yield_per=batch))
    async for part in result.partitions(batch):
        for row in part:
            yield row


async def stream_items(
    engine: AsyncEngine, f: CaseFilter, *, batch: int = 1000
) -> AsyncIterator[list[dict[str, Any]]]:
    """The filtered work list's items (the ``hub cases --json`` objects), ``batch`` at a time, in
    the list's order; at most about ``batch`` rows of each table are held at once."""
    f = await resolve_search(engine, f)
    async with AsyncExitStack() as stack:
        cases = _rows(engine, stack, filter_where(_list_base(), f).order_by(C.c.work_due_at, C.c.id), batch)
        orders = None
        if f.wants_orders:
            ostmt = order_filter_where(_order_base(), f).order_by(O.c.work_due_at, O.c.id)
            orders = _rows(engine, stack, ostmt, batch)
        out: list[dict[str, Any]] = []
        async for row, item in _merge(cases, orders):
            out.append(_item_json(row, item))
            if len(out) >= batch:
                yield out
                out = []
        if out:
            yield out


async def _merge(
    cases: AsyncIterator[Any], orders: AsyncIterator[Any] | None
) -> AsyncIterator[tuple[Any, str]]:
    """Two ordered streams as one, on (due, cases first, id): the order of :func:`list_cases`."""

    def key(row: Any, item: str) -> tuple[Any, int, int]:
        return (row.work_due_at, _ITEM_RANK[item], row.id)

    case_row = await anext(cases, None)
    order_row = await anext(orders, None) if orders is not None else None
    while case_row is not None or order_row is not None:
        if order_row is None or (case_row is not None and key(case_row, "case") <= key(order_row, "order")):
            yield case_row, "case"
            case_row = await anext(cases, None)
        else:
            yield order_row, "order"
            assert orders is not None
            order_row = await anext(orders, None)
