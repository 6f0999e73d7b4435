"""Storing next actions, and the chain: a case ordered by the earliest merchant deadline of its links.

The upsert computes each subject's *own* next action from its platform's rule table
(:func:`hub.rules.next_action`) and stores it twice: in ``own_action`` (JSON, what the chain of
the linked subjects reads) and in the ``deadline_*`` columns (what every surface reads).
:func:`refresh_chain` then rewrites the ``deadline_*`` columns of the subjects whose chain changed:

* a case on an order linked to other orders (a sale and the upstream purchases that fulfil it, or
  the reverse) takes the earliest *merchant* deadline among its own next action, the linked
  orders' and the linked orders' open cases' own next actions; ``deadline_via`` names the link.
  A case whose own next action waits on someone else still shows a linked merchant deadline:
  that is what the merchant must do next.
* an unshipped order with an open after-sales case is never "ship": its next action is to hold
  the shipment and answer the request (by the request's own merchant deadline).
* an order is a work-list item (``in_work``) when its next action waits on the merchant with a
  clock, or asks to hold the shipment.

The core knows no platform by name here: links come from ``order_links``, parties from the rows.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..domain import DeadlineSource, NextAction, OnExpiry, Party, Via
from ..rules import RuleTable, next_action
from .base import tbl
from .models import NO_DEADLINE, AfterSaleRecord, OrderLinkRecord, OrderRecord, ShopRecord
from .serialize import after_sale_from_row, digest, order_from_row

CASES = tbl(AfterSaleRecord)
ORDERS = tbl(OrderRecord)
LINKS = tbl(OrderLinkRecord)
SHOPS = tbl(ShopRecord)

CHUNK = 500

#: the columns the chain reads: everything but the record's bulk (``data``) and its hash
_CASE_COLS = [c for c in CASES.c if c.name not in ("data", "content_hash")]
_ORDER_COLS = [c for c in ORDERS.c if c.name not in ("data", "content_hash")]

#: the action of an unshipped order that has an open after-sales request
HOLD_ACTION = "hold_and_answer_refund"
#: order statuses in which the goods have not left (shipping is still possible)
UNSHIPPED = frozenset({"paid", "refunding"})


def action_doc(a: NextAction | None) -> dict[str, Any] | None:
    """A next action as stored in ``own_action``: every field, Chinese and English."""
    if a is None:
        return None
    return {
        "party": a.party._value_,
        "action": a.action,
        "due_at": a.due_at.isoformat() if a.due_at else None,
        "no_clock_reason": a.no_clock_reason,
        "no_clock_reason_zh": a.no_clock_reason_zh,
        "on_expiry": a.on_expiry._value_,
        "consequence_zh": a.consequence_zh,
        "consequence_en": a.consequence_en,
        "source": a.source._value_ if a.source else None,
        "rule_id": a.rule_id,
        "rule_source": a.rule_source,
        "summary": a.summary,
        "summary_en": a.summary_en,
        "start_event": a.start_event,
        "penalty_fen": a.penalty_fen,
        "via": a.via.as_dict() if a.via else None,
    }


def action_from_doc(doc: Mapping[str, Any] | None) -> NextAction | None:
    """The inverse of :func:`action_doc`."""
    if not doc:
        return None
    via = doc.get("via")
    return NextAction(
        party=Party(doc["party"]),
        action=doc["action"],
        due_at=datetime.fromisoformat(doc["due_at"]) if doc.get("due_at") else None,
        no_clock_reason=doc.get("no_clock_reason"),
        no_clock_reason_zh=doc.get("no_clock_reason_zh"),
        on_expiry=OnExpiry(doc.get("on_expiry") or "nothing"),
        consequence_zh=doc.get("consequence_zh") or "",
        consequence_en=doc.get("consequence_en") or "",
        source=DeadlineSource(doc["source"]) if doc.get("source") else None,
        rule_id=doc.get("rule_id"),
        rule_source=doc.get("rule_source"),
        summary=doc.get("summary"),
        summary_en=doc.get("summary_en"),
        start_event=doc.get("start_event"),
        penalty_fen=doc.get("penalty_fen"),
        via=Via(**{k: via[k] for k in ("subject", "platform", "shop", "external_id", "label", "case_id")})
        if via
        else None,
    )


def action_columns(a: NextAction | None) -> dict[str, Any]:
    """The ``deadline_*`` columns of a next action (all None without one)."""
    return {
        "deadline_due_at": a.due_at if a else None,
        "deadline_party": a.party._value_ if a else None,
        "deadline_action": a.action if a else None,
        "deadline_on_expiry": a.on_expiry._value_ if a else None,
        "deadline_source": a.source._value_ if a and a.source else None,
        "deadline_rule_id": a.rule_id if a else None,
        "deadline_rule_source": a.rule_source if a else None,
        "deadline_summary": a.summary if a else None,
        "deadline_penalty_fen": a.penalty_fen if a else None,
        "deadline_no_clock_reason": a.no_clock_reason if a else None,
        "deadline_consequence_zh": a.consequence_zh if a else None,
        "deadline_consequence_en": a.consequence_en if a else None,
        "deadline_via": _via_doc(a.via) if a and a.via else None,
    }


def _via_doc(via: Via) -> dict[str, Any]:
    return via.as_dict()


def order_in_work(a: NextAction | None) -> bool:
    """An order is a work-list item when the merchant must act on it with a clock, or hold it."""
    return a is not None and a.party is Party.MERCHANT and (a.due_at is not None or a.action == HOLD_ACTION)


def _merchant_due(a: NextAction | None) -> datetime | None:
    return a.due_at if a is not None and a.party is Party.MERCHANT else None


def chain_action(own: NextAction | None, links: Iterable[NextAction]) -> NextAction | None:
    """The next action of a subject given its own and its links' (each carrying its ``via``):
    the earliest merchant deadline among them, else its own."""
    best = own if _merchant_due(own) is not None else None
    for a in links:
        due = _merchant_due(a)
        if due is not None and (best is None or due < (best.due_at or NO_DEADLINE)):
            best = a
    return best if best is not None else own


def hold_action(own: NextAction | None, case: NextAction, via: Via) -> NextAction:
    """An unshipped order's next action while an after-sales request on it is open."""
    due = _merchant_due(case)
    return NextAction(
        party=Party.MERCHANT,
        action=HOLD_ACTION,
        due_at=due,
        no_clock_reason=None if due else "the open request decides; do not ship meanwhile",
        no_clock_reason_zh=None if due else "售后申请处理中，暂勿发货",
        on_expiry=case.on_expiry if due else OnExpiry.NOTHING,
        consequence_zh=f"暂停发货并处理退款申请；{case.consequence_zh}" if due else "暂停发货，等待售后结果",
        consequence_en=(
            f"hold the shipment and answer the refund request; {case.consequence_en}"
            if due
            else "hold the shipment until the request is decided"
        ),
        source=case.source if due else None,
        rule_id=case.rule_id,
        rule_source=case.rule_source,
        summary=case.summary,
        summary_en=case.summary_en,
        start_event=case.start_event,
        penalty_fen=None,
        via=via,
    )


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


