"""The ERP pass: make the documents the cases call for, then deliver them to every sink once.

Making is idempotent (one row per kind + case + step, unique in the database). Delivering claims
a (document, sink) row before sending: a new row is inserted as ``sending`` (the unique pair
stops a second process), a failed row is taken back with a conditional UPDATE once its back-off
has passed. ``delivered`` rows are never picked again; a ``sending`` row left by a process that
died is taken back after :data:`STALE_SENDING` (the sinks skip a number they already have).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import and_, func, insert, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from ..domain import Party
from ..store.base import tbl
from ..store.models import AfterSaleRecord, DisputeRecord, EventRecord, OrderRecord, ShopRecord
from .documents import STEPS, CaseState, build_body, history_of, steps_reached
from .records import DisputeClosingRecord, ErpDeliveryRecord, ErpDocumentRecord, ErpSinkRecord
from .sinks import DeliveryError, DocumentSink, SinkContext, sink_factories

log = structlog.get_logger("hub.erp")

CASES, ORDERS, SHOPS = tbl(AfterSaleRecord), tbl(OrderRecord), tbl(ShopRecord)
EVENTS, DISPUTES = tbl(EventRecord), tbl(DisputeRecord)
DOCS, DELIV, SINKS, CLOSINGS = (
    tbl(ErpDocumentRecord),
    tbl(ErpDeliveryRecord),
    tbl(ErpSinkRecord),
    tbl(DisputeClosingRecord),
)

#: closed cases older than this are not looked at again (an old database does not flood the ERP)
LOOKBACK = timedelta(days=30)
#: a ``sending`` claim older than this was left by a process that died: take it back
STALE_SENDING = timedelta(minutes=10)
#: attempts per delivery within one pass (tenacity, exponential wait from HUB_ERP_RETRY_WAIT s)
ATTEMPTS_PER_PASS = 3
#: the back-off between passes after a failed delivery: doubled per failure, capped
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)

#: the case columns the pass reads for every candidate (not the JSON bulk, not the next action)
_CASE_COLS = [
    CASES.c[n]
    for n in (
        "id",
        "shop_id",
        "external_id",
        "order_external_id",
        "line_external_id",
        "kind",
        "status",
        "reason",
        "refund_fen",
        "buyer",
        "return_waybill",
        "dispute_kind",
        "dispute_status",
        "status_since",
        "platform_updated_at",
    )
]

_KINDS_OF_INTEREST = ("refund_only", "compensation", "return_refund", "exchange", "reship")


def backoff(failures: int) -> timedelta:
    """How long after its ``failures``-th failed pass a delivery is tried again."""
    return min(BACKOFF_FIRST * (2 ** max(failures - 1, 0)), BACKOFF_MAX)


@dataclass
class PassResult:
    made: int = 0
    delivered: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"made": self.made, "delivered": self.delivered, "failed": self.failed, "errors": self.errors}


async def make_documents(
    engine: Any, now: datetime, shop_ids: Collection[int] | None = None, sourcing: Collection[str] = ()
) -> int:
    """Add the documents the cases' recorded state calls for and that do not exist yet; returns
    how many were added. Cases of ``sourcing`` platforms (where the merchant buys: a return there
    goes back to the supplier, a purchase matter) make none."""
    recent = now - LOOKBACK
    tracked = select(DISPUTES.c.after_sale_id)
    closed = select(CLOSINGS.c.after_sale_id)
    stmt = (
        select(*_CASE_COLS, SHOPS.c.name.label("shop_name"), SHOPS.c.platform.label("platform"))
        .join(SHOPS, SHOPS.c.id == CASES.c.shop_id)
        .where(
            or_(CASES.c.is_open.is_(True), CASES.c.platform_updated_at >= recent, CASES.c.id.in_(closed)),
            or_(
                CASES.c.kind.in_(_KINDS_OF_INTEREST),
                CASES.c.dispute_kind.is_not(None),
                CASES.c.id.in_(tracked),
                CASES.c.id.in_(closed),
            ),
        )
    )
    if shop_ids is not None:
        stmt = stmt.where(CASES.c.shop_id.in_(list(shop_ids) or [-1]))
    if sourcing:
        stmt = stmt.where(SHOPS.c.platform.not_in(list(sourcing)))
    made = 0
    async with engine.connect() as conn:
        cases = (await conn.execute(stmt)).all()
        if not cases:
            return 0
        ids = [c.id for c in cases]
        have: set[tuple[str, int, str]] = set()
        tracked_ids: set[int] = set()
        closings: dict[int, Any] = {}
        for part in _chunks(ids):
            have |= {
                (r.kind, r.after_sale_id, r.step)
                for r in await conn.execute(
                    select(DOCS.c.kind, DOCS.c.after_sale_id, DOCS.c.step).where(
                        DOCS.c.after_sale_id.in_(part)
                    )
                )
            }
            tracked_ids |= {
                r[0]
                for r in await conn.execute(
                    select(DISPUTES.c.after_sale_id).where(DISPUTES.c.after_sale_id.in_(part))
                )
            }
            for r in await conn.execute(select(CLOSINGS).where(CLOSINGS.c.after_sale_id.in_(part))):
                closings[r.after_sale_id] = r
        histories = await _histories(
            conn, [c for c in cases if c.kind in ("return_refund", "reship") and c.status in _HISTORY_MATTERS]
        )
        new: list[dict[str, Any]] = []
        todo: list[tuple[Any, list[tuple[str, str]]]] = []
        for c in cases:
            state = CaseState(
                id=c.id,
                kind=c.kind,
                status=c.status,
                reason=c.reason,
                return_waybill=c.return_waybill,
                has_dispute=bool(c.dispute_kind) or c.id in tracked_ids,
                has_closing=c.id in closings,
                history=(),
            )
            if c.kind in ("return_refund", "reship") and c.status in _HISTORY_MATTERS:
                # the status history shows a step the current status alone does not (agreed,
                # then closed without a return parcel)
                state = replace(
                    state, history=tuple(history_of(histories.get((c.shop_id, c.external_id), [])))
                )
            wanted = [s for s in steps_reached(state) if (s[0], c.id, s[1]) not in have]
            if wanted:
                todo.append((c, wanted))
        # the bulk (facts) only of the cases that get a document (most passes need none), read
        # together: a sync's statements stay amortised per record
        case_data: dict[int, Any] = {}
        order_data: dict[tuple[int, str], Any] = {}
        for part_cases in _chunks([c for c, _ in todo]):
            for r in await conn.execute(
                select(CASES.c.id, CASES.c.data).where(CASES.c.id.in_([c.id for c in part_cases]))
            ):
                case_data[r.id] = r.data
            for shop_id in {c.shop_id for c in part_cases}:
                wanted_orders = [c.order_external_id for c in part_cases if c.shop_id == shop_id]
                for r in await conn.execute(
                    select(ORDERS.c.external_id, ORDERS.c.data).where(
                        ORDERS.c.shop_id == shop_id, ORDERS.c.external_id.in_(wanted_orders)
                    )
                ):
                    order_data[(shop_id, r.external_id)] = r.data
        for c, wanted in todo:
            data = case_data.get(c.id)
            order_json = order_data.get((c.shop_id, c.order_external_id))
            step_at = c.status_since or c.platform_updated_at
            for kind, step in wanted:
                closing = closings.get(c.id)
                at = closing.closed_at if kind == "dispute" and step == "closed" and closing else step_at
                body = build_body(
                    kind=kind,
                    step=step,
                    case=c,
                    case_data=data,
                    shop=c.shop_name,
                    platform=c.platform,
                    order_data=order_json,
                    closing=closing,
                    step_at=at,
                    created_at=now,
                )
                new.append(
                    {
                        "number": body["number"],
                        "kind": kind,
                        "step": step,
                        "after_sale_id": c.id,
                        "shop_id": c.shop_id,
                        "amount_fen": int(body.get("amount_fen") or 0),
                        "body": body,
                        "created_at": now,
                    }
                )
    # in step order, so the ERP reads a return's register before its receipt
    order_of = {(k, s): i for k, steps in STEPS.items() for i, s in enumerate(steps)}
    new.sort(key=lambda d: (d["after_sale_id"], d["kind"], order_of[(d["kind"], d["step"])]))
    if not new:
        return made
    # one statement per 500: a document another process made first is the same document (its
    # number and its (kind, case, step) are unique), so a conflict is skipped, not an error
    insert_of = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    add_docs = insert_of(DOCS).on_conflict_do_nothing()
    async with engine.begin() as conn:
        before = await _count_numbers(conn, [d["number"] for d in new])
        for part in _chunks(new):
            await conn.execute(add_docs, part)
        made += await _count_numbers(conn, [d["number"] for d in new]) - before
    return made


async def _count_numbers(conn: Any, numbers: list[str]) -> int:
    """How many of these document numbers exist."""
    total = 0
    for part in _chunks(numbers):
        total += (
            await conn.execute(select(func.count()).select_from(DOCS).where(DOCS.c.number.in_(part)))
        ).scalar_one()
    return total


#: statuses in which only the history tells whether a return was agreed (registered) before
_HISTORY_MATTERS = frozenset({"requested", "seller_refused", "platform_review", "closed"})


async def _histories(conn: Any, cases: list[Any]) -> dict[tuple[int, str], list[Any]]:
    """The status events of these cases, (shop id, external id) -> events oldest first: one query
    per shop and 500 cases, not one per case."""
    out: dict[tuple[int, str], list[Any]] = {}
    by_shop: dict[int, list[str]] = {}
    for c in cases:
        by_shop.setdefault(c.shop_id, []).append(c.external_id)
    for shop_id, exts in by_shop.items():
        for i in range(0, len(exts), 500):
            rows = await conn.execute(
                select(EVENTS.c.external_id, EVENTS.c.data)
                .where(
                    EVENTS.c.shop_id == shop_id,
                    EVENTS.c.subject == "after_sale",
                    EVENTS.c.external_id.in_(exts[i : i + 500]),
                    EVENTS.c.kind.in_(("status_changed", "created")),
                )
                .order_by(EVENTS.c.at, EVENTS.c.id)
            )
            for ext, data in rows:
                out.setdefault((shop_id, ext), []).append(_Event(data))
    return out


@dataclass(frozen=True)
class _Event:
    data: dict[str, Any]


def _chunks(items: list[Any], n: int = 500) -> list[list[Any]]:
    return [items[i : i + n] for i in range(0, len(items), n)]


def sink_matches(sink: Any, shop: str, kind: str) -> bool:
    return (not sink.shops or shop in sink.shops) and (not sink.kinds or kind in sink.kinds)


async def deliver_pending(
    hub: Any,
    now: datetime,
    *,
    shop_ids: Collection[int] | None = None,
    sink_names: Collection[str] | None = None,
    ignore_backoff: bool = False,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> PassResult:
    """Deliver every document not yet delivered to each matching sink (failed ones whose back-off
    passed, or all failed ones with ``ignore_backoff``)."""
    result = PassResult()
    factories = sink_factories(hub.pm)
    async with hub.engine.connect() as conn:
        sinks = (await conn.execute(select(SINKS).order_by(SINKS.c.id))).all()
    if sink_names is not None:
        sinks = [s for s in sinks if s.name in sink_names]
    context = SinkContext(http=hub.http, home=hub.settings.home)
    wait_base = float(os.environ.get("HUB_ERP_RETRY_WAIT", "1"))
    for srow in sinks:
        factory = factories.get(srow.kind)
        if factory is None:
            result.errors.append(f"sink {srow.name}: no sink kind {srow.kind!r} is installed")
            continue
        try:
            sink = factory(srow.name, dict(srow.config or {}), context)
        except Exception as err:
            result.errors.append(f"sink {srow.name}: {err}")
            continue
        try:
            await _deliver_to(hub, sink, srow, now, shop_ids, ignore_backoff, wait_base, sleep, result)
        finally:
            await sink.close()
    return result


async def _deliver_to(
    hub: Any,
    sink: DocumentSink,
    srow: Any,
    now: datetime,
    shop_ids: Collection[int] | None,
    ignore_backoff: bool,
    wait_base: float,
    sleep: Callable[[float], Awaitable[None]] | None,
    result: PassResult,
) -> None:
    j = DOCS.outerjoin(DELIV, and_(DELIV.c.document_id == DOCS.c.id, DELIV.c.sink_id == srow.id))
    due = or_(
        DELIV.c.id.is_(None),
        and_(DELIV.c.status == "failed", true() if ignore_backoff else DELIV.c.next_attempt_at <= now),
        and_(DELIV.c.status == "sending", DELIV.c.updated_at < now - STALE_SENDING),
    )
    stmt = (
        select(
            DOCS,
            SHOPS.c.name.label("shop_name"),
            DELIV.c.id.label("delivery_id"),
            DELIV.c.status.label("dstatus"),
            DELIV.c.updated_at.label("dupdated"),
        )
        .select_from(j.join(SHOPS, SHOPS.c.id == DOCS.c.shop_id))
        .where(due)
        .order_by(DOCS.c.id)
    )
    if shop_ids is not None:
        stmt = stmt.where(DOCS.c.shop_id.in_(list(shop_ids) or [-1]))
    if srow.kinds:
        stmt = stmt.where(DOCS.c.kind.in_(list(srow.kinds)))
    if srow.shops:
        stmt = stmt.where(SHOPS.c.name.in_(list(srow.shops)))
    async with hub.engine.connect() as conn:
        docs = (await conn.execute(stmt)).all()
    for d in docs:
        if not await _claim(hub.engine, d, srow.id, now):
            continue  # another process has it
        error: str | None = None
        try:
            retrying = AsyncRetrying(
                stop=stop_after_attempt(ATTEMPTS_PER_PASS),
                wait=wait_exponential(multiplier=wait_base, max=30 * wait_base),
                retry=retry_if_exception_type(DeliveryError),
                reraise=True,
            )
            if sleep is not None:
                retrying = retrying.copy(sleep=sleep)  # type: ignore[arg-type]
            async for attempt in retrying:
                with attempt:
                    await sink.deliver(d.body)
        except DeliveryError as err:
            error = str(err) or type(err).__name__
        except Exception as err:  # a sink plugin's bug: this delivery fails, named, the rest go on
            error = f"{type(err).__name__}: {err}"
        async with hub.engine.begin() as conn:
            if error is None:
                await conn.execute(
                    update(DELIV)
                    .where(DELIV.c.document_id == d.id, DELIV.c.sink_id == srow.id)
                    .values(
                        status="delivered",
                        attempts=DELIV.c.attempts + 1,
                        error=None,
                        next_attempt_at=None,
                        delivered_at=hub.now(),
                        updated_at=hub.now(),
                    )
                )
            else:
                row = (
                    await conn.execute(
                        select(DELIV.c.attempts).where(
                            DELIV.c.document_id == d.id, DELIV.c.sink_id == srow.id
                        )
                    )
                ).first()
                failures = (row.attempts if row else 0) + 1
                await conn.execute(
                    update(DELIV)
                    .where(DELIV.c.document_id == d.id, DELIV.c.sink_id == srow.id)
                    .values(
                        status="failed",
                        attempts=failures,
                        error=error[:1000],
                        next_attempt_at=now + backoff(failures),
                        updated_at=hub.now(),
                    )
                )
        if error is None:
            result.delivered += 1
        else:
            result.failed += 1
            log.warning("erp_delivery_failed", sink=srow.name, document=d.number, error=error)


async def _claim(engine: Any, d: Any, sink_id: int, now: datetime) -> bool:
    """Take the (document, sink) delivery for this process: True when it is ours to send."""
    try:
        async with engine.begin() as conn:
            if d.delivery_id is None:
                await conn.execute(
                    insert(DELIV).values(
                        document_id=d.id, sink_id=sink_id, status="sending", attempts=0, updated_at=now
                    )
                )
                return True
            res = await conn.execute(
                update(DELIV)
                # the row as this process read it: of two processes taking back the same claim,
                # only the first one's UPDATE matches
                .where(
                    DELIV.c.id == d.delivery_id, DELIV.c.status == d.dstatus, DELIV.c.updated_at == d.dupdated
                )
                .values(status="sending", updated_at=now)
            )
            return bool(res.rowcount)
    except IntegrityError:
        return False


async def run_erp_pass(
    hub: Any,
    shop_ids: Collection[int] | None = None,
    *,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> PassResult:
    """Make the documents the cases call for, then deliver what is pending (one shop's, or all)."""
    now = hub.now()
    sourcing = [pid for pid, info in hub.registry.platforms.items() if info.merchant_side is Party.BUYER]
    made = await make_documents(hub.engine, now, shop_ids, sourcing)
    result = await deliver_pending(hub, now, shop_ids=shop_ids, sleep=sleep)
    result.made = made
    if made or result.delivered or result.failed:
        log.info("erp_pass", **result.as_dict())
    return result
