"""The after-sales ledger: per shop and Beijing day, the money after-sales moved.

Columns (fen internally; 元 with two decimals in files and pages), and the day each event counts on
(docs/operations.md, "The after-sales ledger", says the same for users):

* ``refunds``: sale-side cases of kind refund_only or return_refund, on the Beijing day of their
  first status change to ``succeeded`` (the platform reported the refund paid); the case's refund.
* ``compensation``: cases of kind compensation (补偿 / 补差价), same day rule.
* ``postage``: returns and exchanges whose reason or description names a merchant fault (quality,
  damage, wrong or missing item, not as described) and whose order carries no return-freight
  insurance: the merchant pays the return postage. Counted on the refund's day; the amount is the
  case's ``return_postage_fen`` fact where the platform reports one (else only the count).
* ``late_shipment``: orders whose ship-by clock (a merchant deadline, action ``ship``) had passed
  when they shipped; the penalty the rule computed, on the Beijing day of the shipment.
* ``upstream_refunds``: purchase-side cases (a sourcing platform such as 17网, where the merchant
  is the buyer) that succeeded: the refund received, on the day it succeeded, on the 17网 shop's row.
* ``goods_cost``: the goods cost behind a sale refund whose order is linked to 17网 purchases:
  the linked purchases' paid amount times the refunded share of the sale (refund / sale paid,
  rounded half up, at most the purchase amount), on the sale refund's day, on the sale shop's row.

Lost parcels (:func:`lost_parcels`) are counted per Beijing month of the case's creation.
The same stored data gives the same ledger: rows are sorted by day, then shop name.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import aliased

from .money import fen_to_yuan
from .reportdays import DayRange, beijing_day, beijing_month
from .reports import SHIP_ACTION, change_columns, missed_deadline, shops_in_scope
from .store.base import tbl
from .store.models import AfterSaleRecord, EventRecord, OrderLinkRecord, OrderRecord

C = tbl(AfterSaleRecord)
O = tbl(OrderRecord)  # noqa: E741
E = tbl(EventRecord)
L = tbl(OrderLinkRecord)

REFUND_KINDS = frozenset({"refund_only", "return_refund"})
RETURN_KINDS = frozenset({"return_refund", "exchange"})
#: words of a merchant-side fault: the merchant pays the return postage both ways (the platforms'
#: return-postage procedure the taobao and pinduoduo plugins explain on the case page)
FAULT_WORDS = ("质量", "破损", "瑕疵", "错发", "发错", "漏发", "少件", "描述不符", "假货", "坏")
#: words of a lost parcel in a case's reason or description
LOST_WORDS = ("丢件", "丢失", "遗失", "丢包", "快递丢", "包裹丢", "lost")
#: logistics states that mean the parcel is lost
LOST_STATES = frozenset({"lost"})


@dataclass
class LedgerRow:
    """One shop's one day. Amounts in fen."""

    day: str
    shop: str
    platform: str
    refunds: int = 0
    refunds_fen: int = 0
    compensation: int = 0
    compensation_fen: int = 0
    postage: int = 0
    postage_fen: int = 0
    late_shipment: int = 0
    late_shipment_fen: int = 0
    upstream_refunds: int = 0
    upstream_refunds_fen: int = 0
    goods_cost: int = 0
    goods_cost_fen: int = 0

    def empty(self) -> bool:
        return not any(
            getattr(self, f.name) for f in fields(self) if f.name not in ("day", "shop", "platform")
        )