async def _orders_by_keys(conn: AsyncConnection, keys: Collection[tuple[int, str]]) -> list[Any]:
    rows: list[Any] = []
    by_shop: dict[int, list[str]] = {}
    for shop_id, ext in keys:
        by_shop.setdefault(shop_id, []).append(ext)
    for shop_id, exts in by_shop.items():
        for part in _chunks(sorted(set(exts))):
            stmt = select(*_ORDER_COLS).where(ORDERS.c.shop_id == shop_id, ORDERS.c.external_id.in_(part))
            rows.extend((await conn.execute(stmt)).all())
    return rows


async def _links_of(conn: AsyncConnection, order_ids: Collection[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for part in _chunks(sorted(order_ids)):
        stmt = select(LINKS.c.purchase_order_id, LINKS.c.sale_order_id).where(
            or_(LINKS.c.purchase_order_id.in_(part), LINKS.c.sale_order_id.in_(part))
        )
        out.extend((int(p), int(s)) for p, s in (await conn.execute(stmt)).all())
    return out


async def _open_cases_of(conn: AsyncConnection, orders: Iterable[Any]) -> list[Any]:
    keys: dict[int, set[str]] = {}
    for o in orders:
        keys.setdefault(o.shop_id, set()).add(o.external_id)
    rows: list[Any] = []
    for shop_id, exts in keys.items():
        for part in _chunks(sorted(exts)):
            stmt = select(*_CASE_COLS).where(
                CASES.c.shop_id == shop_id, CASES.c.order_external_id.in_(part), CASES.c.is_open.is_(True)
            )
            rows.extend((await conn.execute(stmt)).all())
    return rows


async def refresh_chain(
    conn: AsyncConnection,
    order_keys: Collection[tuple[int, str]],
    case_ids: Collection[int] = (),
) -> int:
    """Recompute the stored next action of the orders ``order_keys`` ((shop id, external id)),
    of every open case on them, on the orders linked to them and of the cases ``case_ids``
    (whose orders may not be stored yet). Writes only rows whose values change; returns how many."""
    touched = await _orders_by_keys(conn, order_keys)
    links = await _links_of(conn, [o.id for o in touched])
    neighbours: dict[int, set[int]] = {}
    for p, s in links:
        neighbours.setdefault(p, set()).add(s)
        neighbours.setdefault(s, set()).add(p)
    # Only linked orders (the chain) and unshipped ones (hold for a request) can differ from the
    # own next actions the upsert just stored: the rest need no further reads.
    touched = [o for o in touched if o.id in neighbours or (o.status in UNSHIPPED and o.shipped_at is None)]
    if not touched and not case_ids:
        return 0
    by_id: dict[int, Any] = {o.id: o for o in touched}
    # the linked orders' own links matter too: their cases' chains include what changed here
    level1 = set(by_id) | {n for i in by_id for n in neighbours.get(i, ())}
    second = level1 - set(by_id)
    if second:
        for p, s in await _links_of(conn, second):
            neighbours.setdefault(p, set()).add(s)
            neighbours.setdefault(s, set()).add(p)
    need = {n for ns in neighbours.values() for n in ns} | set(by_id)
    missing = sorted(need - set(by_id))
    for part in _chunks(missing):
        for o in (await conn.execute(select(*_ORDER_COLS).where(ORDERS.c.id.in_(part)))).all():
            by_id[o.id] = o
    shop_rows = await conn.execute(select(SHOPS.c.id, SHOPS.c.name, SHOPS.c.platform))
    shops = {r.id: (r.name, r.platform) for r in shop_rows}
    cases = await _open_cases_of(conn, by_id.values())
    if case_ids:
        known = {c.id for c in cases}
        extra = [i for i in case_ids if i not in known]
        for part in _chunks(sorted(extra)):
            stmt = select(*_CASE_COLS).where(CASES.c.id.in_(part), CASES.c.is_open.is_(True))
            cases.extend((await conn.execute(stmt)).all())
    order_key = {(o.shop_id, o.external_id): o.id for o in by_id.values()}
    cases_by_order: dict[int, list[Any]] = {}
    for c in cases:
        oid = order_key.get((c.shop_id, c.order_external_id))
        if oid is not None:
            cases_by_order.setdefault(oid, []).append(c)

    def via_of(subject: str, row: Any, a: NextAction, case_id: int | None) -> Via:
        name, platform = shops.get(row.shop_id, (str(row.shop_id), "unknown"))
        return Via(
            subject=subject,
            platform=platform,
            shop=name,
            external_id=row.external_id,
            label=a.consequence_zh or a.action,
            case_id=case_id,
        )

    def linked_actions(order_id: int) -> list[NextAction]:
        out: list[NextAction] = []
        for other in sorted(neighbours.get(order_id, ())):
            orow = by_id.get(other)
            if orow is None:
                continue
            own = action_from_doc(orow.own_action)
            if own is not None:
                out.append(_with_via(own, via_of("order", orow, own, None)))
            for c in cases_by_order.get(other, ()):
                cown = action_from_doc(c.own_action)
                if cown is not None:
                    out.append(_with_via(cown, via_of("case", c, cown, c.id)))
        return out

    case_updates: list[dict[str, Any]] = []
    touched_ids = {o.id for o in touched}
    for c in cases:
        oid = order_key.get((c.shop_id, c.order_external_id))
        if c.id not in case_ids and oid not in level1:
            continue  # a third-level order: its own links were not read
        own = action_from_doc(c.own_action)
        best = chain_action(own, linked_actions(oid) if oid is not None else [])
        cols = action_columns(best)
        cols["work_due_at"] = best.due_at if best and best.due_at else NO_DEADLINE
        if _differs(c, cols):
            case_updates.append({"_id": c.id, **cols})
    order_updates: list[dict[str, Any]] = []
    for oid in touched_ids:
        o = by_id[oid]
        own = action_from_doc(o.own_action)
        best = own
        if o.status in UNSHIPPED and o.shipped_at is None:
            open_cases = cases_by_order.get(oid, [])
            if open_cases:
                acts = [(action_from_doc(c.own_action), c) for c in open_cases]
                timed = [(a, c) for a, c in acts if a is not None and _merchant_due(a) is not None]
                pick = min(timed, key=lambda t: t[0].due_at or NO_DEADLINE) if timed else None
                if pick is None:
                    pick = next(((a, c) for a, c in acts if a is not None), None)
                if pick is not None:
                    best = hold_action(own, pick[0], via_of("case", pick[1], pick[0], pick[1].id))
        cols = action_columns(best)
        cols["in_work"] = order_in_work(best)
        cols["work_due_at"] = best.due_at if best and best.due_at else NO_DEADLINE
        if _differs(o, cols):
            order_updates.append({"_id": oid, **cols})
    await _bulk(conn, CASES, case_updates)
    await _bulk(conn, ORDERS, order_updates)
    return len(case_updates) + len(order_updates)


def _with_via(a: NextAction, via: Via) -> NextAction:
    return replace(a, via=via)


def _differs(row: Any, cols: Mapping[str, Any]) -> bool:
    return any(getattr(row, k) != v for k, v in cols.items())


async def _bulk(conn: AsyncConnection, table: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    cols = [k for k in rows[0] if k != "_id"]
    stmt = (
        update(table).where(table.c.id == bindparam("b__id")).values({c: bindparam(f"b_{c}") for c in cols})
    )
    await conn.execute(stmt, [{f"b_{k}": v for k, v in r.items()} for r in rows])


async def refresh_all(conn: AsyncConnection, shop_ids: Collection[int] | None = None) -> int:
    """Recompute the chain of every linked order (and its cases), e.g. after links were made."""
    stmt = select(ORDERS.c.shop_id, ORDERS.c.external_id).where(
        or_(
            ORDERS.c.id.in_(select(LINKS.c.purchase_order_id)),
            ORDERS.c.id.in_(select(LINKS.c.sale_order_id)),
        )
    )
    if shop_ids is not None:
        stmt = stmt.where(ORDERS.c.shop_id.in_(list(shop_ids)))
    keys = [(int(s), str(e)) for s, e in (await conn.execute(stmt)).all()]
    return await refresh_chain(conn, keys)


__all__ = [
    "HOLD_ACTION",
    "action_columns",
    "action_doc",
    "action_from_doc",
    "apply_side_action",
    "chain_action",
    "hold_action",
    "order_in_work",
    "recompute_if_changed",
    "recompute_shop",
    "refresh_all",
    "refresh_chain",
    "rules_digest",
]


# -- recomputing when the rules or the shop's policy settings change ------------------------------

#: order statuses whose clocks may still run (a completed or closed order has no next action)
LIVE_ORDER_STATUSES = ("pending_payment", "paid", "shipped", "refunding")


def _canon(value: Any) -> Any:
    """A process-independent JSON form (sets sorted, durations in seconds) for :func:`rules_digest`."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, timedelta):
        return value.total_seconds()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canon(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _canon(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, set | frozenset):
        return sorted((_canon(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True, default=str))
    if isinstance(value, list | tuple):
        return [_canon(v) for v in value]
    return value


def rules_digest(table: RuleTable, settings: Mapping[str, str], merchant_side: Party) -> str:
    """A fingerprint of what a shop's next actions are computed from: its platform's rule table,
    the shop settings the rules read (policy overrides) and the merchant's side."""
    used = sorted({r.setting for r in table.rules if r.setting})
    return digest(
        [_canon(table.rules), {k: settings.get(k) for k in used}, merchant_side.value, NEXT_ACTION_VERSION]
    )


#: bump when the core's way of computing next actions changes, so stored ones are recomputed
NEXT_ACTION_VERSION = 1


async def recompute_shop(
    conn: AsyncConnection,
    shop_id: int,
    table: RuleTable,
    settings: Mapping[str, str],
    merchant_side: Party = Party.MERCHANT,
) -> int:
    """Recompute the own next action of every open case and live order of one shop from the
    stored records (after a rule-table or policy-setting change), then their chains. Returns how
    many rows changed."""
    changed = 0
    keys: set[tuple[int, str]] = set()
    for table_, rebuild, where in (
        (CASES, after_sale_from_row, CASES.c.is_open.is_(True)),
        (ORDERS, order_from_row, ORDERS.c.status.in_(LIVE_ORDER_STATUSES)),
    ):
        rows = (await conn.execute(select(table_).where(table_.c.shop_id == shop_id, where))).all()
        updates: list[dict[str, Any]] = []
        for row in rows:
            subject = rebuild(row)
            if table_ is CASES:
                keys.add((shop_id, row.order_external_id))
                a = next_action(
                    subject,
                    table,
                    status_since=row.status_since,
                    settings=settings,
                    merchant_side=merchant_side,
                )
            else:
                keys.add((shop_id, row.external_id))
                a = next_action(subject, table, status_since=row.status_since, settings=settings)
            cols: dict[str, Any] = {**action_columns(a), "own_action": action_doc(a)}
            cols["work_due_at"] = a.due_at if a and a.due_at else NO_DEADLINE
            if table_ is ORDERS:
                cols["in_work"] = order_in_work(a)
            if _differs(row, cols):
                updates.append({"_id": row.id, **cols})
        await _bulk(conn, table_, updates)
        changed += len(updates)
    return changed + await refresh_chain(conn, sorted(keys))


async def recompute_if_changed(
    engine: AsyncEngine,
    shop_id: int,
    table: RuleTable,
    settings: Mapping[str, str],
    merchant_side: Party = Party.MERCHANT,
) -> int | None:
    """Recompute a shop's next actions when its rules digest differs from the stored one (a new
    plugin release, a changed policy setting, a migrated database); None when nothing changed."""
    want = rules_digest(table, settings, merchant_side)
    async with engine.begin() as conn:
        have = (await conn.execute(select(SHOPS.c.rules_digest).where(SHOPS.c.id == shop_id))).scalar()
        if have == want:
            return None
        n = await recompute_shop(conn, shop_id, table, settings, merchant_side)
        await conn.execute(update(SHOPS).where(SHOPS.c.id == shop_id).values(rules_digest=want))
    return n


# -- actions from outside the rule tables (the logistics watch) -----------------------------------


async def apply_side_action(conn: AsyncConnection, case_id: int, action: NextAction) -> bool:
    """Show ``action`` (a merchant action with a clock from outside the rules, e.g. the logistics
    watch's) as an open case's next action when it is due before the stored merchant deadline.
    The next recompute of the case restores its rule-based action; the caller re-applies after
    each sync. Returns True when the row changed."""
    row = (
        await conn.execute(select(*_CASE_COLS).where(CASES.c.id == case_id, CASES.c.is_open.is_(True)))
    ).first()
    if row is None:
        return False
    stored = row.deadline_due_at if row.deadline_party == Party.MERCHANT.value else None
    if stored is not None and action.due_at is not None and stored <= action.due_at:
        return False
    cols = action_columns(action)
    cols["work_due_at"] = action.due_at or NO_DEADLINE
    if not _differs(row, cols):
        return False
    await conn.execute(update(CASES).where(CASES.c.id == case_id).values(**cols))
    return True
