"""The work list's page read below SQLAlchemy's Core execution: one driver statement, tuples in.

A work-list page is the hub's hottest read (every agent's open list polls it). Through Core, the
statement is rebuilt and its cache key computed on every call, and every value of every row goes
through its type's result processor before ``case_json`` reads it; that fixed cost was more than
the query itself. Here the same SQL is written once per filter shape, run with
``Connection.exec_driver_sql`` on the connection :func:`hub.store.engine.reading` hands out, only
the columns a row shows are selected, and the JSON is built from the driver's tuples: times
converted once to what the Core path writes, JSON documents decoded with orjson.

It covers every filter of :func:`hub.store.cases.filter_where` but the search (which first probes
ids and may scan buyers' nicks: it stays on the Core path). ``tests/hub/test_worklist_read.py``
holds the pages of both paths equal on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain import OPEN_STATUSES
from .models import NO_DEADLINE

#: the after_sales columns a case item shows (case_json), then the sort key
CASE_COLS = (
    "id",
    "external_id",
    "order_external_id",
    "kind",
    "status",
    "platform_status",
    "refund_fen",
    "reason",
    "buyer",
    "created_at",
    "platform_updated_at",
    "status_since",
    "dispute_kind",
    "dispute_status",
    "data",
    "assignee",
)
ORDER_COLS = (
    "id",
    "external_id",
    "role",
    "status",
    "platform_status",
    "paid_fen",
    "buyer",
    "created_at",
    "platform_updated_at",
    "status_since",
    "data",
)
#: the next-action columns both read (next_action_json), and the sort key last
ACTION_COLS = (
    "deadline_party",
    "deadline_action",
    "deadline_due_at",
    "deadline_no_clock_reason",
    "deadline_on_expiry",
    "deadline_consequence_en",
    "deadline_source",
    "deadline_rule_id",
    "deadline_rule_source",
    "deadline_summary",
    "deadline_penalty_fen",
    "deadline_via",
    "deadline_consequence_zh",
    "own_action",
    "work_due_at",
)
#: the older ``deadline`` object's keys (cases._deadline_json)
_DEADLINE_KEYS = (
    "due_at",
    "party",
    "action",
    "on_expiry",
    "source",
    "rule_id",
    "rule_source",
    "summary",
    "penalty_fen",
)


def supported(f: Any) -> bool:
    """Whether the filter can be read here (everything but a search)."""
    return not f.search


class _Marks:
    """Placeholders in the driver's style (``?`` on SQLite, ``$n`` on asyncpg) and their values."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return "?" if self.sqlite else f"${len(self.values)}"

    def many(self, values: Sequence[Any]) -> str:
        return ", ".join(self(v) for v in values)

    def time(self, value: datetime) -> str:
        # what UTCDateTime binds: naive UTC text on SQLite (SQLAlchemy's DATETIME format)
        utc = value.astimezone(UTC)
        return self(utc.replace(tzinfo=None).isoformat(" ", "microseconds") if self.sqlite else utc)

    @property
    def true(self) -> str:
        return "1" if self.sqlite else "true"


def _where(alias: str, f: Any, m: _Marks, *, orders: bool) -> list[str]:
    """The filter as SQL conditions: the same conditions as ``filter_where`` /
    ``order_filter_where`` (the tests hold the two paths' pages equal for each filter)."""
    out = [f"{alias}.in_work = {m.true}"] if orders else []
    if f.shop_ids is not None:
        out.append(f"{alias}.shop_id IN ({m.many(list(f.shop_ids) or [-1])})")
    if not orders:
        statuses = set(f.statuses) if f.statuses is not None else None
        if statuses is None or statuses == set(OPEN_STATUSES):
            out.append(f"{alias}.is_open = {m.true}")
        else:
            out.append(f"{alias}.status IN ({m.many(sorted(statuses))})")
    if f.platforms:
        out.append(f"s.platform IN ({m.many(list(f.platforms))})")
    if f.shops:
        out.append(f"s.name IN ({m.many(list(f.shops))})")
    if f.kinds and not orders:
        out.append(f"{alias}.kind IN ({m.many(list(f.kinds))})")
    if f.awaiting:
        out.append(f"{alias}.deadline_party IN ({m.many(f.parties)})")
    if f.due_within is not None:
        assert f.now is not None, "due_within needs now"
        out.append(f"{alias}.deadline_due_at <= {m.time(f.now + f.due_within)}")
    if f.dispute_only and not orders:
        out.append(f"{alias}.dispute_kind IS NOT NULL")
    if f.mine is not None and not orders:  # orders have no assignee: those in the list stay
        out.append(f"({alias}.assignee = {m(f.mine)} OR {alias}.assignee IS NULL)")
    return out


#: every CaseFilter field this path reads (or that does not narrow rows): a test fails when the
#: filter gains a field that is not here, so the two read paths cannot drift apart silently
HANDLED_FIELDS = frozenset(
    {
        "platforms", "shops", "kinds", "statuses", "awaiting", "due_within", "dispute_only",
        "search", "search_mode", "shop_ids", "now", "orders", "mine",
    }
)  # fmt: skip


