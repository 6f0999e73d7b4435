"""The return chain: what a buyer's return downstream (Taobao, Pinduoduo) asks of the merchant on 17网.

When the goods a buyer returns were bought through 17网 代发, the merchant must return them to the
stall through 17网, whose rules differ [seed 003]: apply online before the parcel reaches 代发,
enter the return's own tracking number, extend the 12-day auto-confirm before it lapses (after
trade success no online return is possible), claim a parcel within 15 days or it is scrapped; and
17网 refunds only what the stall takes back, at the stall's current price. This module lists those
upstream steps with their due times and warns of the conflicts, before the merchant agrees
downstream. Pure: no IO; the clock comes in as ``now``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hub.clock import parse_duration
from hub.domain import AfterSale, AfterSaleKind, AfterSaleStatus, Order, OrderStatus
from hub.money import fen_to_yuan

from .eligibility import Eligibility, Item, Policy, ReturnLine, Verdict, assess
from .rules import PROCESSING_DEFAULT, PROCESSING_SETTING
from .state import EXTENSION_MAX

SEED = "seeds/003 售后代发"
TRANSIT_SETTING = "return_transit"
TRANSIT_DEFAULT = "2d"  #: the quickest a return parcel reaches 代发 (shop setting; not a platform figure)
SCRAP_AFTER = timedelta(days=15)


@dataclass(frozen=True)
class Step:
    code: str
    title_zh: str
    title_en: str
    source: str
    due_at: datetime | None = None
    done: bool = False
    body: str = ""


@dataclass(frozen=True)
class Conflict:
    code: (
        str  #: auto_confirm_before_arrival, trade_success, not_returnable, partly_returnable, price_drop, ...
    )
    level: str  #: warning or danger
    title: str
    body: str
    source: str
    amount_fen: int | None = None
    due_at: datetime | None = None


@dataclass(frozen=True)
class Purchase:
    """A 17网 purchase behind the sale, with its 17网 cases and the 17网 shop's settings."""

    order: Order
    cases: Sequence[AfterSale] = ()
    settings: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    purchase: Purchase
    steps: tuple[Step, ...]
    conflicts: tuple[Conflict, ...]
    eligibility: Eligibility | None
    arrival_at: datetime | None


def _dt(value: object) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


def _setting(settings: Mapping[str, str], name: str, default: str) -> timedelta:
    try:
        return parse_duration(settings.get(name) or default)
    except ValueError:
        return parse_duration(default)


def items(order: Order) -> list[Item]:
    return [Item.from_fact(i) for i in order.facts.get("items") or []]


def returned_lines(
    sale_case: AfterSale | None, sale_order: Order | None, purchase: Order
) -> list[ReturnLine]:
    """The purchase lines behind the sale case's goods: matched by colour/size, else all of them."""
    all_items = items(purchase)
    condition = ""
    if sale_case is not None:
        condition = " ".join(str(sale_case.facts.get(k) or "") for k in ("condition", "goods_condition"))
        condition += f" {sale_case.reason or ''} {sale_case.description or ''}"
    if sale_case is not None and sale_order is not None and sale_case.line_external_id:
        line = next((ln for ln in sale_order.lines if ln.external_id == sale_case.line_external_id), None)
        if line is not None:
            text = "".join(f"{line.sku_name or ''}{line.title}".split()).lower()
            matches = [
                i
                for i in all_items
                if i.color and i.size and i.color.lower() in text and i.size.lower() in text
            ]
            if matches:
                qty = line.quantity
                out = []
                for item in matches:
                    take = min(item.quantity, qty)
                    if take:
                        out.append(ReturnLine(item, take, condition))
                    qty -= take
                if out:
                    return out
    return [ReturnLine(i, i.quantity, condition) for i in all_items if i.quantity > 0]


def _purchase_case(purchase: Purchase) -> AfterSale | None:
    """The 17网 case for this purchase that is still going (else the latest one)."""
    cases = sorted(purchase.cases, key=lambda c: c.updated_at)
    open_cases = [c for c in cases if c.status.is_open]
    chosen = open_cases or cases
    return chosen[-1] if chosen else None


def arrival_estimate(sale_case: AfterSale | None, now: datetime, transit: timedelta) -> datetime | None:
    """The earliest the buyer's parcel can reach 代发: shipped + transit, or now + transit if not shipped."""
    if sale_case is None or sale_case.kind in (AfterSaleKind.REFUND_ONLY, AfterSaleKind.COMPENSATION):
        return None
    if sale_case.status is AfterSaleStatus.RETURN_SHIPPED:
        shipped = _dt(sale_case.facts.get("return_shipped_at")) or sale_case.updated_at
        return shipped + transit
    if sale_case.status in (
        AfterSaleStatus.REQUESTED,
        AfterSaleStatus.AWAITING_RETURN,
        AfterSaleStatus.SELLER_REFUSED,
        AfterSaleStatus.PLATFORM_REVIEW,
    ):
        return now + transit
    return None


