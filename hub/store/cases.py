"""Reading cases: the work list (filters, counts, keyset paging) and one case with its context.

The CLI (``hub cases --json``), the JSON API and the agent page all read through here, so they
return the same objects. Every query takes the caller's shop scope: a case outside it is never in a
list, a count or a search, and reads as not found.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ..clock import utcnow
from ..domain import OPEN_STATUSES, Party
from ..errors import NotFoundError
from . import worklist_read
from .base import tbl
from .engine import reading
from .models import (
    NO_DEADLINE,
    ActionRecord,
    AfterSaleRecord,
    DisputeRecord,
    EventRecord,
    EvidenceRecord,
    OrderLinkRecord,
    OrderRecord,
    QuarantineRecord,
    RawRecordRow,
    ShopRecord,
)

C = tbl(AfterSaleRecord)
S = tbl(ShopRecord)
O = tbl(OrderRecord)  # noqa: E741


@dataclass(frozen=True, kw_only=True)
class CaseFilter:
    """Work-list filters. ``statuses=None`` means open cases; ``shop_ids=None`` means every shop."""

    platforms: Collection[str] = ()
    shops: Collection[str] = ()
    kinds: Collection[str] = ()
    statuses: Collection[str] | None = None
    #: the next action's party: merchant, buyer, platform, supplier ("seller" reads as merchant)
    awaiting: Collection[str] = ()
    due_within: timedelta | None = None
    dispute_only: bool = False
    search: str | None = None
    #: set by :func:`resolve_search`: "ids" when the term is an after-sales or order id (ids
    #: only), "any" when it is not (ids or buyer); None until resolved
    search_mode: str | None = None
    shop_ids: Collection[int] | None = None  #: the caller's scope (access control)
    now: datetime | None = None
    #: list orders whose merchant clock runs (ship, hold for a refund) as work items of their own
    orders: bool = False
    #: "my queue" of this user: cases assigned to them plus unassigned ones (within ``shop_ids``);
    #: orders have no assignee, so those in the list stay in it
    mine: str | None = None

    @property
    def parties(self) -> list[str]:
        """The party filter with the ``seller`` alias read as ``merchant``."""
        return sorted({Party.parse(p).value for p in self.awaiting})

    @property
    def wants_orders(self) -> bool:
        """Orders are listed only when asked for and no case-only condition excludes them."""
        return self.orders and not (self.kinds or self.statuses is not None or self.dispute_only)


def filter_where(stmt: Select[Any], f: CaseFilter) -> Select[Any]:
    """Apply a filter and the caller's scope to a statement over ``after_sales`` (joined with
    ``shops`` when the filter names platforms or shop names): the one definition of both."""
    if f.shop_ids is not None:
        stmt = stmt.where(C.c.shop_id.in_(list(f.shop_ids) or [-1]))
    statuses = set(f.statuses) if f.statuses is not None else None
    if statuses is None or statuses == set(OPEN_STATUSES):
        # "= true", not "IS true": PostgreSQL can walk the worklist index only for the former
        stmt = stmt.where(C.c.is_open == True)  # noqa: E712
    else:
        stmt = stmt.where(C.c.status.in_(sorted(statuses)))
    if f.platforms:
        stmt = stmt.where(S.c.platform.in_(list(f.platforms)))
    if f.shops:
        stmt = stmt.where(S.c.name.in_(list(f.shops)))
    if f.kinds:
        stmt = stmt.where(C.c.kind.in_(list(f.kinds)))
    if f.awaiting:
        stmt = stmt.where(C.c.deadline_party.in_(f.parties))
    if f.due_within is not None:
        assert f.now is not None, "due_within needs now"
        stmt = stmt.where(C.c.deadline_due_at <= f.now + f.due_within)
    if f.dispute_only:
        stmt = stmt.where(C.c.dispute_kind.is_not(None))
    if f.mine is not None:
        stmt = stmt.where(or_(C.c.assignee == f.mine, C.c.assignee.is_(None)))
    if f.search:
        term = f.search.strip()
        # Ids match exactly (indexed). A buyer's nick matches anywhere in it (agents remember
        # part of a nick), which reads every row of the scope, so resolve_search() drops it when
        # the term is an id.
        ids = or_(C.c.external_id == term, C.c.order_external_id == term)
        stmt = stmt.where(
            ids if f.search_mode == "ids" else or_(ids, C.c.buyer.contains(term, autoescape=True))
        )
    return stmt


def _base() -> Select[Any]:
    return select(C, S.c.name.label("shop_name"), S.c.platform.label("platform")).join(
        S, S.c.id == C.c.shop_id
    )


def next_action_json(row: Any) -> dict[str, Any] | None:
    """The stored next action of a case or order row, as every surface returns it (English values;
    ``consequence_zh`` and ``no_clock_reason_zh`` for Chinese pages). None on a closed case."""
    if row.deadline_party is None:
        return None
    own = row.own_action or {}
    return {
        "party": row.deadline_party,
        "action": row.deadline_action,
        "due_at": row.deadline_due_at.isoformat() if row.deadline_due_at else None,
        "no_clock_reason": row.deadline_no_clock_reason,
        "on_expiry": row.deadline_on_expiry,
        "consequence": row.deadline_consequence_en,
        "source": row.deadline_source,
        "rule_id": row.deadline_rule_id,
        "rule_source": row.deadline_rule_source,
        "summary": row.deadline_summary,
        "penalty_fen": row.deadline_penalty_fen,
        "via": row.deadline_via,
        "consequence_zh": row.deadline_consequence_zh,
        "no_clock_reason_zh": own.get("no_clock_reason_zh") if not row.deadline_via else None,
    }


def _deadline_json(action: dict[str, Any] | None) -> dict[str, Any] | None:
    """The older ``deadline`` object: the next action when it has a clock (kept for API v1 clients)."""
    if action is None or action["due_at"] is None:
        return None
    return {
        k: action[k]
        for k in (
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
    }


#: after_sales columns no work-list row shows: a page does not read them, so does not convert
#: them (a page converts every datetime and JSON value it selects)
_UNLISTED = frozenset({"content_hash", "version", "line_external_id", "return_waybill"})


def _list_base() -> Select[Any]:
    return select(
        *(c for c in C.c if c.name not in _UNLISTED),
        S.c.name.label("shop_name"),
        S.c.platform.label("platform"),
    ).join(S, S.c.id == C.c.shop_id)


def case_json(row: Any) -> dict[str, Any]:
    """The one JSON shape of a case (``hub cases --json`` and ``GET /api/cases`` alike)."""
    action = next_action_json(row)
    data = row.data or {}
    dispute = data.get("dispute")
    return {
        "item": "case",
        "id": row.id,
        "platform": row.platform,
        "shop": row.shop_name,
        "external_id": row.external_id,
        "order_external_id": row.order_external_id,
        "kind": row.kind,
        "status": row.status,
        "awaiting": action["party"] if action else "none",
        "platform_status": row.platform_status,
        "refund_fen": row.refund_fen,
        "reason": row.reason,
        "buyer": row.buyer,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.platform_updated_at.isoformat(),
        "status_since": row.status_since.isoformat() if row.status_since else None,
        "next_action": action,
        "deadline": _deadline_json(action),
        "dispute": (
            {
                "kind": row.dispute_kind,
                "status": row.dispute_status,
                "appeal_open": bool(dispute and dispute.get("appeal_open")),
            }
            if row.dispute_kind
            else None
        ),
        "assignee": row.assignee,
        "warnings": data.get("warnings") or [],
    }


def order_item_json(row: Any) -> dict[str, Any]:
    """An order as a work-list item (its merchant clock runs): the case fields that apply."""
    action = next_action_json(row)
    return {
        "item": "order",
        "id": row.id,
        "platform": row.platform,
        "shop": row.shop_name,
        "external_id": row.external_id,
        "order_external_id": row.external_id,
        "kind": None,
        "role": row.role,
        "status": row.status,
        "awaiting": action["party"] if action else "none",
        "platform_status": row.platform_status,
        "refund_fen": 0,
        "paid_fen": row.paid_fen,
        "reason": None,
        "buyer": row.buyer,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.platform_updated_at.isoformat(),
        "status_since": row.status_since.isoformat() if row.status_since else None,
        "next_action": action,
        "deadline": _deadline_json(action),
        "dispute": None,
        "assignee": None,
        "warnings": (row.data or {}).get("warnings") or [],
    }


def order_filter_where(stmt: Select[Any], f: CaseFilter) -> Select[Any]:
    """The work-list filter over ``orders`` (joined with ``shops`` when it names platforms or shops):
    orders in the work list (``in_work``) within the scope, party, due time and search."""
    stmt = stmt.where(O.c.in_work.is_(True))
    if f.shop_ids is not None:
        stmt = stmt.where(O.c.shop_id.in_(list(f.shop_ids) or [-1]))
    if f.platforms:
        stmt = stmt.where(S.c.platform.in_(list(f.platforms)))
    if f.shops:
        stmt = stmt.where(S.c.name.in_(list(f.shops)))
    if f.awaiting:
        stmt = stmt.where(O.c.deadline_party.in_(f.parties))
    if f.due_within is not None:
        assert f.now is not None, "due_within needs now"
        stmt = stmt.where(O.c.deadline_due_at <= f.now + f.due_within)
    if f.search:
        term = f.search.strip()
        ids = O.c.external_id == term
        buyer = O.c.buyer.contains(term, autoescape=True)
        stmt = stmt.where(ids if f.search_mode == "ids" else or_(ids, buyer))
    return stmt


def _order_base() -> Select[Any]:
    return select(O, S.c.name.label("shop_name"), S.c.platform.label("platform")).join(
        S, S.c.id == O.c.shop_id
    )


#: the work list's order: due time, then cases before orders, then id
_ITEM_RANK = {"case": 0, "order": 1}


def encode_cursor(row: Any, item: str = "case") -> str:
    return _cursor(row.work_due_at, row.id, _ITEM_RANK[item])


def _cursor(due: datetime, ident: int, rank: int) -> str:
    raw = json.dumps([due.isoformat(), ident, rank])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int, int]:
    """(due, id, item rank) of a page cursor; a cursor without a rank is a case's."""
    try:
        parts = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        due, ident = parts[0], parts[1]
        rank = int(parts[2]) if len(parts) > 2 else 0
        return datetime.fromisoformat(due), int(ident), rank
    except (ValueError, TypeError, IndexError, KeyError) as err:
        raise ValueError(f"bad page cursor {cursor!r}") from err