async def read_page(
    conn: AsyncConnection,
    f: Any,
    *,
    orders: bool,
    limit: int,
    after: tuple[datetime, int] | None,
    strictly_after: datetime | None = None,
    from_due: datetime | None = None,
) -> list[tuple[datetime, int, dict[str, Any]]]:
    """Up to ``limit`` items (cases, or work-list orders with ``orders``) as (due, id, JSON), in
    work-list order: after the keyset ``after`` (due, id), or with a due time later than
    ``strictly_after``, or at least ``from_due``."""
    dialect = conn.dialect.name
    m = _Marks(dialect)
    alias = "o" if orders else "a"
    cols = (ORDER_COLS if orders else CASE_COLS) + ACTION_COLS
    where = _where(alias, f, m, orders=orders)
    if after is not None:
        due = m.time(after[0])
        due2 = due if not m.sqlite else m.time(after[0])
        where.append(
            f"({alias}.work_due_at > {due} OR ({alias}.work_due_at = {due2} AND {alias}.id > {m(after[1])}))"
        )
    if strictly_after is not None:
        where.append(f"{alias}.work_due_at > {m.time(strictly_after)}")
    if from_due is not None:
        where.append(f"{alias}.work_due_at >= {m.time(from_due)}")
    table = "orders" if orders else "after_sales"
    # The limit is a bound parameter, as on the Core path: with a literal LIMIT, SQLite plans a
    # scoped page (shop_id IN ...) through the shop index and sorts every open case of the
    # shops (150 ms at 200,000 cases) instead of walking the work-list index (0.4 ms).
    sql = (
        f"SELECT {', '.join(f'{alias}.{c}' for c in cols)}, s.name, s.platform "
        f"FROM {table} {alias} JOIN shops s ON s.id = {alias}.shop_id "
        f"WHERE {' AND '.join(where)} ORDER BY {alias}.work_due_at, {alias}.id LIMIT {m(int(limit))}"
    )
    result = await conn.exec_driver_sql(sql, tuple(m.values))
    when = _sqlite_time if dialect == "sqlite" else _pg_time
    build = _order_json if orders else _case_json
    work_at = len(cols) - 1  # work_due_at, the sort key
    out: list[tuple[datetime, int, dict[str, Any]]] = []
    for row in result.fetchall():
        item = build(row, when)
        out.append((when(row[work_at]) or NO_DEADLINE, item["id"], item))  # never NULL
    return out


def _sqlite_time(value: Any) -> datetime | None:
    # SQLite stores naive UTC text; the Core path reads it back as an aware UTC datetime
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _pg_time(value: Any) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(value: Any, when: Callable[[Any], datetime | None]) -> str | None:
    moment = when(value)
    return moment.isoformat() if moment is not None else None


def _doc(value: Any) -> Any:
    """A JSON column as the driver gives it: text on SQLite, decoded already by SQLAlchemy's
    asyncpg codec on PostgreSQL."""
    if not isinstance(value, str | bytes):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:  # what orjson refuses (integers beyond 64 bits): json's way
        return json.loads(value)


def _action(row: Sequence[Any], at: int, when: Callable[[Any], datetime | None]) -> dict[str, Any] | None:
    """next_action_json from the ACTION_COLS starting at ``at``."""
    party = row[at]
    if party is None:
        return None
    via = _doc(row[at + 11])
    return {
        "party": party,
        "action": row[at + 1],
        "due_at": _iso(row[at + 2], when),
        "no_clock_reason": row[at + 3],
        "on_expiry": row[at + 4],
        "consequence": row[at + 5],
        "source": row[at + 6],
        "rule_id": row[at + 7],
        "rule_source": row[at + 8],
        "summary": row[at + 9],
        "penalty_fen": row[at + 10],
        "via": via,
        "consequence_zh": row[at + 12],
        "no_clock_reason_zh": (_doc(row[at + 13]) or {}).get("no_clock_reason_zh") if not via else None,
    }


def _deadline(action: dict[str, Any] | None) -> dict[str, Any] | None:
    if action is None or action["due_at"] is None:
        return None
    return {k: action[k] for k in _DEADLINE_KEYS}


_CASE_AT = len(CASE_COLS)
_ORDER_AT = len(ORDER_COLS)


def _case_json(r: Sequence[Any], when: Callable[[Any], datetime | None]) -> dict[str, Any]:
    """``hub.store.cases.case_json`` of a driver row of CASE_COLS + ACTION_COLS + shop, platform."""
    action = _action(r, _CASE_AT, when)
    data = _doc(r[14]) or {}
    dispute = data.get("dispute")
    return {
        "item": "case",
        "id": r[0],
        "platform": r[-1],
        "shop": r[-2],
        "external_id": r[1],
        "order_external_id": r[2],
        "kind": r[3],
        "status": r[4],
        "awaiting": action["party"] if action else "none",
        "platform_status": r[5],
        "refund_fen": r[6],
        "reason": r[7],
        "buyer": r[8],
        "created_at": _iso(r[9], when),
        "updated_at": _iso(r[10], when),
        "status_since": _iso(r[11], when),
        "next_action": action,
        "deadline": _deadline(action),
        "dispute": (
            {"kind": r[12], "status": r[13], "appeal_open": bool(dispute and dispute.get("appeal_open"))}
            if r[12]
            else None
        ),
        "assignee": r[15],
        "warnings": data.get("warnings") or [],
    }


def _order_json(r: Sequence[Any], when: Callable[[Any], datetime | None]) -> dict[str, Any]:
    """``hub.store.cases.order_item_json`` of a driver row of ORDER_COLS + ACTION_COLS + shop, platform."""
    action = _action(r, _ORDER_AT, when)
    return {
        "item": "order",
        "id": r[0],
        "platform": r[-1],
        "shop": r[-2],
        "external_id": r[1],
        "order_external_id": r[1],
        "kind": None,
        "role": r[2],
        "status": r[3],
        "awaiting": action["party"] if action else "none",
        "platform_status": r[4],
        "refund_fen": 0,
        "paid_fen": r[5],
        "reason": None,
        "buyer": r[6],
        "created_at": _iso(r[7], when),
        "updated_at": _iso(r[8], when),
        "status_since": _iso(r[9], when),
        "next_action": action,
        "deadline": _deadline(action),
        "dispute": None,
        "assignee": None,
        "warnings": (_doc(r[10]) or {}).get("warnings") or [],
    }