#: (field, Chinese header) of the file columns, in order; ``*_fen`` columns are written in 元
COLUMNS: tuple[tuple[str, str], ...] = (
    ("day", "日期"),
    ("shop", "店铺"),
    ("platform", "平台"),
    ("refunds", "退款笔数"),
    ("refunds_fen", "退款金额(元)"),
    ("compensation", "补偿笔数"),
    ("compensation_fen", "补偿金额(元)"),
    ("postage", "承担退货运费笔数"),
    ("postage_fen", "承担退货运费(元)"),
    ("late_shipment", "延迟发货笔数"),
    ("late_shipment_fen", "延迟发货赔付(元)"),
    ("upstream_refunds", "17网退款笔数"),
    ("upstream_refunds_fen", "17网退款到账(元)"),
    ("goods_cost", "承担货款笔数"),
    ("goods_cost_fen", "承担货款(元)"),
)
MONEY_FIELDS = tuple(f for f, _ in COLUMNS if f.endswith("_fen"))


def _true(value: Any) -> bool:
    """A JSON boolean extracted in SQL: SQLite gives 1/0, PostgreSQL 'true'/'false'."""
    return value in (True, 1, "1", "true")


def _fen(value: Any) -> int:
    """A JSON integer extracted in SQL (a number on SQLite, its text on PostgreSQL); else 0."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return 0


def merchant_fault(reason: str | None, description: str | None) -> bool:
    """Whether a case's words name a merchant-side fault (quality, damage, wrong or missing item)."""
    text = f"{reason or ''} {description or ''}"
    return any(w in text for w in FAULT_WORDS)


def share(cost_fen: int, refund_fen: int, paid_fen: int) -> int:
    """The goods cost behind a refund: ``cost × refund / paid``, half up, at most ``cost``."""
    if paid_fen <= 0 or refund_fen >= paid_fen:
        return cost_fen
    value = (Decimal(cost_fen) * refund_fen / paid_fen).quantize(Decimal(1), ROUND_HALF_UP)
    return min(cost_fen, int(value))