@dataclass
class CasePage:
    items: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None = None
    counts: dict[str, dict[str, int]] = field(default_factory=dict)


async def list_cases(
    engine: AsyncEngine,
    f: CaseFilter,
    *,
    limit: int = 50,
    cursor: str | None = None,
    with_total: bool = False,
) -> CasePage:
    """One page of the work list, soonest deadline first (items with none last), keyset-paged.

    Cases, and with ``f.orders`` the orders whose merchant clock runs: each a keyset range read of
    its own work-list index, merged on (due, cases first, id)."""
    f = await resolve_search(engine, f)
    due = ident = rank = None
    if cursor:
        due, ident, rank = decode_cursor(cursor)
    if worklist_read.supported(f):
        return await _list_driver(engine, f, limit, due, ident, rank, with_total)
    stmt = filter_where(_list_base(), f).order_by(C.c.work_due_at, C.c.id).limit(limit + 1)
    if due is not None and rank == 0:
        stmt = stmt.where(or_(C.c.work_due_at > due, and_(C.c.work_due_at == due, C.c.id > ident)))
    elif due is not None:  # the cursor is an order: every case at its due time came before it
        stmt = stmt.where(C.c.work_due_at > due)
    merged: list[tuple[Any, str]] = []
    async with reading(engine) as conn:
        merged.extend((r, "case") for r in (await conn.execute(stmt)).all())
        if f.wants_orders:
            ostmt = order_filter_where(_order_base(), f).order_by(O.c.work_due_at, O.c.id).limit(limit + 1)
            if due is not None and rank == 1:
                ostmt = ostmt.where(or_(O.c.work_due_at > due, and_(O.c.work_due_at == due, O.c.id > ident)))
            elif due is not None:  # the cursor is a case: orders at its due time come after it
                ostmt = ostmt.where(O.c.work_due_at >= due)
            merged.extend((r, "order") for r in (await conn.execute(ostmt)).all())
    merged.sort(key=lambda t: (t[0].work_due_at, _ITEM_RANK[t[1]], t[0].id))
    total = await count_cases(engine, f) if with_total else None
    more = len(merged) > limit
    merged = merged[:limit]
    return CasePage(
        items=[_item_json(r, item) for r, item in merged],
        next_cursor=encode_cursor(merged[-1][0], merged[-1][1]) if more and merged else None,
        total=total,
    )