def plan(
    purchase: Purchase,
    now: datetime,
    *,
    sale_case: AfterSale | None = None,
    sale_order: Order | None = None,
) -> Plan:
    """The upstream steps and conflicts for one purchase, for a downstream case or on its own."""
    order = purchase.order
    settings = purchase.settings
    policy = Policy.from_settings(settings)
    transit = _setting(settings, TRANSIT_SETTING, TRANSIT_DEFAULT)
    processing = _setting(settings, PROCESSING_SETTING, PROCESSING_DEFAULT)
    case = _purchase_case(purchase)
    cf = case.facts if case else {}
    applied = bool(cf.get("applied")) and case is not None and case.status is not AfterSaleStatus.CLOSED
    stage = str(cf.get("stage") or "")
    auto_confirm = _dt(order.facts.get("auto_confirm_at"))
    extended = bool(order.facts.get("receipt_extended"))
    completed = order.status is OrderStatus.COMPLETED
    arrival = arrival_estimate(sale_case, now, transit)
    goods_come_back = sale_case is None or sale_case.kind not in (
        AfterSaleKind.REFUND_ONLY,
        AfterSaleKind.COMPENSATION,
    )

    lines = returned_lines(sale_case, sale_order, order)
    if case is not None and sale_case is None:
        q = int(cf.get("quantity") or 0)
        line = cf.get("line") or {}
        chosen = [
            rl
            for rl in lines
            if all(
                not line.get(k) or getattr(rl.item, k) == line.get(k) for k in ("style_no", "color", "size")
            )
        ]
        if chosen and q:
            lines = [ReturnLine(chosen[0].item, q, str(cf.get("condition") or ""))]
    elig = assess(lines, items(order), policy, trade_success=completed and not applied) if lines else None

    steps: list[Step] = []
    conflicts: list[Conflict] = []
    if not goods_come_back:
        cost = sum(rl.item.unit_price_fen * rl.quantity for rl in lines)
        conflicts.append(
            Conflict(
                "refund_only_downstream",
                "warning",
                "Refund without return: nothing goes back to the stall",
                f"The buyer keeps the goods, so 17网 refunds nothing: "
                f"you carry the ¥{fen_to_yuan(cost)} paid for them.",
                f"{SEED} 退货流程",
                amount_fen=cost,
            )
        )
        return Plan(purchase, (), tuple(conflicts), elig, None)

    at_stall = stage in ("signed", "refunding", "accepted", "refused", "sent_back")
    waybill_done = bool(case and case.return_waybill) or at_stall
    steps.append(
        Step(
            "ask_stall",
            "先联系档口,确认货品支持正常退货",
            "Ask the stall first whether it takes this back",
            f"{SEED} 退货流程(1), 备注(4)",
            done=applied,
        )
    )
    apply_due = min((t for t in (arrival, auto_confirm if not completed else None) if t), default=None)
    steps.append(
        Step(
            "apply_online",
            "在17网线上申请退货(订单管理 → 订单详情 → 退款退货)",
            "Apply online on 17网 (订单管理 → 订单详情 → 退款退货) before the parcel arrives",
            f"{SEED} 退货流程(2)(3)",
            due_at=None if applied else apply_due,
            done=applied,
        )
    )
    steps.append(
        Step(
            "return_address",
            "代发同意后获得退货地址,按地址寄回",
            "Once 代发 agrees, send the goods to the address it gives",
            f"{SEED} 退货流程(2)",
            done=stage in ("agreed", "shipped") or at_stall,
            body=str(cf.get("return_address") or ""),
        )
    )
    buyer_waybill = sale_case.return_waybill if sale_case else None
    steps.append(
        Step(
            "enter_waybill",
            "填写退回来的快递单号,而非17网寄出的快递单号",
            "Enter the return parcel's own tracking number (not 17网's outbound one)",
            f"{SEED} 备注(2)",
            due_at=None if waybill_done else arrival,
            done=waybill_done,
            body=f"buyer's return waybill: {buyer_waybill}" if buyer_waybill else "",
        )
    )
    if order.status is OrderStatus.SHIPPED and auto_confirm is not None:
        steps.append(
            Step(
                "extend_receipt",
                "延长收货(一次,最多7天),以免自动确认收货后无法线上退货",
                "Extend receipt (once, at most 7 days) before 17网 auto-confirms",
                f"{SEED} 备注(1)",
                due_at=None if extended or applied else auto_confirm,
                done=extended,
            )
        )
    unclaimed = _dt(cf.get("unclaimed_since"))
    claim_due = (
        unclaimed + SCRAP_AFTER if unclaimed else (arrival + SCRAP_AFTER if arrival and not applied else None)
    )
    steps.append(
        Step(
            "claim_within_15d",
            "包裹到代发仓库但未线上申请:15天内认领,否则报废",
            "A parcel at 代发 without an application is scrapped after 15 days: claim it",
            f"{SEED} 备注(3)",
            due_at=None if waybill_done and applied else claim_due,
            done=applied and waybill_done,
        )
    )
    signed = _dt(cf.get("daifa_signed_at"))
    if signed:  # only once 代发 holds the parcel
        steps.append(
            Step(
                "stall_processing",
                "代发签收后3-5天内拿到档口处理",
                "代发 takes it to the stall within 3-5 days of signing",
                f"{SEED} 退货流程(4)",
                due_at=signed + processing if not unclaimed else None,
                done=stage in ("accepted", "refused", "sent_back", "refunding"),
            )
        )

    if completed and not applied:
        cost = elig.cost_fen if elig else order.paid_fen
        conflicts.append(
            Conflict(
                "trade_success",
                "danger",
                "17网 already confirmed receipt: no online return",
                f"The 17网 order succeeded, so it takes no online return: you carry ¥{fen_to_yuan(cost)} "
                "unless the stall agrees off-platform.",
                f"{SEED} 备注(1)",
                amount_fen=cost,
            )
        )
    elif (
        not applied
        and auto_confirm is not None
        and order.status is OrderStatus.SHIPPED
        and arrival is not None
        and auto_confirm < arrival
    ):
        can_extend = not extended and auto_confirm + EXTENSION_MAX >= arrival
        body = (
            f"17网 auto-confirms at {auto_confirm.isoformat()}, before the buyer's parcel can arrive "
            f"(about {arrival.isoformat()}). "
            + (
                "Extend receipt now (once, up to 7 days), then apply online."
                if can_extend
                else "Apply online now: an extension cannot cover the wait."
            )
        )
        conflicts.append(
            Conflict(
                "auto_confirm_before_arrival",
                "danger",
                "17网 would auto-confirm before the return arrives",
                body,
                f"{SEED} 备注(1)",
                due_at=auto_confirm,
            )
        )
    if case is not None and case.status is AfterSaleStatus.SELLER_REFUSED:
        cost = elig.cost_fen if elig else 0
        conflicts.append(
            Conflict(
                "upstream_refused",
                "danger",
                "The stall refused the return",
                f"17网 refunds nothing; the goods come back to you: you carry ¥{fen_to_yuan(cost)}.",
                f"{SEED} 退货流程(4)",
                amount_fen=cost,
            )
        )
    if elig is not None and not (completed and not applied):
        refused = list(elig.reasons)
        refused_cost = elig.refused_cost_fen
        if elig.verdict is not Verdict.RETURNABLE and refused:
            why = "; ".join(r.text_en for r in refused)
            level = "danger"
            code = "not_returnable" if elig.returnable == 0 else "partly_returnable"
            title = (
                "Not returnable to the stall"
                if elig.returnable == 0
                else f"Only {elig.returnable} of {elig.total} pieces go back to the stall"
            )
            conflicts.append(
                Conflict(
                    code,
                    level,
                    title,
                    f"{why}. Before you agree downstream: "
                    f"you carry ¥{fen_to_yuan(refused_cost)} for the pieces "
                    "the stall keeps refusing.",
                    "; ".join(dict.fromkeys(r.source for r in refused)),
                    amount_fen=refused_cost,
                )
            )
        drop = elig.price_drop_fen
        if drop > 0:
            downstream = sale_case.refund_fen if sale_case else None
            conflicts.append(
                Conflict(
                    "price_drop",
                    "warning",
                    "17网 refunds the stall's current price, lower than paid",
                    f"The stall's price dropped: 17网 refunds ¥{fen_to_yuan(elig.expected_refund_fen)} "
                    "for what cost "
                    f"¥{fen_to_yuan(elig.returnable_cost_fen)}; you carry ¥{fen_to_yuan(drop)}"
                    + (f" while refunding the buyer ¥{fen_to_yuan(downstream)}." if downstream else "."),
                    f"{SEED} 退货都能按照买的原价退吗",
                    amount_fen=drop,
                )
            )
    if sale_case is not None and sale_case.kind is AfterSaleKind.EXCHANGE:
        conflicts.append(
            Conflict(
                "downstream_exchange",
                "warning",
                "17网 has no exchange",
                "Upstream this is a return plus a new 17网 order for the replacement: "
                "apply the return, then order again.",
                f"{SEED} 可以换货吗",
            )
        )
    return Plan(purchase, tuple(steps), tuple(conflicts), elig, arrival)