async def build_ledger(
    engine: AsyncEngine,
    days: DayRange,
    *,
    shop_ids: Collection[int] | None,
    sourcing: Collection[str],
    include_empty: bool = False,
) -> list[LedgerRow]:
    """The ledger rows over ``days`` for the shops in scope. ``sourcing``: the platforms where the
    merchant is the buyer (their cases are refunds received). ``include_empty``: a row for every
    shop and day, also when nothing happened (the daily file)."""
    shops = await shops_in_scope(engine, shop_ids)
    ids = list(shops) or [-1]
    start, end = days.start, days.end
    rows: dict[tuple[str, int], LedgerRow] = {}

    def row(day: date, shop_id: int) -> LedgerRow:
        key = (day.isoformat(), shop_id)
        if key not in rows:
            name, platform = shops[shop_id]
            rows[key] = LedgerRow(day=key[0], shop=name, platform=platform)
        return rows[key]

    # each case counts once: on the day of its first status change to succeeded
    first_ok = (
        select(E.c.shop_id, E.c.external_id, func.min(E.c.at, type_=E.c.at.type).label("ok_at"))
        .where(
            E.c.subject == "after_sale",
            E.c.kind == "status_changed",
            E.c.data["to"].as_string() == "succeeded",
            E.c.shop_id.in_(ids),
        )
        .group_by(E.c.shop_id, E.c.external_id)
        .subquery()
    )
    sale = aliased(O)
    purchase = aliased(O)
    async with engine.connect() as conn:
        succeeded: Sequence[Any] = (
            await conn.execute(
                select(
                    first_ok.c.ok_at,
                    C.c.shop_id,
                    C.c.kind,
                    C.c.reason,
                    C.c.refund_fen,
                    # only the few JSON fields the columns read, extracted in SQL
                    C.c.data["description"].as_string().label("description"),
                    C.c.data[("facts", "return_postage_fen")].as_string().label("postage_fee"),
                    O.c.data[("facts", "has_yfx")].as_string().label("has_yfx"),
                    O.c.paid_fen.label("order_paid_fen"),
                    O.c.id.label("order_id"),
                )
                .select_from(
                    first_ok.join(
                        C, and_(C.c.shop_id == first_ok.c.shop_id, C.c.external_id == first_ok.c.external_id)
                    ).outerjoin(O, and_(O.c.shop_id == C.c.shop_id, O.c.external_id == C.c.order_external_id))
                )
                .where(first_ok.c.ok_at >= start, first_ok.c.ok_at < end)
            )
        ).all()
        order_ids = sorted({r.order_id for r in succeeded if r.order_id is not None})
        costs: dict[int, int] = {}
        for part in (order_ids[i : i + 500] for i in range(0, len(order_ids), 500)):
            for r in (
                await conn.execute(
                    select(L.c.sale_order_id, func.sum(purchase.c.paid_fen))
                    .select_from(L.join(purchase, purchase.c.id == L.c.purchase_order_id))
                    .where(L.c.sale_order_id.in_(part))
                    .group_by(L.c.sale_order_id)
                )
            ).all():
                costs[int(r[0])] = int(r[1] or 0)
        shipped: Sequence[Any] = (
            await conn.execute(
                select(E.c.at, E.c.shop_id, *change_columns(), sale.c.shipped_at)
                .select_from(
                    E.join(sale, and_(sale.c.shop_id == E.c.shop_id, sale.c.external_id == E.c.external_id))
                )
                .where(
                    E.c.subject == "order",
                    E.c.kind == "status_changed",
                    E.c.shop_id.in_(ids),
                    E.c.at >= start,
                    E.c.at < end,
                )
            )
        ).all()

    for r in succeeded:
        platform = shops[r.shop_id][1]
        r_row = row(beijing_day(r.ok_at), r.shop_id)
        if platform in sourcing:
            r_row.upstream_refunds += 1
            r_row.upstream_refunds_fen += r.refund_fen
            continue
        if r.kind == "compensation":
            r_row.compensation += 1
            r_row.compensation_fen += r.refund_fen
        elif r.kind in REFUND_KINDS:
            r_row.refunds += 1
            r_row.refunds_fen += r.refund_fen
            cost = costs.get(r.order_id) if r.order_id is not None else None
            if cost is not None:
                r_row.goods_cost += 1
                r_row.goods_cost_fen += share(cost, r.refund_fen, r.order_paid_fen or 0)
        if r.kind in RETURN_KINDS and merchant_fault(r.reason, r.description) and not _true(r.has_yfx):
            r_row.postage += 1
            r_row.postage_fen += _fen(r.postage_fee)

    for r in shipped:
        when = r.shipped_at if r.ev_to == "shipped" and r.shipped_at else r.at
        d = missed_deadline(r, when)
        if d is not None and d["action"] == SHIP_ACTION:
            o_row = row(beijing_day(r.at), r.shop_id)
            o_row.late_shipment += 1
            o_row.late_shipment_fen += d["penalty_fen"] or 0

    if include_empty:
        for day in days.days():
            for shop_id in shops:
                row(day, shop_id)
    out = [r for r in rows.values() if include_empty or not r.empty()]
    out.sort(key=lambda r: (r.day, r.shop))
    return out


def totals(rows: Sequence[LedgerRow]) -> dict[str, int]:
    """The sum of every count and amount over ``rows``."""
    names = [f.name for f in fields(LedgerRow) if f.name not in ("day", "shop", "platform")]
    return {n: sum(getattr(r, n) for r in rows) for n in names}