async def _list_driver(
    engine: AsyncEngine,
    f: CaseFilter,
    limit: int,
    due: datetime | None,
    ident: int | None,
    rank: int | None,
    with_total: bool,
) -> CasePage:
    """list_cases through hub.store.worklist_read: the same page, the same merge and cursors."""
    after = (due, ident) if due is not None and ident is not None else None
    async with reading(engine) as conn:
        items = await worklist_read.read_page(
            conn,
            f,
            orders=False,
            limit=limit + 1,
            after=after if rank == 0 else None,
            strictly_after=due if rank == 1 else None,  # every case at an order's due came before it
        )
        merged = [(d, 0, i, item) for d, i, item in items]
        if f.wants_orders:
            orders = await worklist_read.read_page(
                conn,
                f,
                orders=True,
                limit=limit + 1,
                after=after if rank == 1 else None,
                from_due=due if rank == 0 else None,  # orders at a case's due time come after it
            )
            merged.extend((d, 1, i, item) for d, i, item in orders)
            merged.sort(key=lambda t: t[:3])
    total = await count_cases(engine, f) if with_total else None
    more = len(merged) > limit
    merged = merged[:limit]
    last = merged[-1] if merged else None
    return CasePage(
        items=[t[3] for t in merged],
        next_cursor=_cursor(last[0], last[2], last[1]) if more and last else None,
        total=total,
    )


