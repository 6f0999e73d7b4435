"""The return chain: what a buyer's return downstream (Taobao, Pinduoduo) asks of the merchant on 17网.

When the goods a buyer returns were bought through 17网 代发, the merchant must return them to the
stall through 17网, whose rules differ (17网's dropship after-sales FAQ): apply online before the
parcel reaches 代发, enter the return's own tracking number, extend the 12-day auto-confirm before
it lapses (after trade success no online return is possible), claim a parcel within 15 days or
it is scrapped; and 17网 refunds only what the stall takes back, at the stall's current price.
This module lists those upstream steps with their due times and warns of the conflicts, before the
merchant agrees downstream; and flags a 17网 shortage against the linked sale's ship deadline.
Pure: no IO; the clock comes in as ``now``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hub.clock import CST, parse_duration
from hub.domain import AfterSale, AfterSaleKind, AfterSaleStatus, Order, OrderStatus
from hub.money import fen_to_yuan

from .eligibility import Eligibility, Item, Policy, ReturnLine, Verdict, assess
from .rules import FAQ, PROCESSING_DEFAULT, PROCESSING_SETTING
from .state import EXTENSION_MAX

TRANSIT_SETTING = "return_transit"
TRANSIT_DEFAULT = "2d"  #: the quickest a return parcel reaches 代发 (shop setting; not a platform figure)
SCRAP_AFTER = timedelta(days=15)
#: shop policy: the sale's ship window from payment, for a linked sale order that states no ship
#: deadline of its own (the stricter of the common windows; the sale's platform may allow more)
SALE_SHIP_SETTING = "sale_ship_window"
SALE_SHIP_DEFAULT = "48h"
#: 下单三天有货先发: 代发 keeps trying for 3 days after the order, then ships what is in stock
SHIP_AVAILABLE_AFTER = timedelta(days=3)
#: facts a sale platform may give an unshipped order for its ship-by time, tried in order
SALE_SHIP_FACTS = ("ship_due_at", "ship_by", "promised_ship_at", "last_ship_time")


def beijing(value: datetime) -> str:
    """A time as the agent reads it in a text: Beijing time to the minute, e.g. ``11月24日 10:32``.

    The exact time goes in ``Insight.due_at``; texts never carry ISO times."""
    t = value.astimezone(CST)
    return f"{t.month}月{t.day}日 {t:%H:%M}"


def yuan(fen: int) -> str:
    return f"¥{fen_to_yuan(fen)}"


@dataclass(frozen=True)
class PurchaseMoney:
    """What the merchant paid 17网 for an order, split the way 17网 refunds it (the FAQ's "is a
    return refunded at the price paid": the stall refunds its current price): the goods (货款) can
    come back at the stall's current price, never more than paid; postage and the 代发 fee do not."""

    paid_fen: int  #: the order's total (实付金额), what the linked purchase shows as paid
    goods_fen: int  #: the goods at the prices paid (单价 × 数量)
    fees_fen: int  #: the rest: postage and 代发 fee
    postage_fen: int | None = None
    service_fee_fen: int | None = None

    @classmethod
    def of(cls, order: Order) -> PurchaseMoney:
        goods = sum(line.paid_fen for line in order.lines)
        paid = order.paid_fen or order.total_fen
        postage, fee = order.facts.get("postage_fen"), order.facts.get("service_fee_fen")
        return cls(
            paid_fen=paid,
            goods_fen=goods,
            fees_fen=max(paid - goods, 0),
            postage_fen=None if postage is None else int(postage),
            service_fee_fen=None if fee is None else int(fee),
        )

    def fees_text(self) -> str:
        """``运费 ¥5.00、代发费 ¥3.00`` when the export gives both, else ``运费/代发费 ¥8.00``."""
        if (
            self.postage_fen is not None
            and self.service_fee_fen is not None
            and self.postage_fen + self.service_fee_fen == self.fees_fen
        ):
            parts = [
                f"{name} {yuan(fen)}"
                for name, fen in (("运费", self.postage_fen), ("代发费", self.service_fee_fen))
                if fen
            ]
            return "、".join(parts)
        return f"运费/代发费 {yuan(self.fees_fen)}"

    def fee_note(self) -> str:
        """``（本单另付运费 ¥5.00、代发费 ¥3.00，退货不退）``, or nothing when no fee was paid."""
        return f"（本单另付{self.fees_text()}，退货不退）" if self.fees_fen else ""

    def breakdown(self) -> str:
        """``实付 ¥30.00 = 货款 ¥22.00 + 运费 ¥5.00、代发费 ¥3.00``: the total is not only the goods."""
        if not self.fees_fen:
            return f"实付 {yuan(self.paid_fen)}（全为货款）"
        return f"实付 {yuan(self.paid_fen)} = 货款 {yuan(self.goods_fen)} + {self.fees_text()}"


@dataclass(frozen=True)
class Step:
    code: str
    title: str  #: what the agent reads (Chinese)
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
        # when the buyer shipped, by the platform's own time; never the record's modified time
        # (a later message would move the estimate): else when the case entered the status, else
        # when it was opened, the earliest the parcel can have left
        f = sale_case.facts
        shipped = (
            _dt(f.get("return_shipped_at"))
            or _dt(f.get("good_return_time"))
            or _dt(f.get("status_since"))
            or sale_case.created_at
        )
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
    money = PurchaseMoney.of(order)
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
    elig = (
        assess(lines, items(order), policy, trade_success=completed and not applied, applied=applied)
        if lines
        else None
    )

    steps: list[Step] = []
    conflicts: list[Conflict] = []
    if not goods_come_back:
        cost = sum(rl.item.unit_price_fen * rl.quantity for rl in lines)
        conflicts.append(
            Conflict(
                "refund_only_downstream",
                "warning",
                "买家仅退款不退货：货不回档口，17网不退款",
                f"买家不退货，17网就没有可退的货，不会退款：这批货的货款 {yuan(cost)} 由你承担"
                f"{money.fee_note()}。",
                f"{FAQ}, return flow",
                amount_fen=cost,
            )
        )
        return Plan(purchase, (), tuple(conflicts), elig, None)

    at_stall = stage in ("signed", "refunding", "accepted", "refused", "sent_back")
    waybill_done = bool(case and case.return_waybill) or at_stall
    steps.append(
        Step(
            "ask_stall",
            "先联系档口，确认这款货能正常退",
            f"{FAQ}, return flow (1) and note (4): ask the stall first",
            done=applied,
            body="申请退货前先问档口，可降低退货失败的几率。",
        )
    )
    apply_due = min((t for t in (arrival, auto_confirm if not completed else None) if t), default=None)
    steps.append(
        Step(
            "apply_online",
            "在17网线上申请退货（订单管理 → 订单详情 → 退款退货）",
            f"{FAQ}, return flow (2)(3): apply online",
            due_at=None if applied else apply_due,
            done=applied,
            body="要赶在退货包裹到代发仓之前、17网自动确认收货之前申请。",
        )
    )
    steps.append(
        Step(
            "return_address",
            "代发同意后会给退货地址，退货按这个地址寄回",
            f"{FAQ}, return flow (2): 代发 gives the return address",
            done=stage in ("agreed", "shipped") or at_stall,
            body=f"退货地址：{cf['return_address']}" if cf.get("return_address") else "",
        )
    )
    buyer_waybill = sale_case.return_waybill if sale_case else None
    steps.append(
        Step(
            "enter_waybill",
            "在17网填写退回来的快递单号，不是17网寄出的快递单号",
            f"{FAQ}, note (2): enter the return's own tracking number",
            due_at=None if waybill_done else arrival,
            done=waybill_done,
            body=f"买家的退货运单号：{buyer_waybill}" if buyer_waybill else "",
        )
    )
    if order.status is OrderStatus.SHIPPED and auto_confirm is not None:
        steps.append(
            Step(
                "extend_receipt",
                "在17网延长收货（只能一次，最多7天）",
                f"{FAQ}, note (1): auto-confirm 12 days after shipment, extension at most 7 days",
                due_at=None if extended or applied else auto_confirm,
                done=extended,
                body=f"17网将于 {beijing(auto_confirm)} 自动确认收货，之后不能线上退货。",
            )
        )
    unclaimed = _dt(cf.get("unclaimed_since"))
    claim_due = (
        unclaimed + SCRAP_AFTER if unclaimed else (arrival + SCRAP_AFTER if arrival and not applied else None)
    )
    steps.append(
        Step(
            "claim_within_15d",
            "包裹到代发仓后15天内在线上认领（申请并填单号），否则报废",
            f"{FAQ}, note (3): unclaimed parcels are scrapped after 15 days",
            due_at=None if waybill_done and applied else claim_due,
            done=applied and waybill_done,
            body="没有线上申请的退货包裹，代发不拆包，超过15天无人认领会集中报废，无法找回。",
        )
    )
    signed = _dt(cf.get("daifa_signed_at"))
    if signed:  # only once 代发 holds the parcel
        steps.append(
            Step(
                "stall_processing",
                "等代发拿到档口处理（签收后3-5天）",
                f"{FAQ}, return flow (4): the stall decides within 3-5 days of 代发 signing",
                due_at=signed + processing if not unclaimed else None,
                done=stage in ("accepted", "refused", "sent_back", "refunding"),
                body=f"代发已于 {beijing(signed)} 签收；大促、节假日可能延迟。档口退货成功才退款，"
                "不成功货会寄回给你。",
            )
        )

    if completed and not applied:
        cost = elig.cost_fen if elig else order.paid_fen
        conflicts.append(
            Conflict(
                "trade_success",
                "danger",
                "17网已交易成功：不能再线上退货",
                f"17网订单已确认收货（交易成功），不支持线上申请退货：除非档口同意线下退，"
                f"这批货的货款 {yuan(cost)} 由你承担{money.fee_note()}。",
                f"{FAQ}, note (1): auto-confirm 12 days after shipment, extension at most 7 days",
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
            f"17网将于 {beijing(auto_confirm)} 自动确认收货，买家的退货最早约 {beijing(arrival)} "
            "才能到代发仓，交易成功后就不能线上退货了。"
            + (
                "请马上在17网延长收货（只能一次，最多7天），再线上申请退货。"
                if can_extend
                else "延长收货也来不及：请马上在17网线上申请退货。"
            )
        )
        conflicts.append(
            Conflict(
                "auto_confirm_before_arrival",
                "danger",
                "17网会在退货到仓前自动确认收货",
                body,
                f"{FAQ}, note (1): auto-confirm 12 days after shipment, extension at most 7 days",
                due_at=auto_confirm,
            )
        )
    if case is not None and case.status is AfterSaleStatus.SELLER_REFUSED:
        cost = elig.cost_fen if elig else 0
        conflicts.append(
            Conflict(
                "upstream_refused",
                "danger",
                "档口拒绝退货",
                f"17网不退款，货会由代发寄回给你：这批货的货款 {yuan(cost)} 由你承担{money.fee_note()}。",
                f"{FAQ}, return flow (4): the stall decides within 3-5 days of 代发 signing",
                amount_fen=cost,
            )
        )
    if elig is not None and not (completed and not applied):
        refused = list(elig.reasons)
        refused_cost = elig.refused_cost_fen
        if elig.verdict is not Verdict.RETURNABLE and refused:
            why = "；".join(r.text_zh for r in refused)
            level = "danger"
            code = "not_returnable" if elig.returnable == 0 else "partly_returnable"
            title = (
                "这批货不能退回档口"
                if elig.returnable == 0
                else f"只有 {elig.returnable}/{elig.total} 件能退回档口"
            )
            conflicts.append(
                Conflict(
                    code,
                    level,
                    title,
                    f"{why}。{'同意买家退货前请注意：' if sale_case else ''}"
                    f"档口不收的货，货款 {yuan(refused_cost)} 由你承担。",
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
                    "档口降价了：17网按现价退，比你付的货款少",
                    f"档口按当前售价退货：能退的 {elig.returnable} 件货款 {yuan(elig.returnable_cost_fen)}，"
                    f"17网只退 {yuan(elig.expected_refund_fen)}，差价 {yuan(drop)} 由你承担"
                    + (f"；而你要退买家 {yuan(downstream)}。" if downstream else "。"),
                    f"{FAQ}, 'is a return refunded at the price paid': the stall's current price",
                    amount_fen=drop,
                )
            )
    if sale_case is not None and sale_case.kind is AfterSaleKind.EXCHANGE:
        conflicts.append(
            Conflict(
                "downstream_exchange",
                "warning",
                "17网不支持换货",
                "买家换货，在17网上要拆成两步：先申请退货，再为换的货重新下单。",
                f"{FAQ}, 'can I exchange': no exchange",
            )
        )
    return Plan(purchase, tuple(steps), tuple(conflicts), elig, arrival)


@dataclass(frozen=True)
class SaleShipDue:
    """When the sale behind a purchase must ship, and where that time comes from."""

    due_at: datetime
    source: str  #: "platform" (the sale order states it), "fact" (a ship-by fact) or "policy"


def sale_ship_due(sale: Order, settings: Mapping[str, str]) -> SaleShipDue | None:
    """The linked sale order's ship deadline, or ``None`` when it has shipped or nothing says.

    Read from the sale order as the core stores it (the link model gives it to this plugin): the
    deadline its platform states on an unshipped order, else a ship-by fact, else the shop's
    ``sale_ship_window`` (policy) from the sale's payment.
    """
    if sale.status is not OrderStatus.PAID:
        return None
    stated = sale.platform_deadline
    if stated is not None and stated.action in (None, "ship"):
        return SaleShipDue(stated.due_at, "platform")
    for name in SALE_SHIP_FACTS:
        value = _dt(sale.facts.get(name))
        if value is not None:
            return SaleShipDue(value, "fact")
    if sale.paid_at is not None:
        window = _setting(settings, SALE_SHIP_SETTING, SALE_SHIP_DEFAULT)
        return SaleShipDue(sale.paid_at + window, "policy")
    return None


def shortage_conflict(purchase: Order, sale: Order, settings: Mapping[str, str]) -> Conflict | None:
    """A 17网 shortage against the linked sale's ship clock, or ``None`` when there is none.

    An unshipped purchase that 代发 reports out of stock ships, with 下单三天有货先发, only what is in
    stock 3 days after the order; without that option it waits for the stall to restock, with no
    date at all. Either way the sale may miss its ship deadline (a late-shipment penalty on the
    sale's platform): say so against that deadline, before it passes.
    """
    if purchase.status is not OrderStatus.PAID or not purchase.facts.get("out_of_stock"):
        return None
    due = sale_ship_due(sale, settings)
    if due is None:
        return None
    three_days = bool(purchase.facts.get("ship_available_after_3d"))
    ships_by = purchase.created_at + SHIP_AVAILABLE_AFTER if three_days else None
    source = f"{FAQ}, out-of-stock questions: 下单三天有货先发 ships what is in stock after 3 days"
    if ships_by is not None and ships_by <= due.due_at:
        return Conflict(
            "shortage",
            "warning",
            "17网缺货：代发会先发有货的商品",
            f"17网采购单 {purchase.external_id} 缺货（下单三天有货先发）：代发最迟 {beijing(ships_by)} "
            f"先发有货的商品，缺的货不再等；销售单 {sale.external_id} 须在 {beijing(due.due_at)} 前发货，"
            "缺的货请另行补发或与买家协商退款。",
            source,
            due_at=due.due_at,
        )
    when = (
        f"代发最早 {beijing(ships_by)} 才先发有货的商品"
        if ships_by is not None
        else "代发要等档口补货才发，没有确定时间"
    )
    return Conflict(
        "shortage_late",
        "danger",
        "17网缺货：赶不上销售单的发货期限",
        f"17网采购单 {purchase.external_id} 缺货：{when}；销售单 {sale.external_id} 须在 "
        f"{beijing(due.due_at)} 前发货，超时会按延迟发货处罚。请在期限前另找货源发货，或与买家协商。",
        source if three_days else f"{FAQ}, out-of-stock questions: 代发 re-picks when the stall restocks",
        due_at=due.due_at,
    )
