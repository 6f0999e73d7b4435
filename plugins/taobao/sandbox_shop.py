"""The simulated Taobao/Tmall shop behind the sandbox's TOP gateway: trades, refunds, Tmall
exchanges and TMC messages, moved on by the gateway's clock the way Taobao does (docs/rules/taobao.md:
auto-agree at 72 h, auto-close 7 days after a return agreement, auto-refund 10 days after the buyer
ships the return; intervention pauses the clocks).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hub.clock import format_cst
from hub.money import fen_to_yuan

TMC_KEEP = timedelta(hours=24)  #: TOP: TMC keeps messages at most 24 hours
REPLY_WINDOW = timedelta(hours=72)  #: taobao.refund_reply_72h: seller reply, then auto-agree
RETURN_WINDOW = timedelta(days=7)  #: taobao.buyer_return_7d: buyer ships the return, else closed
CONFIRM_WINDOW = timedelta(days=10)  #: taobao.seller_confirm_10d: seller confirms, else auto-refund
INTERVENING = frozenset({2, 3, 4, 5, 10})
_NUMERIC_STATUS = {
    "WAIT_SELLER_AGREE": "1",
    "WAIT_BUYER_RETURN_GOODS": "2",
    "WAIT_SELLER_CONFIRM_GOODS": "3",
    "CLOSED": "4",
    "SUCCESS": "5",
    "SELLER_REFUSE_BUYER": "6",
}


def _second(value: datetime) -> datetime:
    """TOP keeps times to the second."""
    return value.replace(microsecond=0)


# --- the simulated shop's records ---------------------------------------------------------------


@dataclass
class SubOrder:
    oid: int
    title: str
    price_fen: int
    num: int
    sku_id: str
    outer_sku_id: str
    status: str
    refund_status: str = "NO_REFUND"
    refund_id: int | None = None
    invoice_no: str | None = None
    logistics_company: str | None = None

    @property
    def payment_fen(self) -> int:
        return self.price_fen * self.num


@dataclass
class Trade:
    tid: int
    type: str
    status: str
    created: datetime
    modified: datetime
    buyer_nick: str
    seller_nick: str
    orders: list[SubOrder]
    post_fen: int = 0
    pay_time: datetime | None = None
    consign_time: datetime | None = None
    end_time: datetime | None = None
    step_trade_status: str | None = None
    seller_memo: str | None = None
    #: the courier's trace (taobao.logistics.trace.search): pickup and sign-for after shipment
    consign_interval: int | None = None  #: the listing's promised ship time, hours after payment
    pickup_after: timedelta | None = timedelta(hours=3)
    sign_after: timedelta | None = timedelta(days=1)

    def trace(self, now: datetime) -> list[dict[str, str]]:
        """The transit steps the courier has recorded by ``now`` (none before shipment)."""
        if self.consign_time is None:
            return []
        steps = [
            {"action": "CONSIGN", "status_desc": "卖家已发货", "status_time": format_cst(self.consign_time)}
        ]
        if self.pickup_after is not None and self.consign_time + self.pickup_after <= now:
            at = self.consign_time + self.pickup_after
            steps.append({"action": "GOT", "status_desc": "快递员已揽收", "status_time": format_cst(at)})
            if self.sign_after is not None and self.consign_time + self.sign_after <= now:
                at = self.consign_time + self.sign_after
                steps.append({"action": "SIGNED", "status_desc": "已签收", "status_time": format_cst(at)})
        return steps

    @property
    def total_fen(self) -> int:
        return sum(o.payment_fen for o in self.orders)

    @property
    def payment_fen(self) -> int:
        return self.total_fen + self.post_fen

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "tid": self.tid,
            "tid_str": str(self.tid),
            "type": self.type,
            "status": self.status,
            "payment": fen_to_yuan(self.payment_fen),
            "total_fee": fen_to_yuan(self.total_fen),
            "post_fee": fen_to_yuan(self.post_fen),
            "discount_fee": "0.00",
            "adjust_fee": "0.00",
            "created": format_cst(self.created),
            "modified": format_cst(self.modified),
            "buyer_nick": self.buyer_nick,
            "seller_nick": self.seller_nick,
            "shipping_type": "express",
            "orders": [
                {
                    "oid": o.oid,
                    "oid_str": str(o.oid),
                    "status": o.status,
                    "refund_status": o.refund_status,
                    "title": o.title,
                    "price": fen_to_yuan(o.price_fen),
                    "num": o.num,
                    "total_fee": fen_to_yuan(o.payment_fen),
                    "payment": fen_to_yuan(o.payment_fen),
                    "sku_id": o.sku_id,
                    "outer_sku_id": o.outer_sku_id,
                    "num_iid": 600000 + o.oid % 1000,
                    **({"refund_id": str(o.refund_id)} if o.refund_id else {}),
                    **(
                        {"invoice_no": o.invoice_no, "logistics_company": o.logistics_company}
                        if o.invoice_no
                        else {}
                    ),
                }
                for o in self.orders
            ],
        }
        for name, value in (
            ("pay_time", self.pay_time),
            ("consign_time", self.consign_time),
            ("end_time", self.end_time),
        ):
            if value is not None:
                out[name] = format_cst(value)
        if self.status == "WAIT_BUYER_CONFIRM_GOODS" and self.consign_time is not None:
            out["timeout_action_time"] = format_cst(self.consign_time + timedelta(days=10))
        if self.step_trade_status:
            out["step_trade_status"] = self.step_trade_status
        if self.consign_interval is not None:
            out["consign_interval"] = self.consign_interval
        if self.seller_memo:
            out["seller_memo"] = self.seller_memo
        return out


@dataclass
class Plan:
    """What the simulated buyer will do, so the demo moves: ship the return after a while, escalate."""

    ship_return_after: timedelta | None = None
    escalate: bool = False
    ruling_for_buyer: bool = True


@dataclass
class Refund:
    refund_id: int
    tid: int
    oid: int
    status: str
    created: datetime
    modified: datetime
    reason: str
    refund_fen: int
    total_fen: int
    has_good_return: bool
    title: str
    buyer_nick: str
    seller_nick: str
    order_status: str
    refund_phase: str
    trade_type: str
    dispute_type: str | None = None
    good_status: str = "BUYER_RECEIVED"
    desc: str = ""
    cs_status: int = 1
    cs_since: datetime | None = None
    operation_contraint: str | None = None
    company_name: str | None = None
    sid: str | None = None
    good_return_time: datetime | None = None
    address: str | None = None
    agreed_at: datetime | None = None
    refused_at: datetime | None = None
    version: int = 0
    reviewed: bool | None = None
    malformed: bool = False
    plan: Plan = field(default_factory=Plan)

    def __post_init__(self) -> None:
        if not self.version:
            self.version = int(self.modified.timestamp() * 1000)

    def touch(self, at: datetime) -> None:
        self.modified = _second(max(at, self.modified))
        # refund_version is the refund's last-update timestamp (ms); strictly increasing.
        self.version = max(self.version + 1, int(self.modified.timestamp() * 1000))

    def timeout(self) -> datetime | None:
        """When the platform acts by itself next (what refund_remind_timeout reports)."""
        if self.cs_status in INTERVENING or self.malformed:
            return None
        if self.status == "WAIT_SELLER_AGREE":
            return self.created + REPLY_WINDOW
        if self.status == "WAIT_BUYER_RETURN_GOODS" and self.agreed_at is not None:
            return self.agreed_at + RETURN_WINDOW
        if self.status == "WAIT_SELLER_CONFIRM_GOODS" and self.good_return_time is not None:
            return self.good_return_time + CONFIRM_WINDOW
        return None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "refund_id": str(self.refund_id),
            "tid": self.tid,
            "oid": self.oid,
            "status": self.status,
            "title": self.title,
            "buyer_nick": self.buyer_nick,
            "seller_nick": self.seller_nick,
            "total_fee": fen_to_yuan(self.total_fen),
            "refund_fee": fen_to_yuan(self.refund_fen),
            "payment": fen_to_yuan(self.total_fen - self.refund_fen),
            "created": format_cst(self.created),
            "modified": format_cst(self.modified),
            "good_status": self.good_status,
            "has_good_return": self.has_good_return,
            "reason": self.reason,
            "desc": self.desc,
            "order_status": self.order_status,
            "refund_phase": self.refund_phase,
            "refund_version": self.version,
            "cs_status": self.cs_status,
            "num": 1,
            "price": fen_to_yuan(self.total_fen),
            "advance_status": 0,
        }
        if self.dispute_type:
            out["dispute_type"] = self.dispute_type
        if self.operation_contraint:
            out["operation_contraint"] = self.operation_contraint
        if self.company_name:
            out["company_name"] = self.company_name
            out["sid"] = self.sid
        if self.good_return_time:
            out["good_return_time"] = format_cst(self.good_return_time)
        if self.address:
            out["address"] = self.address
        due = self.timeout()
        out["refund_remind_timeout"] = (
            {"exist_timeout": True, "remind_type": 1, "timeout": format_cst(due)}
            if due
            else {"exist_timeout": False}
        )
        if self.status in ("SUCCESS", "CLOSED"):
            out["end_time"] = format_cst(self.modified)
        if self.malformed:
            out["refund_fee"] = "12.3.4"
            out["created"] = "yesterday"
        return out

    def to_dispute(self) -> dict[str, Any]:
        """The same refund seen through tmall.dispute.receive.get (numeric status)."""
        return {
            "refund_id": str(self.refund_id),
            "biz_order_id": str(self.tid),
            "oid": self.oid,
            "status": _NUMERIC_STATUS.get(self.status, "1"),
            "dispute_request": "退货退款" if self.has_good_return else "仅退款",
            "created": format_cst(self.created),
            "modified": format_cst(self.modified),
            "refund_fee": fen_to_yuan(self.refund_fen),
            "reason": self.reason,
            "title": self.title,
            "buyer_nick": self.buyer_nick,
            "good_status": self.good_status,
            "order_status": self.order_status,
            "refund_phase": self.refund_phase,
            "has_good_return": self.has_good_return,
            "num": 1,
        }


@dataclass
class Exchange:
    """A Tmall exchange (换货), visible only through tmall.dispute.receive.get."""

    refund_id: int
    tid: int
    oid: int
    status: str  # numeric text, the exchange table (tmall.dispute.receive.get)
    created: datetime
    modified: datetime
    reason: str
    refund_fen: int
    title: str
    buyer_nick: str
    order_status: str = "TRADE_FINISHED"
    buyer_logistic_no: str | None = None
    seller_logistic_no: str | None = None

    def to_dispute(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "refund_id": str(self.refund_id),
            "biz_order_id": str(self.tid),
            "oid": self.oid,
            "status": self.status,
            "dispute_request": "换货",
            "created": format_cst(self.created),
            "modified": format_cst(self.modified),
            "refund_fee": fen_to_yuan(self.refund_fen),
            "reason": self.reason,
            "title": self.title,
            "buyer_nick": self.buyer_nick,
            "good_status": "BUYER_RECEIVED",
            "order_status": self.order_status,
            "refund_phase": "aftersale",
            "has_good_return": True,
            "num": 1,
        }
        if self.buyer_logistic_no:
            out.update(buyer_logistic_name="中通快递", buyer_logistic_no=self.buyer_logistic_no)
        if self.seller_logistic_no:
            out.update(seller_logistic_name="顺丰速运", seller_logistic_no=self.seller_logistic_no)
        return out


@dataclass
class TmcMessage:
    id: int
    topic: str
    content: dict[str, Any]
    pub_time: datetime
    user_nick: str
    confirmed: bool = False

    def to_json(self, app_key: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "topic": self.topic,
            "user_id": 2200000000 + self.id % 1000,
            "user_nick": self.user_nick,
            "pub_time": format_cst(self.pub_time),
            "pub_app_key": app_key,
            "content": json.dumps(self.content, ensure_ascii=False),
        }


@dataclass
class SimShop:
    """One seller: credentials, records, TMC queue, and the platform's own automation."""

    name: str
    nick: str
    app_key: str
    secret: str
    session: str
    tmall: bool = False
    trades: dict[int, Trade] = field(default_factory=dict)
    refunds: dict[int, Refund] = field(default_factory=dict)
    exchanges: dict[int, Exchange] = field(default_factory=dict)
    messages: list[TmcMessage] = field(default_factory=list)
    session_expired: bool = False
    sms_code: str = "246810"
    sms_threshold_fen: int = (
        50_000  #: agreeing this much or more asks for an SMS code (taobao.rp.refunds.agree)
    )
    #: the seller's address book (taobao.logistics.address.search): id -> address; the first is
    #: the default return address (get_def)
    addresses: dict[str, str] = field(
        default_factory=lambda: {
            "1001": "浙江省杭州市余杭区文一西路969号 售后仓",
            "1002": "广东省广州市白云区石井街道 退货分仓",
        }
    )
    _next_message: int = 7_260_923_400

    # -- events ------------------------------------------------------------------------------

    def publish(self, topic: str, content: dict[str, Any], at: datetime) -> None:
        self._next_message += 1
        self.messages.append(
            TmcMessage(
                id=self._next_message,
                topic=f"taobao_{topic}",
                content=content,
                pub_time=_second(at),
                user_nick=self.nick,
            )
        )

    def refund_event(self, refund: Refund, topic: str, at: datetime) -> None:
        refund.touch(at)
        trade = self.trades.get(refund.tid)
        if trade is not None:
            for o in trade.orders:
                if o.oid == refund.oid:
                    o.refund_status = refund.status
                    o.refund_id = refund.refund_id
            if all(o.refund_status == "SUCCESS" for o in trade.orders) and trade.status != "TRADE_CLOSED":
                trade.status = "TRADE_CLOSED"
                trade.end_time = _second(at)
                for o in trade.orders:
                    o.status = "TRADE_CLOSED"
            trade.modified = _second(max(at, trade.modified))
        self.publish(
            f"refund_{topic}",
            {
                "refund_id": refund.refund_id,
                "tid": refund.tid,
                "oid": refund.oid,
                "refund_fee": fen_to_yuan(refund.refund_fen),
                "refund_phase": refund.refund_phase,
                "bill_type": "return_bill" if refund.has_good_return else "refund_bill",
                "buyer_nick": refund.buyer_nick,
                "seller_nick": self.nick,
                "modified": format_cst(refund.modified),
            },
            at,
        )

    def trade_event(self, trade: Trade, topic: str, at: datetime) -> None:
        trade.modified = _second(max(at, trade.modified))
        self.publish(
            f"trade_{topic}",
            {
                "tid": trade.tid,
                "oid": trade.orders[0].oid,
                "status": trade.status,
                "type": trade.type,
                "payment": fen_to_yuan(trade.payment_fen),
                "buyer_nick": trade.buyer_nick,
                "seller_nick": self.nick,
            },
            at,
        )

    # -- the platform moving cases by itself ----------------------------------------------------

    def _next_automation(self, refund: Refund) -> tuple[datetime, Callable[[datetime], None]] | None:
        if refund.malformed:
            return None
        if refund.cs_status in INTERVENING and refund.cs_since is not None:
            return self._intervention_step(refund)
        due = refund.timeout()
        if refund.status == "WAIT_SELLER_AGREE" and due is not None:
            return due, lambda at: self._auto_agree(refund, at)
        if refund.status == "WAIT_BUYER_RETURN_GOODS" and due is not None:
            ship = refund.plan.ship_return_after
            if ship is not None and refund.agreed_at is not None and refund.agreed_at + ship < due:
                return refund.agreed_at + ship, lambda at: self.buyer_ships_return(refund, at)
            return due, lambda at: self._set(refund, "CLOSED", "RefundClosed", at)
        if refund.status == "WAIT_SELLER_CONFIRM_GOODS" and due is not None:
            return due, lambda at: self._set(refund, "SUCCESS", "RefundSuccess", at)
        if refund.status == "SELLER_REFUSE_BUYER" and refund.plan.escalate and refund.cs_status == 1:
            when = max(refund.created + REPLY_WINDOW, refund.refused_at or refund.created)
            return when, lambda at: self._escalate(refund, at)
        return None

    def _intervention_step(self, refund: Refund) -> tuple[datetime, Callable[[datetime], None]] | None:
        assert refund.cs_since is not None
        steps = {2: (timedelta(days=1), 3), 3: (timedelta(days=1), 10), 10: (timedelta(days=2), 0)}
        if refund.cs_status not in steps:
            return None
        wait, nxt = steps[refund.cs_status]

        def step(at: datetime) -> None:
            refund.cs_since = at
            if nxt:
                refund.cs_status = nxt
                self.refund_event(refund, "TaobaoIntervened" if nxt == 3 else "RefundCreateMessage", at)
            elif refund.plan.ruling_for_buyer:
                refund.cs_status = 8
                self._set(refund, "SUCCESS", "RefundSuccess", at)
            else:
                refund.cs_status = 9
                self._set(refund, "CLOSED", "RefundClosed", at)

        return refund.cs_since + wait, step

    def _set(self, refund: Refund, status: str, topic: str, at: datetime) -> None:
        refund.status = status
        self.refund_event(refund, topic, at)

    def _auto_agree(self, refund: Refund, at: datetime) -> None:
        # taobao.refund_reply_72h: 72 h without an answer: the refund is agreed (a return: the
        # return agreement is made).
        if refund.has_good_return:
            refund.agreed_at = at
            refund.address = self.addresses["1001"]
            self._set(refund, "WAIT_BUYER_RETURN_GOODS", "RefundSellerAgreeAgreement", at)
        else:
            self._set(refund, "SUCCESS", "RefundSuccess", at)

    def _escalate(self, refund: Refund, at: datetime) -> None:
        refund.cs_status = 2
        refund.cs_since = at
        self.refund_event(refund, "TaobaoInterApplied", at)

    def buyer_ships_return(self, refund: Refund, at: datetime) -> None:
        refund.good_return_time = _second(at)
        refund.good_status = "BUYER_RETURNED_GOODS"
        refund.company_name, refund.sid = "中通快递", f"7589{refund.refund_id % 10**8:08d}"
        self._set(refund, "WAIT_SELLER_CONFIRM_GOODS", "RefundBuyerReturnGoods", at)

    def run_until(self, now: datetime) -> int:
        """Apply every automatic transition due up to ``now``, in time order; return how many."""
        applied = 0
        while True:
            due = [
                (d[0], r.refund_id, d[1]) for r in self.refunds.values() if (d := self._next_automation(r))
            ]
            due = [d for d in due if d[0] <= now]
            if not due:
                return applied
            at, _, action = min(due, key=lambda d: (d[0], d[1]))
            action(at)
            applied += 1