def _item_json(row: Any, item: str) -> dict[str, Any]:
    return case_json(row) if item == "case" else order_item_json(row)


async def all_cases(engine: AsyncEngine, f: CaseFilter) -> list[dict[str, Any]]:
    """Every item of the work list, in its order (the CLI's ``hub cases``)."""
    f = await resolve_search(engine, f)
    stmt = filter_where(_base(), f).order_by(C.c.work_due_at, C.c.id)
    async with engine.connect() as conn:
        merged = [(r, "case") for r in (await conn.execute(stmt)).all()]
        if f.wants_orders:
            ostmt = order_filter_where(_order_base(), f).order_by(O.c.work_due_at, O.c.id)
            merged.extend((r, "order") for r in (await conn.execute(ostmt)).all())
    merged.sort(key=lambda t: (t[0].work_due_at, _ITEM_RANK[t[1]], t[0].id))
    return [_item_json(r, item) for r, item in merged]


async def resolve_search(engine: AsyncEngine, f: CaseFilter) -> CaseFilter:
    """When the search term is an after-sales or order id, search ids only: two index look-ups
    instead of a scan for buyers' nicks (a quarter of a second at 200,000 cases)."""
    if not f.search or f.search_mode is not None:
        return f  # nothing to search, or probed already
    term = f.search.strip()
    probe = select(C.c.id).where(or_(C.c.external_id == term, C.c.order_external_id == term)).limit(1)
    async with engine.connect() as conn:
        hit = (await conn.execute(probe)).first()
    return dataclasses.replace(f, search_mode="ids" if hit else "any")


async def join_free(engine: AsyncEngine, f: CaseFilter) -> CaseFilter:
    """The same filter with its platform and shop-name conditions turned into shop ids (intersected
    with the caller's scope), so counts read the after-sales index alone instead of joining shops
    row by row: at 200,000 cases a total costs milliseconds instead of a quarter of a second."""
    f = await resolve_search(engine, f)
    if not f.platforms and not f.shops:
        return f
    stmt = select(S.c.id)
    if f.platforms:
        stmt = stmt.where(S.c.platform.in_(list(f.platforms)))
    if f.shops:
        stmt = stmt.where(S.c.name.in_(list(f.shops)))
    async with engine.connect() as conn:
        ids = set((await conn.execute(stmt)).scalars())
    if f.shop_ids is not None:
        ids &= set(f.shop_ids)
    return dataclasses.replace(f, platforms=(), shops=(), shop_ids=sorted(ids))