async def lost_parcels(
    engine: AsyncEngine, days: DayRange, *, shop_ids: Collection[int] | None
) -> list[dict[str, Any]]:
    """Cases opened in ``days`` whose reason, description or logistics state says the parcel was
    lost, per Beijing month and shop: ``[{month, shop, cases, refund_fen}]``."""
    shops = await shops_in_scope(engine, shop_ids)
    async with engine.connect() as conn:
        found: Sequence[Any] = (
            await conn.execute(
                select(
                    C.c.shop_id,
                    C.c.created_at,
                    C.c.reason,
                    C.c.refund_fen,
                    C.c.data["description"].as_string().label("description"),
                    C.c.data[("facts", "logistics_state")].as_string().label("fact_state"),
                    C.c.data["logistics_state"].as_string().label("state"),
                ).where(
                    C.c.shop_id.in_(list(shops) or [-1]),
                    C.c.created_at >= days.start,
                    C.c.created_at < days.end,
                )
            )
        ).all()
    acc: dict[tuple[str, str], list[int]] = {}
    for r in found:
        text = f"{r.reason or ''} {r.description or ''}".lower()
        state = r.fact_state or r.state
        if not (any(w in text for w in LOST_WORDS) or state in LOST_STATES):
            continue
        a = acc.setdefault((beijing_month(r.created_at), shops[r.shop_id][0]), [0, 0])
        a[0] += 1
        a[1] += r.refund_fen
    return [{"month": m, "shop": s, "cases": v[0], "refund_fen": v[1]} for (m, s), v in sorted(acc.items())]


def ledger_doc(days: DayRange, rows: Sequence[LedgerRow], lost: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The ledger as JSON-safe data (``hub ledger --json`` and ``GET /api/ledger``)."""
    return {
        "from": days.first.isoformat(),
        "to": days.last.isoformat(),
        "rows": [asdict(r) for r in rows],
        "totals": totals(rows),
        "lost_parcels": list(lost),
    }


def _cells(r: LedgerRow) -> list[str | int]:
    out: list[str | int] = []
    for name, _ in COLUMNS:
        value = getattr(r, name)
        out.append(fen_to_yuan(value) if name in MONEY_FIELDS else value)
    return out


def csv_bytes(rows: Sequence[LedgerRow]) -> bytes:
    """The ledger as CSV, UTF-8 with a BOM (Excel then opens the Chinese right); 元 with two decimals."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([h for _, h in COLUMNS])
    for r in rows:
        w.writerow(_cells(r))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def xlsx_bytes(rows: Sequence[LedgerRow], lost: Sequence[dict[str, Any]] = ()) -> bytes:
    """The ledger as an XLSX workbook: the ledger sheet (amounts as numbers formatted 0.00 元) and
    a lost-parcels sheet."""
    import xlsxwriter  # only when a workbook is asked for

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    money = book.add_format({"num_format": "0.00"})
    head = book.add_format({"bold": True})
    sheet = book.add_worksheet("售后账")
    for c, (_, h) in enumerate(COLUMNS):
        sheet.write_string(0, c, h, head)
    for i, r in enumerate(rows, start=1):
        for c, (name, _) in enumerate(COLUMNS):
            value = getattr(r, name)
            if name in MONEY_FIELDS:
                # written as the exact decimal text's number: 元 = fen / 100 has two decimals
                sheet.write_number(i, c, float(Decimal(value) / 100), money)
            elif isinstance(value, int):
                sheet.write_number(i, c, value)
            else:
                sheet.write_string(i, c, value)
    sheet.set_column(0, len(COLUMNS) - 1, 14)
    lost_sheet = book.add_worksheet("丢件")
    for c, h in enumerate(("月份", "店铺", "笔数", "金额(元)")):
        lost_sheet.write_string(0, c, h, head)
    for i, x in enumerate(lost, start=1):
        lost_sheet.write_string(i, 0, x["month"])
        lost_sheet.write_string(i, 1, x["shop"])
        lost_sheet.write_number(i, 2, x["cases"])
        lost_sheet.write_number(i, 3, float(Decimal(x["refund_fen"]) / 100), money)
    book.close()
    return buf.getvalue()


def write_atomically(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` through a temporary file in the same folder and a rename, so a
    reader never sees half a file and re-running replaces the file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def daily_name(day: date, fmt: str) -> str:
    """The daily file's name: ``ledger-YYYY-MM-DD.csv`` (or ``.xlsx``)."""
    return f"ledger-{day.isoformat()}.{fmt}"


def yesterday(now: datetime) -> date:
    """Yesterday in Beijing: the last complete day."""
    return date.fromordinal(beijing_day(now).toordinal() - 1)
