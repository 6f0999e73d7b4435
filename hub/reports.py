"""Reports over a range of Beijing days: cases and refund money by shop, platform and reason; time
to first reply; merchant deadlines missed and what the platform then did; late-shipment penalties
at risk and incurred; what each agent handled.

Everything is read from what the store keeps: case and order rows, their timelines (``events``:
a ``status_changed`` entry records the deadline that ran until the change) and the action records.
The same data gives the same report: lists are sorted on their figures and then their names.
``hub report --json``, ``GET /api/reports`` and the ``/reports`` page all return
:func:`build_report`'s dict.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncEngine

from .reportdays import DayRange
from .store.base import tbl
from .store.models import ActionRecord, AfterSaleRecord, EventRecord, OrderRecord, ShopRecord

S = tbl(ShopRecord)
C = tbl(AfterSaleRecord)
O = tbl(OrderRecord)  # noqa: E741
E = tbl(EventRecord)
A = tbl(ActionRecord)

#: action outcomes that mean the merchant did answer (a failed or pending attempt did not)
ANSWERED = ("done", "recorded", "needs_verification")
#: hub's bookkeeping actions: not an answer to the buyer
NOT_A_REPLY = frozenset({"note", "assign"})
#: statuses a merchant's answer in the seller backend moves a request to
ANSWER_STATUSES = frozenset(
    {"seller_refused", "awaiting_return", "awaiting_reship", "refunding", "succeeded"}
)
#: what the platform does on expiry that gives the buyer the money (or the return) unasked
AUTO_AGREED = frozenset({"auto_agree", "auto_refund"})
#: the deadline action of an order's ship-by clock
SHIP_ACTION = "ship"
NO_REASON = "(none)"


def _scoped(column: Any, shop_ids: Collection[int] | None) -> Any:
    return column.in_(list(shop_ids) or [-1]) if shop_ids is not None else None


def _where(*conds: Any) -> Any:
    return and_(true(), *[c for c in conds if c is not None])


def change_columns() -> list[Any]:
    """A status change's fields, read in SQL from the event's JSON (``ev_from``, ``ev_to``) with
    the deadline it records (``dl_*``): decoding whole documents in Python is what made a month
    of a large shop slow. JSON null reads as None on both backends."""
    d = E.c.data
    return [
        d["from"].as_string().label("ev_from"),
        d["to"].as_string().label("ev_to"),
        d[("deadline", "due_at")].as_string().label("dl_due"),
        d[("deadline", "party")].as_string().label("dl_party"),
        d[("deadline", "action")].as_string().label("dl_action"),
        d[("deadline", "on_expiry")].as_string().label("dl_expiry"),
        d[("deadline", "penalty_fen")].as_string().label("dl_penalty"),
    ]


def missed_deadline(row: Any, at: datetime, party: str = "merchant") -> dict[str, Any] | None:
    """The deadline a status change (a row with :func:`change_columns`) records, when it was
    ``party``'s and had passed at ``at``: ``{due_at, action, on_expiry, penalty_fen}``."""
    if row.dl_party != party or not row.dl_due:
        return None
    due = datetime.fromisoformat(row.dl_due)
    if due >= at:
        return None
    penalty = row.dl_penalty
    return {
        "due_at": row.dl_due,
        "action": row.dl_action,
        "on_expiry": row.dl_expiry,
        # SQLite hands a JSON number back as a number, PostgreSQL as its text
        "penalty_fen": int(penalty) if penalty not in (None, "") else None,
    }


def _group(rows: Iterable[tuple[str, int]], name: str) -> list[dict[str, Any]]:
    """``(key, fen)`` pairs as ``[{name: key, cases, refund_fen}]``, most cases first."""
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for key, fen in rows:
        acc[key][0] += 1
        acc[key][1] += fen
    out: list[dict[str, Any]] = [{name: k, "cases": v[0], "refund_fen": v[1]} for k, v in acc.items()]
    out.sort(key=lambda r: (-r["cases"], -r["refund_fen"], r[name]))
    return out


async def shops_in_scope(
    engine: AsyncEngine, shop_ids: Collection[int] | None, names: Collection[str] = ()
) -> dict[int, tuple[str, str]]:
    """``{id: (name, platform)}`` of the shops in scope (``names``: only those)."""
    stmt = select(S.c.id, S.c.name, S.c.platform).where(_where(_scoped(S.c.id, shop_ids)))
    if names:
        stmt = stmt.where(S.c.name.in_(list(names)))
    async with engine.connect() as conn:
        return {r.id: (r.name, r.platform) for r in (await conn.execute(stmt)).all()}