async def count_cases(engine: AsyncEngine, f: CaseFilter) -> int:
    """How many items the filter matches (cases, and orders when listed), within the caller's scope."""
    g = await join_free(engine, f)
    async with engine.connect() as conn:
        n = int((await conn.execute(filter_where(select(func.count()).select_from(C), g))).scalar_one())
        if g.wants_orders:
            ostmt = order_filter_where(select(func.count()).select_from(O), g)
            n += int((await conn.execute(ostmt)).scalar_one())
    return n


URGENCY_BUCKETS = ("breached", "lt_24h", "lt_72h", "later", "none")
FACETS = ("platform", "shop", "kind", "status", "awaiting", "item")


def _bucket(w: Any, now: datetime) -> Any:
    return case(
        (w == NO_DEADLINE, "none"),
        (w < now, "breached"),
        (w < now + timedelta(hours=24), "lt_24h"),
        (w < now + timedelta(hours=72), "lt_72h"),
        else_="later",
    )


async def list_summary(
    engine: AsyncEngine, f: CaseFilter
) -> tuple[int, dict[str, dict[str, int]], dict[str, int]]:
    """The filtered list's total, its counts per platform, shop, kind, status, awaiting (the next
    action's party) and item, and its items by urgency, in one grouped scan per table: every count
    is over exactly the rows the list shows (filters and scope included)."""
    g = await join_free(engine, f)
    now = f.now or utcnow()
    cols = (C.c.shop_id, C.c.kind, C.c.status, C.c.deadline_party)
    bucket = _bucket(C.c.work_due_at, now).label("bucket")
    stmt = filter_where(select(*cols, bucket, func.count()).select_from(C), g).group_by(*cols, bucket)
    grouped: list[tuple[Any, ...]] = []
    async with engine.connect() as conn:
        grouped.extend((*r[:5], "case", r[5]) for r in (await conn.execute(stmt)).all())
        if g.wants_orders:
            ocols = (O.c.shop_id, O.c.deadline_party)
            obucket = _bucket(O.c.work_due_at, now).label("bucket")
            ostmt = order_filter_where(select(*ocols, obucket, func.count()).select_from(O), g)
            for shop_id, party, b, n in (await conn.execute(ostmt.group_by(*ocols, obucket))).all():
                grouped.append((shop_id, "order", None, party, b, "order", n))
        shops = {
            r.id: (r.name, r.platform) for r in await conn.execute(select(S.c.id, S.c.name, S.c.platform))
        }
    facets: dict[str, dict[str, int]] = {k: {} for k in FACETS}
    urgency = dict.fromkeys(URGENCY_BUCKETS, 0)
    total = 0
    for shop_id, kind, status, party, b, item, n in grouped:
        name, platform = shops.get(shop_id, (str(shop_id), "unknown"))
        for facet, value in (
            ("platform", platform),
            ("shop", name),
            ("kind", kind),
            ("status", status),
            ("awaiting", party or "none"),
            ("item", item),
        ):
            if value is not None:
                facets[facet][value] = facets[facet].get(value, 0) + int(n)
        urgency[str(b)] += int(n)
        total += int(n)
    return total, facets, urgency


async def facet_summary(engine: AsyncEngine, f: CaseFilter) -> tuple[int, dict[str, dict[str, int]]]:
    """The total and the counts per platform, shop, kind, status, awaiting and item of the
    filtered list (within the caller's scope)."""
    total, facets, _ = await list_summary(engine, f)
    return total, facets


async def facet_counts(engine: AsyncEngine, f: CaseFilter) -> dict[str, dict[str, int]]:
    """Counts per platform, shop, kind, status, awaiting and item, within the filter (and the scope)."""
    return (await facet_summary(engine, f))[1]


