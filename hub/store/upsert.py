"""Idempotent, newer-wins upserts of one batch of raw records, with events on real change only.

For each raw record, in one pass over the batch and a handful of queries:

1. stale (older than what is stored) or byte-identical to the stored raw payload: nothing is
   written, not even mapped (this is what makes an unchanged re-sync cheap);
2. otherwise it is mapped; a mapping failure is quarantined with its error (once per payload);
3. the mapped Order or AfterSale is compared with the stored row by content hash: a real change
   updates the row, recomputes its deadline and appends events; no change writes only the raw.

Everything runs on the caller's connection, inside the caller's transaction: the sync engine
commits a window's data together with its checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..domain import AfterSale, AfterSaleStatus, MappedRecord, Order, Party, RawRecord
from ..errors import MappingError
from ..rules import RuleTable, anchor_time, next_action
from ..scrub import scrub_text
from .base import tbl
from .bulk import existing, gc_paused, insert_rows, update_rows
from .models import NO_DEADLINE, AfterSaleRecord, EventRecord, OrderRecord, QuarantineRecord, RawRecordRow
from .nextaction import action_columns, action_doc, order_in_work, refresh_chain
from .serialize import (
    after_sale_data,
    content_digest,
    order_data,
    payload_doc,
)
from .validate import check_mapped, no_nul, raw_problem, strip_nul, time_facts

RAW = tbl(RawRecordRow)
QUAR = tbl(QuarantineRecord)
CASES = tbl(AfterSaleRecord)
ORDERS = tbl(OrderRecord)
EVENTS = tbl(EventRecord)


@dataclass
class UpsertStats:
    fetched: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    stale: int = 0
    quarantined: int = 0
    problems: list[str] = field(default_factory=list)
    #: (case, changes) of every case that really changed, for hub_on_case_changed after commit
    changed_cases: list[tuple[AfterSale, dict[str, Any]]] = field(default_factory=list)
    purchases_touched: bool = False
    #: external ids of the orders that are new or changed (their chain is recomputed)
    touched_orders: set[str] = field(default_factory=set)

    def add(self, other: UpsertStats) -> None:
        for name in ("fetched", "new", "changed", "unchanged", "stale", "quarantined"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.problems.extend(other.problems)
        self.changed_cases.extend(other.changed_cases)
        self.purchases_touched |= other.purchases_touched


def _older(
    new_at: datetime | None, new_version: int | None, old_at: datetime | None, old_version: int | None
) -> bool:
    """True when the incoming version is older than the stored one (newer wins; version breaks ties)."""
    if new_at is None or old_at is None:
        return False
    if new_at != old_at:
        return new_at < old_at
    return new_version is not None and old_version is not None and new_version < old_version


#: the order field that says when an order entered a status
_ORDER_STATUS_TIME = {"paid": "paid_at", "shipped": "shipped_at", "completed": "completed_at"}


def _status_since(subject: AfterSale | Order, old: Any, first_seen: datetime) -> datetime:
    """When the subject entered its current status: the platform's own field (the fact
    ``status_since``, or ``requested_at`` for a request) when the plugin gives it; else kept from
    the store while the status stays; else ``first_seen``, the time of the first version that
    showed this status."""
    stated = anchor_time(subject, "fact:status_since")
    if stated is None and isinstance(subject, AfterSale) and subject.status == AfterSaleStatus.REQUESTED:
        stated = anchor_time(subject, "fact:requested_at")  # a (re-)submission's own time
    if stated is not None:
        return stated
    if old is not None and old["status"] == subject.status.value and old["status_since"] is not None:
        return old["status_since"]  # type: ignore[no-any-return]
    return first_seen


#: the stored deadline columns a status change records as the clock that ran until then (reports
#: read them: a merchant deadline passed before the change means it was missed, and the platform
#: did what ``on_expiry`` says)
PRIOR_DEADLINE_COLS = ("deadline_party", "deadline_action", "deadline_on_expiry", "deadline_penalty_fen")
ORDER_COLS = (
    "id",
    "external_id",
    "platform_updated_at",
    "content_hash",
    "status",
    "status_since",
    "deadline_due_at",
    *PRIOR_DEADLINE_COLS,
)


def prior_deadline(old: Mapping[str, Any]) -> dict[str, Any] | None:
    """The deadline that ran before a status change, JSON-safe, or None when there was no clock."""
    due = old["deadline_due_at"]
    if due is None:
        return None
    return {
        "due_at": due.isoformat(),
        "party": old["deadline_party"],
        "action": old["deadline_action"],
        "on_expiry": old["deadline_on_expiry"],
        "penalty_fen": old["deadline_penalty_fen"],
    }


def _event(
    shop_id: int,
    subject: str,
    external_id: str,
    at: datetime,
    kind: str,
    summary: str,
    data: Mapping[str, Any] | None = None,
    actor: str = "platform",
) -> dict[str, Any]:
    return {
        "shop_id": shop_id,
        "subject": subject,
        "external_id": external_id,
        "at": at,
        "kind": kind,
        "actor": actor,
        "summary": summary,
        "data": dict(data or {}),
    }


@gc_paused
async def upsert_batch(
    conn: AsyncConnection,
    *,
    shop_id: int,
    records: Sequence[RawRecord],
    mapper: Callable[[RawRecord], MappedRecord],
    rules: RuleTable,
    settings: Mapping[str, str],
    now: datetime,
    actor: str = "platform",
    merchant_side: Party = Party.MERCHANT,
) -> UpsertStats:
    """Upsert one batch of raw records (any resources) for one shop. See the module docstring.

    ``merchant_side`` is the platform's ``PlatformInfo.merchant_side`` (which side of its cases the
    merchant is on): it names the party of a state no rule row covers."""
    stats = UpsertStats(fetched=len(records))
    # The boundary: what the plugin fetched is checked before anything compares or stores it
    # (see hub.store.validate); a record with a broken envelope is quarantined, not fatal.
    raw_errors: dict[tuple[str, str], str] = {}
    fact_times = time_facts(rules)
    checked: list[RawRecord] = []
    for rec in records:
        rec, problem = raw_problem(rec)
        if problem is not None:
            raw_errors[(rec.resource, rec.external_id)] = problem
        checked.append(rec)
    records = checked
    # Within a batch the newest version of a record wins; an equal time keeps the later one.
    latest: dict[tuple[str, str], RawRecord] = {}
    for rec in records:
        key = (rec.resource, rec.external_id)
        old = latest.get(key)
        if old is None or not _older(rec.updated_at, None, old.updated_at, None):
            if old is not None:
                stats.unchanged += 1
            latest[key] = rec
        else:
            stats.stale += 1
    by_resource: dict[str, list[tuple[RawRecord, str, Any]]] = {}
    for rec in latest.values():
        payload = rec.payload if isinstance(rec.payload, Mapping) else {"unreadable": repr(rec.payload)}
        doc, h = payload_doc(payload)  # serialised once: hashed, then stored as is
        if "\\u0000" in doc:  # NUL bytes (PostgreSQL refuses them): the mapper sees what is stored
            payload = strip_nul(payload)
            doc, h = payload_doc(payload)
            rec = RawRecord(
                resource=rec.resource,
                external_id=rec.external_id,
                payload=payload,
                updated_at=rec.updated_at,
            )
        by_resource.setdefault(rec.resource, []).append((rec, h, doc))

    raw_inserts: list[dict[str, Any]] = []
    raw_updates: list[dict[str, Any]] = []
    quarantine_rows: list[dict[str, Any]] = []
    mapped: list[tuple[RawRecord, MappedRecord]] = []
    for resource, items in by_resource.items():
        stored = await existing(
            conn,
            RAW,
            ("id", "external_id", "payload_hash", "platform_updated_at"),
            shop_id,
            [r.external_id for r, _, _ in items],
            resource,
        )
        todo: list[tuple[RawRecord, str, Any]] = []
        for rec, h, doc in items:
            old = stored.get(rec.external_id)
            if old is not None and (
                old["payload_hash"] == h or _older(rec.updated_at, None, old["platform_updated_at"], None)
            ):
                if old["payload_hash"] == h:
                    stats.unchanged += 1
                else:
                    stats.stale += 1
                continue
            todo.append((rec, h, doc))
        if not todo:
            continue
        quarantined = await existing(
            conn,
            QUAR,
            ("id", "external_id", "payload_hash", "resolved_at"),
            shop_id,
            [r.external_id for r, _, _ in todo],
            resource,
        )
        resolve_ids: list[int] = []
        for rec, h, doc in todo:
            q = quarantined.get(rec.external_id)
            try:
                problem = raw_errors.get((resource, rec.external_id))
                if problem is not None:
                    raise MappingError(problem)
                obj = check_mapped(mapper(rec), fact_times)
            except Exception as err:  # a plugin bug must quarantine the record, not stop the sync
                stats.quarantined += 1
                message = no_nul(
                    scrub_text(  # a platform's echo of our request must not store a secret
                        str(err)
                        if isinstance(err, ValueError | MappingError)
                        else f"{type(err).__name__}: {err}"
                    )
                )
                stats.problems.append(f"{resource} {rec.external_id}: {message}")
                if q is not None and q["payload_hash"] == h and q["resolved_at"] is None:
                    continue
                quarantine_rows.append(
                    {
                        "_id": q["id"] if q is not None else None,
                        "shop_id": shop_id,
                        "resource": resource,
                        "external_id": rec.external_id,
                        "platform_updated_at": rec.updated_at,
                        "payload": doc,
                        "payload_hash": h,
                        "error": message,
                        "first_seen_at": now,
                        "last_seen_at": now,
                        "resolved_at": None,
                    }
                )
                continue
            if q is not None and q["resolved_at"] is None:
                resolve_ids.append(q["id"])
            mapped.append((rec, obj))
            row = {
                "shop_id": shop_id,
                "resource": resource,
                "external_id": rec.external_id,
                "platform_updated_at": rec.updated_at or obj.updated_at,
                "payload": doc,
                "payload_hash": h,
                "received_at": now,
            }
            old = stored.get(rec.external_id)
            if old is None:
                raw_inserts.append(row)
            else:
                raw_updates.append({**row, "_id": old["id"]})
        if resolve_ids:
            await conn.execute(update(QUAR).where(QUAR.c.id.in_(resolve_ids)).values(resolved_at=now))

    await insert_rows(conn, RAW, raw_inserts)
    await update_rows(conn, RAW, raw_updates)
    new_q = [{k: v for k, v in r.items() if k != "_id"} for r in quarantine_rows if r["_id"] is None]
    old_q = [r for r in quarantine_rows if r["_id"] is not None]
    await insert_rows(conn, QUAR, new_q)
    await update_rows(conn, QUAR, [{k: v for k, v in r.items() if k != "first_seen_at"} for r in old_q])

    orders = [o for _, o in mapped if isinstance(o, Order)]
    cases = [c for _, c in mapped if isinstance(c, AfterSale)]
    events: list[dict[str, Any]] = []
    if orders:
        await _upsert_orders(conn, shop_id, orders, rules, settings, stats, events, actor)
    if cases:
        await _upsert_cases(conn, shop_id, cases, rules, settings, stats, events, actor, merchant_side)
    if stats.touched_orders:
        # the chain: linked cases and orders take the earliest merchant deadline; orders hold
        await refresh_chain(conn, [(shop_id, ext) for ext in sorted(stats.touched_orders)])
        stats.touched_orders.clear()
    await insert_rows(conn, EVENTS, events)
    return stats


#: status value -> open? (read per record)
_OPEN = {s.value: s.is_open for s in AfterSaleStatus}


def _dedupe_newest(items: Sequence[Any]) -> list[Any]:
    newest: dict[str, Any] = {}
    for it in items:
        old = newest.get(it.external_id)
        if old is None or not _older(
            it.updated_at, getattr(it, "version", None), old.updated_at, getattr(old, "version", None)
        ):
            newest[it.external_id] = it
    return list(newest.values())


async def _upsert_cases(
    conn: AsyncConnection,
    shop_id: int,
    cases: Sequence[AfterSale],
    rules: RuleTable,
    settings: Mapping[str, str],
    stats: UpsertStats,
    events: list[dict[str, Any]],
    actor: str,
    merchant_side: Party = Party.MERCHANT,
) -> None:
    cases = _dedupe_newest(cases)
    cols = (
        "id",
        "external_id",
        "platform_updated_at",
        "version",
        "content_hash",
        "status",
        "status_since",
        "refund_fen",
        "kind",
        "dispute_kind",
        "dispute_status",
        "return_waybill",
        "deadline_due_at",
        "deadline_rule_id",
        "deadline_source",
        *PRIOR_DEADLINE_COLS,
    )
    stored = await existing(conn, CASES, cols, shop_id, [c.external_id for c in cases])
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for case in cases:
        old = stored.get(case.external_id)
        if old is not None and _older(
            case.updated_at, case.version, old["platform_updated_at"], old["version"]
        ):
            stats.stale += 1
            continue
        data, content = content_digest(case, after_sale_data(case))
        if old is not None and old["content_hash"] == content:
            stats.unchanged += 1
            continue
        # first seen in "requested": the request's time; a later status: the time of the first
        # version showing it (kept while the status stays, so later messages never move a clock)
        # an enum's .value is a property lookup; these are read a dozen times per record
        kind_v, status_v = case.kind._value_, case.status._value_
        new_request = old is None and case.status == AfterSaleStatus.REQUESTED
        since = _status_since(case, old, case.created_at if new_request else case.updated_at)
        action = next_action(case, rules, status_since=since, settings=settings, merchant_side=merchant_side)
        row = {
            "shop_id": shop_id,
            "external_id": case.external_id,
            "order_external_id": case.order_external_id,
            "line_external_id": case.line_external_id,
            "kind": kind_v,
            "status": status_v,
            "is_open": _OPEN[status_v],
            "platform_status": case.platform_status,
            "reason": case.reason,
            "refund_fen": case.refund_fen,
            "buyer": case.buyer,
            "created_at": case.created_at,
            "platform_updated_at": case.updated_at,
            "version": case.version,
            "return_waybill": case.return_waybill,
            "status_since": since,
            "dispute_kind": case.dispute.kind.value if case.dispute else None,
            "dispute_status": case.dispute.status.value if case.dispute else None,
            "data": data,
            "content_hash": content,
            **action_columns(action),
            "own_action": action_doc(action),
            "work_due_at": action.due_at if action and action.due_at else NO_DEADLINE,
        }
        stats.touched_orders.add(case.order_external_id)
        ext = case.external_id
        if old is None:
            stats.new += 1
            inserts.append(row)
            events.append(
                _event(
                    shop_id,
                    "after_sale",
                    ext,
                    case.created_at,
                    "created",
                    f"{kind_v} requested ({case.platform_status})",
                    {"status": status_v, "kind": kind_v, "refund_fen": case.refund_fen},
                    actor,
                )
            )
            if case.status != AfterSaleStatus.REQUESTED:
                events.append(
                    _event(
                        shop_id,
                        "after_sale",
                        ext,
                        since,  # the status-entry time the clocks count from
                        "status_changed",
                        f"status {status_v}",
                        {
                            "from": None,
                            "to": status_v,
                            "status": status_v,
                            "platform_status": case.platform_status,
                        },
                        actor,
                    )
                )
            if case.dispute:
                events.append(
                    _event(
                        shop_id,
                        "after_sale",
                        ext,
                        case.updated_at,
                        "dispute_changed",
                        f"{case.dispute.kind.value} {case.dispute.status.value}",
                        {"from": None, "to": case.dispute.status.value},
                        actor,
                    )
                )
            stats.changed_cases.append((case, {}))
            continue
        stats.changed += 1
        updates.append({**row, "_id": old["id"]})
        changes: dict[str, Any] = {}
        at = case.updated_at
        if old["status"] != status_v:
            changes["status"] = [old["status"], status_v]
            events.append(
                _event(
                    shop_id,
                    "after_sale",
                    ext,
                    since,  # the status-entry time the clocks count from
                    "status_changed",
                    f"status {old['status']} → {status_v}",
                    {
                        "from": old["status"],
                        "to": status_v,
                        "status": status_v,
                        "platform_status": case.platform_status,
                        "deadline": prior_deadline(old),
                    },
                    actor,
                )
            )
        if old["kind"] != kind_v:
            changes["kind"] = [old["kind"], kind_v]
            events.append(
                _event(
                    shop_id,
                    "after_sale",
                    ext,
                    at,
                    "kind_changed",
                    f"kind {old['kind']} → {kind_v}",
                    {"from": old["kind"], "to": kind_v},
                    actor,
                )
            )
        if old["refund_fen"] != case.refund_fen:
            changes["refund_fen"] = [old["refund_fen"], case.refund_fen]
            events.append(
                _event(
                    shop_id,
                    "after_sale",
                    ext,
                    at,
                    "amount_changed",
                    f"refund {old['refund_fen']} → {case.refund_fen} fen",
                    {"from": old["refund_fen"], "to": case.refund_fen},
                    actor,
                )
            )
        new_dispute = (row["dispute_kind"], row["dispute_status"])
        if (old["dispute_kind"], old["dispute_status"]) != new_dispute:
            changes["dispute"] = [old["dispute_status"], row["dispute_status"]]
            events.append(
                _event(
                    shop_id,
                    "after_sale",
                    ext,
                    at,
                    "dispute_changed",
                    f"{row['dispute_kind'] or old['dispute_kind']}: "
                    f"{old['dispute_status'] or 'none'} → {row['dispute_status'] or 'none'}",
                    {"from": old["dispute_status"], "to": row["dispute_status"], "kind": row["dispute_kind"]},
                    actor,
                )
            )
        if old["return_waybill"] != case.return_waybill and case.return_waybill:
            changes["return_waybill"] = [old["return_waybill"], case.return_waybill]
            events.append(
                _event(
                    shop_id,
                    "after_sale",
                    ext,
                    at,
                    "return_shipped",
                    f"return waybill {case.return_waybill}",
                    {"waybill": case.return_waybill},
                    actor,
                )
            )
        if (old["deadline_due_at"], old["deadline_rule_id"]) != (
            row["deadline_due_at"],
            row["deadline_rule_id"],
        ):
            changes["deadline"] = [
                old["deadline_due_at"] and old["deadline_due_at"].isoformat(),
                row["deadline_due_at"] and row["deadline_due_at"].isoformat(),
            ]
            events.append(
                _event(
                    shop_id,
                    "after_sale",
                    ext,
                    at,
                    "deadline_changed",
                    f"deadline {row['deadline_action'] or 'none'} by "
                    f"{row['deadline_due_at'].isoformat() if row['deadline_due_at'] else '-'}",
                    {
                        "due_at": changes["deadline"][1],
                        "rule_id": row["deadline_rule_id"],
                        "source": row["deadline_source"],
                    },
                    actor,
                )
            )
        stats.changed_cases.append((case, changes))
    await insert_rows(conn, CASES, inserts)
    await update_rows(conn, CASES, updates)


async def _upsert_orders(
    conn: AsyncConnection,
    shop_id: int,
    orders: Sequence[Order],
    rules: RuleTable,
    settings: Mapping[str, str],
    stats: UpsertStats,
    events: list[dict[str, Any]],
    actor: str,
) -> None:
    orders = _dedupe_newest(orders)
    stored = await existing(
        conn,
        ORDERS,
        ORDER_COLS,
        shop_id,
        [o.external_id for o in orders],
    )
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for order in orders:
        old = stored.get(order.external_id)
        if old is not None and _older(order.updated_at, None, old["platform_updated_at"], None):
            stats.stale += 1
            continue
        data, content = content_digest(order, order_data(order))
        if old is not None and old["content_hash"] == content:
            stats.unchanged += 1
            continue
        # the order's own time for entering its status when it has one (paid_at for "paid" ...)
        stated = getattr(order, _ORDER_STATUS_TIME.get(order.status.value, ""), None)
        first_seen = stated or (order.updated_at if old is not None else order.created_at)
        since = _status_since(order, old, first_seen)
        action = next_action(order, rules, status_since=since, settings=settings)
        row = {
            "shop_id": shop_id,
            "external_id": order.external_id,
            "role": order.role.value,
            "status": order.status.value,
            "platform_status": order.platform_status,
            "buyer": order.buyer,
            "recipient_key": order.recipient_key,
            "total_fen": order.total_fen,
            "paid_fen": order.paid_fen,
            "created_at": order.created_at,
            "platform_updated_at": order.updated_at,
            "paid_at": order.paid_at,
            "shipped_at": order.shipped_at,
            "signed_at": order.signed_at,
            "completed_at": order.completed_at,
            "waybill": order.waybill,
            "remark": order.remark,
            "status_since": since,
            "data": data,
            "content_hash": content,
            **action_columns(action),
            "own_action": action_doc(action),
            "in_work": order_in_work(action),
            "work_due_at": action.due_at if action and action.due_at else NO_DEADLINE,
        }
        stats.touched_orders.add(order.external_id)
        if order.role.value == "purchase":
            stats.purchases_touched = True
        if old is None:
            stats.new += 1
            inserts.append(row)
            events.append(
                _event(
                    shop_id,
                    "order",
                    order.external_id,
                    order.created_at,
                    "created",
                    f"order {order.status.value} ({order.platform_status})",
                    {"status": order.status.value},
                    actor,
                )
            )
            continue
        stats.changed += 1
        updates.append({**row, "_id": old["id"]})
        if old["status"] != order.status.value:
            events.append(
                _event(
                    shop_id,
                    "order",
                    order.external_id,
                    order.updated_at,
                    "status_changed",
                    f"status {old['status']} → {order.status.value}",
                    {
                        "from": old["status"],
                        "to": order.status.value,
                        "status": order.status.value,
                        "deadline": prior_deadline(old),
                    },
                    actor,
                )
            )
    await insert_rows(conn, ORDERS, inserts)
    await update_rows(conn, ORDERS, updates)