async def build_report(
    engine: AsyncEngine, days: DayRange, *, shop_ids: Collection[int] | None, now: datetime
) -> dict[str, Any]:
    """The report over ``days`` for the shops ``shop_ids`` (None: every shop), as JSON-safe data."""
    shops = await shops_in_scope(engine, shop_ids)
    ids = list(shops)
    start, end = days.start, days.end
    async with engine.connect() as conn:
        created: Sequence[Any] = (
            await conn.execute(
                select(C.c.id, C.c.shop_id, C.c.reason, C.c.refund_fen, C.c.created_at).where(
                    C.c.shop_id.in_(ids or [-1]), C.c.created_at >= start, C.c.created_at < end
                )
            )
        ).all()
        # status changes in the range, and those of the cases opened in the range (their answers),
        # whenever they came
        status_changes: Sequence[Any] = (
            await conn.execute(
                select(E.c.at, *change_columns(), C.c.id, C.c.shop_id, C.c.refund_fen, C.c.created_at)
                .select_from(E.join(C, and_(C.c.shop_id == E.c.shop_id, C.c.external_id == E.c.external_id)))
                .where(
                    E.c.subject == "after_sale",
                    E.c.kind == "status_changed",
                    E.c.shop_id.in_(ids or [-1]),
                    or_(
                        and_(E.c.at >= start, E.c.at < end),
                        and_(C.c.created_at >= start, C.c.created_at < end),
                    ),
                )
            )
        ).all()
        # the first answers to the cases opened in the range (hub actions, and status changes made
        # in the seller backend), whenever they came
        replies: Sequence[Any] = (
            await conn.execute(
                select(A.c.after_sale_id, A.c.created_at, A.c.action)
                .select_from(A.join(C, C.c.id == A.c.after_sale_id))
                .where(
                    C.c.shop_id.in_(ids or [-1]),
                    C.c.created_at >= start,
                    C.c.created_at < end,
                    A.c.status.in_(ANSWERED),
                )
            )
        ).all()
        overdue: Sequence[Any] = (
            await conn.execute(
                select(C.c.refund_fen).where(
                    C.c.shop_id.in_(ids or [-1]),
                    C.c.is_open.is_(True),
                    C.c.deadline_party == "merchant",
                    C.c.deadline_due_at < now,
                )
            )
        ).all()
        ship_work: Sequence[Any] = (
            await conn.execute(
                select(O.c.deadline_due_at, O.c.deadline_penalty_fen).where(
                    O.c.shop_id.in_(ids or [-1]),
                    O.c.in_work.is_(True),
                    O.c.deadline_action == SHIP_ACTION,
                )
            )
        ).all()
        shipped: Sequence[Any] = (
            await conn.execute(
                select(E.c.at, *change_columns(), O.c.shipped_at)
                .select_from(E.join(O, and_(O.c.shop_id == E.c.shop_id, O.c.external_id == E.c.external_id)))
                .where(
                    E.c.subject == "order",
                    E.c.kind == "status_changed",
                    E.c.shop_id.in_(ids or [-1]),
                    E.c.at >= start,
                    E.c.at < end,
                )
            )
        ).all()
        actions: Sequence[Any] = (
            await conn.execute(
                select(A.c.actor, A.c.after_sale_id, A.c.status).where(
                    A.c.shop_id.in_(ids or [-1]), A.c.created_at >= start, A.c.created_at < end
                )
            )
        ).all()

    # -- cases and refund money -------------------------------------------------------------
    changes = [r for r in status_changes if start <= r.at < end]
    refunded = [r for r in changes if r.ev_to == "succeeded"]
    cases = {
        "opened": len(created),
        "requested_fen": sum(r.refund_fen for r in created),
        "refunded": len(refunded),
        "refunded_fen": sum(r.refund_fen for r in refunded),
        "by_shop": _group(((shops[r.shop_id][0], r.refund_fen) for r in created), "shop"),
        "by_platform": _group(((shops[r.shop_id][1], r.refund_fen) for r in created), "platform"),
        "by_reason": _group(
            (((r.reason or "").strip() or NO_REASON, r.refund_fen) for r in created), "reason"
        ),
        "refunded_by_shop": _group(((shops[r.shop_id][0], r.refund_fen) for r in refunded), "shop"),
    }

    # -- first reply --------------------------------------------------------------------------
    opened_at = {r.id: r.created_at for r in created}
    first: dict[int, datetime] = {}
    for r in replies:
        if r.action not in NOT_A_REPLY and (
            r.after_sale_id not in first or r.created_at < first[r.after_sale_id]
        ):
            first[r.after_sale_id] = r.created_at
    for r in status_changes:
        if (
            r.id in opened_at
            and r.ev_from == "requested"
            and r.ev_to in ANSWER_STATUSES
            and not missed_deadline(r, r.at)
        ):
            if r.id not in first or r.at < first[r.id]:
                first[r.id] = r.at
    waits = sorted(max(0, int((first[i] - opened_at[i]).total_seconds())) for i in first if i in opened_at)
    first_reply = {
        "cases": len(created),
        "replied": len(waits),
        "median_seconds": int(statistics.median(waits)) if waits else None,
    }

    # -- deadlines missed ----------------------------------------------------------------------
    outcomes: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    auto = [0, 0]
    for r in changes:
        d = missed_deadline(r, r.at)
        if d is None:
            continue
        expiry = d["on_expiry"] or "nothing"
        outcomes[(expiry, str(r.ev_to))][0] += 1
        outcomes[(expiry, str(r.ev_to))][1] += r.refund_fen
        if expiry in AUTO_AGREED:
            auto[0] += 1
            auto[1] += r.refund_fen
    by_outcome: list[dict[str, Any]] = [
        {"on_expiry": k[0], "to_status": k[1], "cases": v[0], "refund_fen": v[1]} for k, v in outcomes.items()
    ]
    by_outcome.sort(key=lambda x: (-x["cases"], x["on_expiry"], x["to_status"]))
    missed = {
        "missed": sum(v[0] for v in outcomes.values()),
        "by_outcome": by_outcome,
        "auto_agreed": {"cases": auto[0], "money_lost_fen": auto[1]},
        "overdue_open": {"cases": len(overdue), "refund_fen": sum(r.refund_fen for r in overdue)},
    }

    # -- late shipment -------------------------------------------------------------------------
    at_risk = [0, 0, 0, 0]  # orders, penalty, of which overdue: orders, penalty
    for r in ship_work:
        fen = r.deadline_penalty_fen or 0
        at_risk[0] += 1
        at_risk[1] += fen
        if r.deadline_due_at is not None and r.deadline_due_at < now:
            at_risk[2] += 1
            at_risk[3] += fen
    incurred = [0, 0]
    for r in shipped:
        when = r.shipped_at if r.ev_to == "shipped" and r.shipped_at else r.at
        d = missed_deadline(r, when)
        if d is not None and d["action"] == SHIP_ACTION:
            incurred[0] += 1
            incurred[1] += d["penalty_fen"] or 0
    late = {
        "at_risk": {"orders": at_risk[0], "penalty_fen": at_risk[1]},
        "overdue": {"orders": at_risk[2], "penalty_fen": at_risk[3]},
        "incurred": {"orders": incurred[0], "penalty_fen": incurred[1]},
    }

    # -- agents --------------------------------------------------------------------------------
    per: dict[str, dict[str, Any]] = {}
    for r in actions:
        a = per.setdefault(r.actor, {"agent": r.actor, "actions": 0, "done": 0, "failed": 0, "_cases": set()})
        a["actions"] += 1
        a["done"] += r.status in ANSWERED
        a["failed"] += r.status == "failed"
        if r.after_sale_id is not None:
            a["_cases"].add(r.after_sale_id)
    agents = [
        {
            "agent": a["agent"],
            "cases": len(a["_cases"]),
            "actions": a["actions"],
            "done": a["done"],
            "failed": a["failed"],
        }
        for a in per.values()
    ]
    agents.sort(key=lambda x: (-x["cases"], -x["actions"], x["agent"]))

    return {
        "from": days.first.isoformat(),
        "to": days.last.isoformat(),
        "as_of": now.isoformat(),
        "shops": sorted(name for name, _ in shops.values()),
        "cases": cases,
        "first_reply": first_reply,
        "deadlines": missed,
        "late_shipment": late,
        "agents": agents,
    }