async def urgency_counts(
    engine: AsyncEngine, now: datetime, shop_ids: Collection[int] | None = None
) -> dict[str, int]:
    """Open cases by urgency: breached, due within 24 h, within 72 h, later, none (all shops or
    the given ones; the metrics endpoint's figures). The work list's cards use :func:`list_summary`,
    which honours its filters.

    Unscoped, five range counts on the work-list index (each reads only its slice); scoped to
    some shops, one grouped scan of those shops' open cases."""
    bounds: tuple[tuple[str, datetime | None, datetime | None], ...] = (
        ("breached", None, now),
        ("lt_24h", now, now + timedelta(hours=24)),
        ("lt_72h", now + timedelta(hours=24), now + timedelta(hours=72)),
        ("later", now + timedelta(hours=72), NO_DEADLINE),
        ("none", NO_DEADLINE, None),
    )
    out: dict[str, int] = {}
    async with engine.connect() as conn:
        if shop_ids is None:
            for name, lo, hi in bounds:
                stmt = select(func.count()).select_from(C).where(C.c.is_open.is_(True))
                if lo is not None:
                    stmt = stmt.where(C.c.work_due_at >= lo)
                if hi is not None:
                    stmt = stmt.where(C.c.work_due_at < hi)
                out[name] = int((await conn.execute(stmt)).scalar_one())
            return out
        bucket = _bucket(C.c.work_due_at, now)
        grouped = (
            select(bucket, func.count())
            .where(C.c.is_open.is_(True), C.c.shop_id.in_(list(shop_ids) or [-1]))
            .group_by(bucket)
        )
        counted = {str(name): int(n) for name, n in (await conn.execute(grouped)).all()}
    return {name: counted.get(name, 0) for name, _, _ in bounds}


async def get_case_row(engine: AsyncEngine, case_id: int, shop_ids: Collection[int] | None = None) -> Any:
    stmt = _base().where(C.c.id == case_id)
    if shop_ids is not None:
        stmt = stmt.where(C.c.shop_id.in_(list(shop_ids) or [-1]))
    async with engine.connect() as conn:
        row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFoundError(f"no case {case_id}")
    return row


def _order_json(row: Any, shop_name: str, platform: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "shop": shop_name,
        "platform": platform,
        "external_id": row.external_id,
        "role": row.role,
        "status": row.status,
        "platform_status": row.platform_status,
        "paid_fen": row.paid_fen,
        "total_fen": row.total_fen,
        "buyer": row.buyer,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.platform_updated_at.isoformat(),
        "paid_at": row.paid_at and row.paid_at.isoformat(),
        "shipped_at": row.shipped_at and row.shipped_at.isoformat(),
        "signed_at": row.signed_at and row.signed_at.isoformat(),
        "waybill": row.waybill,
        "remark": row.remark,
        "lines": (row.data or {}).get("lines", []),
        "next_action": next_action_json(row),
        "deadline": _deadline_json(next_action_json(row)),
    }


async def order_for_case(conn: Any, row: Any) -> Any:
    return (
        await conn.execute(
            select(O).where(O.c.shop_id == row.shop_id, O.c.external_id == row.order_external_id)
        )
    ).first()


async def linked_orders(conn: Any, order_id: int) -> list[tuple[Any, str, str, str]]:
    """Orders linked to ``order_id`` either way: (order row, shop name, platform, link method)."""
    L = tbl(OrderLinkRecord)
    out: list[tuple[Any, str, str, str]] = []
    for mine, other in (
        (L.c.sale_order_id, L.c.purchase_order_id),
        (L.c.purchase_order_id, L.c.sale_order_id),
    ):
        stmt = (
            select(O, S.c.name.label("shop_name"), S.c.platform.label("platform"), L.c.method)
            .join(L, other == O.c.id)
            .join(S, S.c.id == O.c.shop_id)
            .where(mine == order_id)
        )
        out.extend((r, r.shop_name, r.platform, r.method) for r in (await conn.execute(stmt)).all())
    return out


async def case_detail(
    engine: AsyncEngine, case_id: int, shop_ids: Collection[int] | None = None
) -> dict[str, Any]:
    """Everything about one case: the case, its timeline, order, linked orders and their cases,
    raw record, hub-tracked disputes, evidence, actions."""
    row = await get_case_row(engine, case_id, shop_ids)
    out = case_json(row)
    E, R = tbl(EventRecord), tbl(RawRecordRow)
    A, D, V = tbl(ActionRecord), tbl(DisputeRecord), tbl(EvidenceRecord)
    data = row.data or {}
    out.update(
        description=data.get("description"),
        facts=data.get("facts") or {},
        platform_dispute=data.get("dispute"),
        platform_deadline=data.get("platform_deadline"),
        return_waybill=row.return_waybill,
        paid_fen=data.get("paid_fen"),
        own_action=row.own_action,  # the case's own next action, before the chain
    )
    async with engine.connect() as conn:
        events = (
            await conn.execute(
                select(E)
                .where(
                    E.c.shop_id == row.shop_id,
                    E.c.subject == "after_sale",
                    E.c.external_id == row.external_id,
                )
                .order_by(E.c.at, E.c.id)
            )
        ).all()
        out["timeline"] = [
            {"at": e.at.isoformat(), "kind": e.kind, "actor": e.actor, "summary": e.summary, "data": e.data}
            for e in events
        ]
        raws = (
            await conn.execute(
                select(R).where(R.c.shop_id == row.shop_id, R.c.external_id == row.external_id)
            )
        ).all()
        out["raw"] = [
            {
                "resource": r.resource,
                "payload": r.payload,
                "received_at": r.received_at.isoformat(),
                "platform_updated_at": r.platform_updated_at and r.platform_updated_at.isoformat(),
            }
            for r in raws
        ]
        order = await order_for_case(conn, row)
        out["order"] = _order_json(order, row.shop_name, row.platform) if order is not None else None
        out["linked"] = []
        if order is not None:
            for lrow, lshop, lplatform, method in await linked_orders(conn, order.id):
                if shop_ids is not None and lrow.shop_id not in shop_ids:
                    continue  # a linked order of a shop the caller does not serve stays unseen
                item = _order_json(lrow, lshop, lplatform)
                item["link_method"] = method
                lcases = (
                    await conn.execute(
                        _base().where(C.c.shop_id == lrow.shop_id, C.c.order_external_id == lrow.external_id)
                    )
                ).all()
                item["cases"] = [case_json(c) for c in lcases]
                out["linked"].append(item)
        out["disputes"] = [
            {
                "id": d.id,
                "kind": d.kind,
                "status": d.status,
                "subtype": d.subtype,
                "note": d.note,
                "opened_at": d.opened_at.isoformat(),
                "updated_at": d.updated_at.isoformat(),
                "opened_by": d.opened_by,
            }
            for d in (await conn.execute(select(D).where(D.c.after_sale_id == row.id).order_by(D.c.id))).all()
        ]
        out["evidence"] = [
            {
                "id": v.id,
                "kind": v.kind,
                "name": v.name,
                "description": v.description,
                "content_type": v.content_type,
                "size": v.size,
                "sha256": v.sha256,
                "url": v.url,
                "added_at": v.added_at.isoformat(),
                "added_by": v.added_by,
            }
            for v in (await conn.execute(select(V).where(V.c.after_sale_id == row.id).order_by(V.c.id))).all()
        ]
        out["actions"] = [
            {
                "id": a.id,
                "action": a.action,
                "status": a.status,
                "message": a.message,
                "params": a.params,
                "actor": a.actor,
                "idempotency_key": a.idempotency_key,
                "created_at": a.created_at.isoformat(),
                "updated_at": a.updated_at.isoformat(),
            }
            for a in (await conn.execute(select(A).where(A.c.after_sale_id == row.id).order_by(A.c.id))).all()
        ]
    return out


async def quarantined(
    engine: AsyncEngine, shop_ids: Sequence[int] | None = None, include_resolved: bool = False
) -> list[dict[str, Any]]:
    Q = tbl(QuarantineRecord)
    stmt = (
        select(Q, S.c.name.label("shop_name"))
        .join(S, S.c.id == Q.c.shop_id)
        .order_by(Q.c.last_seen_at.desc())
    )
    if not include_resolved:
        stmt = stmt.where(Q.c.resolved_at.is_(None))
    if shop_ids is not None:
        stmt = stmt.where(Q.c.shop_id.in_(list(shop_ids) or [-1]))
    async with engine.connect() as conn:
        return [
            {
                "id": q.id,
                "shop": q.shop_name,
                "resource": q.resource,
                "external_id": q.external_id,
                "error": q.error,
                "payload": q.payload,
                "first_seen_at": q.first_seen_at.isoformat(),
                "last_seen_at": q.last_seen_at.isoformat(),
                "resolved_at": q.resolved_at and q.resolved_at.isoformat(),
            }
            for q in (await conn.execute(stmt)).all()
        ]
