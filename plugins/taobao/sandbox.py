"""A fake TOP gateway on loopback, with a simulated Taobao shop and a Tmall shop.

It checks what the real gateway checks (app key, signature, ±10 min timestamp against its own
clock, session), pages like TOP (modified time descending, page_size ≤ 100, windows ≤ 1 day),
answers in TOP's envelopes (wrapped lists, or simplified with ``simplify=true``), moves cases on
its controllable clock the way Taobao does (docs/rules/taobao.md: auto-agree at 72 h, auto-close 7 days
after a return agreement, auto-refund 10 days after the buyer ships the return; intervention),
answers the write APIs with refund_version checks, serves TMC messages, and plays back faults.
"""

from __future__ import annotations

import json
import math
import random
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from hub.clock import format_cst, parse_cst, utcnow
from hub.money import fen_to_yuan
from hub.platform import DemoShop
from hub.testing.fake_server import FakeClock, FakePlatformServer, WallClock

from .client import response_key, sign
from .mapping import NO_REASON_MARKERS

TIMESTAMP_SKEW = timedelta(minutes=10)  #: TOP: the server allows at most 10 minutes of error
MAX_WINDOW = timedelta(days=1)  #: TOP: end_modified - start_modified <= 1 day
TMC_KEEP = timedelta(hours=24)  #: TOP: TMC keeps messages at most 24 hours
REPLY_WINDOW = timedelta(hours=72)  #: taobao.refund_reply_72h: seller reply, then auto-agree
RETURN_WINDOW = timedelta(days=7)  #: taobao.buyer_return_7d: buyer ships the return, else closed
CONFIRM_WINDOW = timedelta(days=10)  #: taobao.seller_confirm_10d: seller confirms, else auto-refund
#: TOP's default trade types when ``type`` is not given (trades.sold.increment.get), and
#: refunds.receive.get's default.
DEFAULT_TRADE_TYPES = frozenset({"guarantee_trade", "auto_delivery", "ec", "cod", "step"})
DEFAULT_REFUND_TYPES = frozenset({"guarantee_trade", "auto_delivery"})
OPEN_REFUND = frozenset(
    {"WAIT_SELLER_AGREE", "WAIT_BUYER_RETURN_GOODS", "WAIT_SELLER_CONFIRM_GOODS", "SELLER_REFUSE_BUYER"}
)
INTERVENING = frozenset({2, 3, 4, 5, 10})
_NUMERIC_STATUS = {
    "WAIT_SELLER_AGREE": "1",
    "WAIT_BUYER_RETURN_GOODS": "2",
    "WAIT_SELLER_CONFIRM_GOODS": "3",
    "CLOSED": "4",
    "SUCCESS": "5",
    "SELLER_REFUSE_BUYER": "6",
}
_IMAGE_MAGIC = (b"GIF87a", b"GIF89a", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


class TopError(Exception):
    """An ``error_response`` the sandbox answers with."""

    def __init__(self, code: int, msg: str, sub_code: str | None = None, sub_msg: str | None = None):
        super().__init__(msg)
        self.body: dict[str, Any] = {"code": code, "msg": msg}
        if sub_code:
            self.body["sub_code"] = sub_code
        if sub_msg:
            self.body["sub_msg"] = sub_msg


def _missing(name: str) -> TopError:
    return TopError(40, f"Missing required arguments:{name}", "isv.missing-parameter", f"缺少必选参数 {name}")


def _invalid(name: str, why: str) -> TopError:
    return TopError(41, f"Invalid arguments:{name}", "isv.invalid-parameter", why)


def _business(sub_code: str, sub_msg: str) -> TopError:
    return TopError(15, "Remote service error", sub_code, sub_msg)


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
    addresses: dict[str, str] = field(
        default_factory=lambda: {"1001": "浙江省杭州市余杭区文一西路969号 售后仓"}
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


# --- the gateway --------------------------------------------------------------------------------


@dataclass
class Call:
    """What one handler sees: the shop, the form, files and the response shape asked for."""

    shop: SimShop
    params: dict[str, str]
    files: dict[str, bytes]
    simplify: bool
    now: datetime


Handler = Callable[["TopGateway", Call], dict[str, Any]]
_HANDLERS: dict[str, Handler] = {}
_NO_SESSION = frozenset({"taobao.time.get", "taobao.tmc.messages.consume", "taobao.tmc.messages.confirm"})


def api(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _HANDLERS[name] = fn
        return fn

    return register


def _wrap(items: list[dict[str, Any]], element: str, simplify: bool) -> Any:
    return items if simplify else {element: items}


def _select(record: dict[str, Any], fields: str | None, nested: str | None = None) -> dict[str, Any]:
    """TOP returns only the requested ``fields``; ``orders`` gives whole sub-orders, ``orders.x`` some."""
    if not fields:
        return record
    names = {f.strip() for f in fields.split(",") if f.strip()}
    out = {k: v for k, v in record.items() if k in names}
    if nested and nested not in names:
        sub = {n.split(".", 1)[1] for n in names if n.startswith(nested + ".")}
        if sub:
            out[nested] = [{k: v for k, v in o.items() if k in sub} for o in record.get(nested, [])]
    return out


def _window(call: Call, required: bool) -> tuple[datetime | None, datetime | None]:
    values: list[datetime | None] = []
    for name in ("start_modified", "end_modified"):
        text = call.params.get(name)
        if not text:
            if required:
                raise _missing(name)
            values.append(None)
            continue
        try:
            values.append(parse_cst(text))
        except ValueError as err:
            raise _invalid(name, f"{name} 格式错误，应为 yyyy-MM-dd HH:mm:ss") from err
    start, end = values
    if start is not None and end is not None:
        if end < start:
            raise _invalid("end_modified", "end_modified 必须晚于 start_modified")
        if end - start > MAX_WINDOW:
            raise _invalid("end_modified", "start_modified 与 end_modified 的跨度不能超过一天")
    return start, end


def _page(call: Call, rows: list[Any], default_size: int) -> tuple[list[Any], dict[str, Any]]:
    try:
        page_no = int(call.params.get("page_no") or 1)
        page_size = int(call.params.get("page_size") or default_size)
    except ValueError as err:
        raise _invalid("page_no", "page_no / page_size 必须是数字") from err
    if page_no < 1:
        raise _invalid("page_no", "page_no 最小为 1")
    if not 1 <= page_size <= 100:
        raise _invalid("page_size", "page_size 取值范围 1-100")
    chunk = rows[(page_no - 1) * page_size : page_no * page_size]
    meta: dict[str, Any] = {"has_next": page_no * page_size < len(rows)}
    if call.params.get("use_has_next", "false").lower() != "true":
        meta["total_results"] = len(rows)
    return chunk, meta


def _in_window(modified: datetime, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or modified >= start) and (end is None or modified <= end)


def _types(call: Call, default: frozenset[str]) -> frozenset[str]:
    text = call.params.get("type")
    return frozenset(t.strip() for t in text.split(",")) if text else default


@api("taobao.time.get")
def _time_get(gw: TopGateway, call: Call) -> dict[str, Any]:
    return {"time": format_cst(call.now)}


@api("taobao.trades.sold.increment.get")
def _trades_increment(gw: TopGateway, call: Call) -> dict[str, Any]:
    fields = call.params.get("fields") or ""
    if not fields:
        raise _missing("fields")
    start, end = _window(call, required=True)
    types = _types(call, DEFAULT_TRADE_TYPES)
    status = call.params.get("status")
    rows = [
        t
        for t in call.shop.trades.values()
        if t.type in types and _in_window(t.modified, start, end) and (not status or t.status == status)
    ]
    rows.sort(key=lambda t: (t.modified, t.tid), reverse=True)  # modified descending (TOP's order)
    chunk, meta = _page(call, rows, 40)
    records = [gw.maybe_garble(_select(t.to_json(), fields, "orders")) for t in chunk]
    return {**meta, "trades": _wrap(records, "trade", call.simplify)}


@api("taobao.trade.fullinfo.get")
def _trade_fullinfo(gw: TopGateway, call: Call) -> dict[str, Any]:
    fields = call.params.get("fields") or ""
    if not fields:
        raise _missing("fields")
    tid = call.params.get("tid")
    if not tid:
        raise _missing("tid")
    trade = call.shop.trades.get(int(tid)) if tid.isdigit() else None
    if trade is None:
        raise _business("isv.trade-not-exist", f"交易 {tid} 不存在")
    return {"trade": _select(trade.to_json(), fields, "orders")}


@api("taobao.logistics.trace.search")
def _trace_search(gw: TopGateway, call: Call) -> dict[str, Any]:
    tid = call.params.get("tid")
    if not tid:
        raise _missing("tid")
    trade = call.shop.trades.get(int(tid)) if tid.isdigit() else None
    if trade is None:
        raise _business("isv.trade-not-exist", f"交易 {tid} 不存在")
    waybill = next((o.invoice_no for o in trade.orders if o.invoice_no), None)
    steps = trade.trace(call.now)
    return {
        "tid": trade.tid,
        "out_sid": waybill or "",
        "company_name": next((o.logistics_company for o in trade.orders if o.logistics_company), ""),
        "status": "签收" if any(s["action"] == "SIGNED" for s in steps) else "在途中",
        "trace_list": _wrap(steps, "transit_step_info", call.simplify),
    }


def _refund_rows(call: Call) -> list[Refund]:
    start, end = _window(call, required=False)
    types = _types(call, DEFAULT_REFUND_TYPES)
    status = call.params.get("status")
    rows = [
        r
        for r in call.shop.refunds.values()
        if r.trade_type in types and _in_window(r.modified, start, end) and (not status or r.status == status)
    ]
    rows.sort(key=lambda r: (r.modified, r.refund_id), reverse=True)
    return rows


@api("taobao.refunds.receive.get")
def _refunds_receive(gw: TopGateway, call: Call) -> dict[str, Any]:
    fields = call.params.get("fields") or ""
    if not fields:
        raise _missing("fields")
    chunk, meta = _page(call, _refund_rows(call), 40)
    records = [gw.maybe_garble(_select(r.to_json(), fields)) for r in chunk]
    return {**meta, "refunds": _wrap(records, "refund", call.simplify)}


def _refund(call: Call) -> Refund:
    refund_id = call.params.get("refund_id")
    if not refund_id:
        raise _missing("refund_id")
    refund = call.shop.refunds.get(int(refund_id)) if refund_id.isdigit() else None
    if refund is None:
        raise _business("isv.refund-not-exist", f"退款单 {refund_id} 不存在")
    return refund


@api("taobao.refund.get")
def _refund_get(gw: TopGateway, call: Call) -> dict[str, Any]:
    fields = call.params.get("fields") or ""
    if not fields:
        raise _missing("fields")
    refund = _refund(call)
    record = _select(refund.to_json(), fields)
    if str(refund.refund_id) in gw._garbled:
        gw._garbled.discard(str(refund.refund_id))
        record = {**record, "modified": "not-a-time", "created": "??", "refund_fee": "abc"}
    return {"refund": record}


@api("tmall.dispute.receive.get")
def _disputes(gw: TopGateway, call: Call) -> dict[str, Any]:
    if not call.shop.tmall:
        raise TopError(11, "Insufficient ISV Permissions", "isv.invalid-permission", "仅天猫商家可调用")
    fields = call.params.get("fields") or ""
    if not fields:
        raise _missing("fields")
    start, end = _window(call, required=False)
    rows: list[tuple[datetime, int, dict[str, Any]]] = []
    only = call.params.get("refund_id")
    for r in call.shop.refunds.values():
        rows.append((r.modified, r.refund_id, r.to_dispute()))
    for x in call.shop.exchanges.values():
        rows.append((x.modified, x.refund_id, x.to_dispute()))
    rows = [row for row in rows if _in_window(row[0], start, end) and (not only or str(row[1]) == only)]
    rows.sort(key=lambda row: (row[0], row[1]), reverse=True)
    chunk, meta = _page(call, rows, 20)
    records = [_select(row[2], fields) for row in chunk]
    return {
        "result": {**meta, "page_results": len(records), "results": _wrap(records, "dispute", call.simplify)}
    }


def _check_version(refund: Refund, call: Call, required: bool) -> None:
    text = call.params.get("refund_version")
    if not text:
        if required:
            raise _missing("refund_version")
        return
    if text != str(refund.version):
        raise _business("isv.refund-version-expired", "退款版本已过期，请刷新后重试")


def _check_image(data: bytes | None, limit: int, required: bool) -> None:
    if data is None:
        if required:
            raise _missing("refuse_proof")
        return
    if not data.startswith(_IMAGE_MAGIC):
        raise _invalid("refuse_proof", "凭证图片仅支持 GIF、JPG、PNG 格式")
    if len(data) > limit:
        raise _invalid("refuse_proof", f"凭证图片不能超过 {limit} 字节")


@api("taobao.rp.refunds.agree")
def _agree(gw: TopGateway, call: Call) -> dict[str, Any]:
    infos = call.params.get("refund_infos")
    if not infos:
        raise _missing("refund_infos")
    items = [i.split("|") for i in infos.split(",") if i]
    shop = call.shop
    max_n, max_fen = (
        (30, 1_000_000) if shop.tmall else (20, 600_000)
    )  # TOP rp.refunds.agree: Tmall 30/10000元, Taobao 20/6000元
    if len(items) > max_n:
        raise _invalid("refund_infos", f"一次最多同意 {max_n} 笔退款")
    try:
        total = sum(int(i[1]) for i in items)
    except (IndexError, ValueError) as err:
        raise _invalid("refund_infos", "格式应为 refund_id|amount|version|phase") from err
    if total > max_fen:
        raise _invalid("refund_infos", f"一次退款总金额不能超过 {fen_to_yuan(max_fen)} 元")
    code = call.params.get("code")
    if total >= shop.sms_threshold_fen:
        if not code:
            raise _business(
                "isv.sms-verify-code-required",
                "退款金额较大，已向卖家手机发送短信验证码，请带上验证码重新调用",
            )
        if code != shop.sms_code:
            raise _business("isv.sms-verify-code-invalid", "短信验证码错误")
    results: list[dict[str, Any]] = []
    for item in items:
        refund_id, amount = item[0], int(item[1])
        version = item[2] if len(item) > 2 else ""
        phase = item[3] if len(item) > 3 else ""
        refund = shop.refunds.get(int(refund_id)) if refund_id.isdigit() else None
        message = "操作成功"
        ok = False
        if refund is None:
            message = "退款单不存在"
        elif shop.tmall and not phase:
            message = "天猫退款必须传入退款阶段 phase"
        elif version != str(refund.version):
            message = "退款版本已过期，请刷新后重试"
        elif refund.status not in ("WAIT_SELLER_AGREE", "WAIT_SELLER_CONFIRM_GOODS"):
            message = f"当前退款状态 {refund.status} 不能同意退款"
        elif amount > refund.refund_fen or amount <= 0:
            message = "退款金额不正确"
        else:
            refund.refund_fen = amount
            shop._set(refund, "SUCCESS", "RefundSuccess", call.now)
            ok = True
        results.append({"refund_id": refund_id, "succ": ok, "message": message})
    succeeded = sum(1 for r in results if r["succ"])
    msg_code = "OP_SUCC" if succeeded == len(results) else ("SOME_OP_SUCC" if succeeded else "OP_FAILURE_UE")
    return {
        "msg_code": msg_code,
        "succ": succeeded == len(results),
        "message": "" if succeeded else results[0]["message"],
        "results": _wrap(results, "refund_mapping_result", call.simplify),
    }


def _cannot_refuse(refund: Refund) -> str | None:
    if any(m in refund.reason for m in NO_REASON_MARKERS):
        return "七天无理由退换货的退款不能拒绝"
    if refund.operation_contraint == "cannot_refuse":
        return "该退款不允许拒绝"
    if refund.order_status == "WAIT_SELLER_SEND_GOODS":
        return "卖家未发货的退款不能拒绝"
    return None


@api("taobao.refund.refuse")
def _refuse(gw: TopGateway, call: Call) -> dict[str, Any]:
    refund = _refund(call)
    message = call.params.get("refuse_message") or ""
    if not message:
        raise _missing("refuse_message")
    if not 2 <= len(message) <= 200:
        raise _invalid("refuse_message", "拒绝退款说明长度为 2-200 个字符")
    _check_image(call.files.get("refuse_proof"), 130_000, required=call.shop.tmall)
    if call.shop.tmall:
        for name in ("refund_phase", "refund_version"):
            if not call.params.get(name):
                raise _missing(name)
    _check_version(refund, call, required=call.shop.tmall)
    if refund.status not in ("WAIT_SELLER_AGREE", "WAIT_SELLER_CONFIRM_GOODS"):
        raise _business("isv.refund-status-invalid", f"当前退款状态 {refund.status} 不能拒绝")
    why = _cannot_refuse(refund)
    if why:
        raise _business("isv.refund-cannot-refuse", why)
    refund.refused_at = call.now
    call.shop._set(refund, "SELLER_REFUSE_BUYER", "RefundSellerRefuseAgreement", call.now)
    return {
        "is_success": True,
        "refund": {
            "refund_id": str(refund.refund_id),
            "status": refund.status,
            "modified": format_cst(refund.modified),
        },
    }


@api("taobao.rp.returngoods.agree")
def _return_agree(gw: TopGateway, call: Call) -> dict[str, Any]:
    refund = _refund(call)
    address_id = call.params.get("seller_address_id")
    if not address_id:
        raise _missing("seller_address_id")
    if address_id not in call.shop.addresses:
        raise _business("isv.address-not-exist", f"退货地址 {address_id} 不存在")
    _check_version(refund, call, required=True)
    if refund.status != "WAIT_SELLER_AGREE" or not refund.has_good_return:
        raise _business("isv.refund-status-invalid", f"当前退款状态 {refund.status} 不能同意退货")
    refund.agreed_at = call.now
    refund.address = call.shop.addresses[address_id]
    call.shop._set(refund, "WAIT_BUYER_RETURN_GOODS", "RefundSellerAgreeAgreement", call.now)
    return {"is_success": True}


@api("taobao.rp.returngoods.refuse")
def _return_refuse(gw: TopGateway, call: Call) -> dict[str, Any]:
    if not call.shop.tmall:
        raise TopError(11, "Insufficient ISV Permissions", "isv.invalid-permission", "仅天猫商家可调用")
    refund = _refund(call)
    _check_image(call.files.get("refuse_proof"), 5 * 1024 * 1024, required=True)
    if not call.params.get("refuse_reason_id"):
        raise _missing("refuse_reason_id")
    _check_version(refund, call, required=True)
    if refund.status != "WAIT_SELLER_CONFIRM_GOODS":
        raise _business("isv.refund-status-invalid", f"当前退款状态 {refund.status} 不能拒绝收货")
    refund.refused_at = call.now
    call.shop._set(refund, "SELLER_REFUSE_BUYER", "RefundSellerRefuseAgreement", call.now)
    return {"is_success": True}


@api("taobao.rp.refund.review")
def _review(gw: TopGateway, call: Call) -> dict[str, Any]:
    if not call.shop.tmall:
        raise TopError(11, "Insufficient ISV Permissions", "isv.invalid-permission", "仅天猫商家可调用")
    refund = _refund(call)
    for name in ("operator", "refund_phase", "result"):
        if not call.params.get(name):
            raise _missing(name)
    _check_version(refund, call, required=True)
    refund.reviewed = call.params["result"].lower() == "true"
    return {"is_success": True}


@api("taobao.tmc.messages.consume")
def _tmc_consume(gw: TopGateway, call: Call) -> dict[str, Any]:
    quantity = int(call.params.get("quantity") or 100)
    if not 10 <= quantity <= 200:
        raise _invalid("quantity", "quantity 取值范围 10-200")
    live = [m for m in call.shop.messages if not m.confirmed and call.now - m.pub_time <= TMC_KEEP]
    out = [m.to_json(call.shop.app_key) for m in live[:quantity]]
    return {"messages": _wrap(out, "tmc_message", call.simplify)}


@api("taobao.tmc.messages.confirm")
def _tmc_confirm(gw: TopGateway, call: Call) -> dict[str, Any]:
    ids = {i for i in (call.params.get("s_message_ids") or "").split(",") if i}
    if not ids:
        raise _missing("s_message_ids")
    if len(ids) > 200:
        raise _invalid("s_message_ids", "一次最多确认 200 条消息")
    for m in call.shop.messages:
        if str(m.id) in ids:
            m.confirmed = True
    return {"is_success": True}


class TopGateway(FakePlatformServer):
    """The fake ``/router/rest``: one gateway, any number of simulated shops keyed by app key."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        super().__init__(clock=clock or FakeClock())
        self.shops: dict[str, SimShop] = {}
        self._garble_next = False
        self._garbled: set[str] = set()

    def setup_routes(self, app: web.Application) -> None:
        app.router.add_post("/router/rest", self.handle)

    @property
    def url(self) -> str:
        return f"{self.base_url}/router/rest"

    def add_shop(self, shop: SimShop) -> SimShop:
        self.shops[shop.app_key] = shop
        return shop

    def advance(self, delta: timedelta) -> None:
        """Move the clock; every shop's cases move on as Taobao moves them."""
        self.clock.advance(delta)
        for shop in self.shops.values():
            shop.run_until(self.clock.now())

    def maybe_garble(self, record: dict[str, Any]) -> dict[str, Any]:
        """Play the ``malformed`` fault on one record of a list answer."""
        if not self._garble_next:
            return record
        self._garble_next = False
        if "refund_id" in record:
            self._garbled.add(str(record["refund_id"]))  # its detail comes back garbled too
        return {**record, "modified": "not-a-time", "created": "??", "refund_fee": "abc", "payment": "abc"}

    def _respond(self, method: str, body: dict[str, Any], simplify: bool) -> web.Response:
        payload = body if simplify else {response_key(method): {**body, "request_id": secrets.token_hex(6)}}
        return web.json_response(payload, dumps=lambda o: json.dumps(o, ensure_ascii=False))

    @staticmethod
    def _error(err: TopError) -> web.Response:
        return web.json_response(
            {"error_response": {**err.body, "request_id": secrets.token_hex(6)}},
            dumps=lambda o: json.dumps(o, ensure_ascii=False),
        )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        params: dict[str, str] = {}
        files: dict[str, bytes] = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = value.file.read()
            else:
                params[key] = str(value)
        method = params.get("method", "")
        self.record(method, params)
        fault = self.take_fault(method)
        if fault is not None:
            if fault.kind == "timeout":
                await self.stall(fault)
            elif fault.kind == "rate_limit":
                return self._error(
                    TopError(
                        7,
                        "App Call Limited",
                        "accesscontrol.limited-by-api-access-count",
                        f"This ban will last for {max(1, math.ceil(fault.seconds))} more seconds",
                    )
                )
            elif fault.kind == "auth_expired":
                return self._error(
                    TopError(
                        27,
                        "Invalid session:session-expired",
                        "session-expired",
                        "非法或过期的SessionKey参数，请使用有效的SessionKey参数",
                    )
                )
            elif fault.kind in ("server_error", "isp"):
                return self._error(
                    TopError(
                        15, "Remote service error", "isp.top-remote-connection-timeout", "远程服务调用超时"
                    )
                )
            elif fault.kind == "unavailable":
                return self._error(TopError(10, "Service Currently Unavailable", "isp.service-unavailable"))
            elif fault.kind == "bad_timestamp":  # a gateway whose clock jumped: refuses the timestamp
                return self._error(
                    TopError(31, "Invalid Timestamp", None, "淘宝API服务端允许客户端请求最大时间误差为10分钟")
                )
            elif fault.kind == "http_500":
                return web.Response(status=502, text="Bad Gateway")
            elif fault.kind == "malformed":
                if method in ("taobao.trades.sold.increment.get", "taobao.refunds.receive.get"):
                    self._garble_next = True
                else:
                    return web.Response(
                        text='{"' + response_key(method) + '": {"tru', content_type="application/json"
                    )
        try:
            shop = self._authenticate(method, params)
            handler = _HANDLERS[method]
            now = self.clock.now()
            shop.run_until(now)
            body = handler(
                self,
                Call(
                    shop=shop,
                    params=params,
                    files=files,
                    simplify=params.get("simplify", "false").lower() == "true",
                    now=now,
                ),
            )
        except TopError as err:
            return self._error(err)
        return self._respond(method, body, params.get("simplify", "false").lower() == "true")

    def _authenticate(self, method: str, params: dict[str, str]) -> SimShop:
        """The gateway's own checks, in TOP's codes (TOP's error code table)."""
        if not method:
            raise TopError(21, "Missing Method")
        if method not in _HANDLERS:
            raise TopError(22, "Invalid Method", "isv.method-not-exist", f"方法 {method} 不存在")
        app_key = params.get("app_key")
        if not app_key:
            raise TopError(28, "Missing App Key")
        shop = self.shops.get(app_key)
        if shop is None:
            raise TopError(29, "Invalid App Key")
        if params.get("format", "xml") != "json":
            raise TopError(23, "Invalid Format", None, "this sandbox answers format=json only")
        if not params.get("v"):
            raise TopError(32, "Missing Version")
        if params["v"] != "2.0":
            raise TopError(33, "Invalid Version")
        if not params.get("timestamp"):
            raise TopError(30, "Missing Timestamp")
        try:
            stamp = parse_cst(params["timestamp"])
        except ValueError as err:
            raise TopError(31, "Invalid Timestamp", None, "时间戳格式应为 yyyy-MM-dd HH:mm:ss") from err
        # taobao.time.get is how a client learns the platform's clock, so it is not held to it.
        if method != "taobao.time.get" and abs(stamp - self.clock.now()) > TIMESTAMP_SKEW:
            raise TopError(31, "Invalid Timestamp", None, "淘宝API服务端允许客户端请求最大时间误差为10分钟")
        given = params.get("sign")
        if not given:
            raise TopError(24, "Missing Signature")
        try:
            expected = sign(params, shop.secret, params.get("sign_method", "md5"))
        except ValueError as err:
            raise TopError(25, "Invalid Signature", None, "不支持的 sign_method") from err
        if given != expected:
            raise TopError(25, "Invalid Signature")
        if method not in _NO_SESSION:
            session = params.get("session")
            if not session:
                raise TopError(26, "Missing Session")
            if session != shop.session:
                raise TopError(27, "Invalid session", "invalid-sessionkey")
            if shop.session_expired:
                raise TopError(
                    27,
                    "Invalid session:session-expired",
                    "session-expired",
                    "非法或过期的SessionKey参数，请使用有效的SessionKey参数",
                )
        return shop


# --- a realistic demo shop ----------------------------------------------------------------------

PRODUCTS = (
    ("纯棉短袖T恤 男款", 5900),
    ("高腰阔腿牛仔裤", 12900),
    ("真丝印花连衣裙", 39900),
    ("加绒连帽卫衣", 15900),
    ("羊毛针织开衫", 26900),
    ("防晒冰丝外套", 8900),
    ("运动速干短裤", 4900),
    ("法式碎花半身裙", 11900),
    ("羽绒马甲 轻薄款", 29900),
    ("帆布双肩包", 9900),
    ("真皮小白鞋", 45900),
    ("儿童纯棉睡衣套装", 6900),
)
SKU_NAMES = ("颜色分类:白色;尺码:M", "颜色分类:黑色;尺码:L", "颜色分类:杏色;尺码:S", "颜色分类:藏青;尺码:XL")
BUYERS = (
    "tb_小鹿",
    "星河漫步",
    "tbtest561",
    "夏天的风",
    "柠檬不酸",
    "阿狸爱买",
    "木子李",
    "一只小胖橘",
    "晚风轻拂",
    "暖暖的光",
    "开心果",
    "云朵朵",
)
REASONS_RETURN = ("七天无理由退换货", "尺码不合适", "质量问题", "颜色/款式与描述不符", "收到商品破损")
REASONS_REFUND = ("不想要了", "拍错/多拍", "未按约定时间发货", "协商一致退款", "缺货")


@dataclass
class _Builder:
    """Builds one shop's history deterministically relative to ``now``."""

    shop: SimShop
    now: datetime
    rng: random.Random
    tid_base: int
    refund_base: int
    _refunds: int = 0

    def _t(self, ago: timedelta) -> datetime:
        return _second(self.now - ago)

    def trade(
        self, created_ago: timedelta, status: str, *, trade_type: str = "fixed", step: str | None = None
    ) -> Trade:
        tid = self.tid_base + len(self.shop.trades) * 7919
        created = self._t(created_ago)
        orders = []
        for i in range(self.rng.choice((1, 1, 1, 2, 2, 3))):
            title, price = self.rng.choice(PRODUCTS)
            orders.append(
                SubOrder(
                    oid=tid + i + 1 if i else tid,
                    title=title,
                    price_fen=price,
                    num=self.rng.choice((1, 1, 2)),
                    sku_id=str(5938000 + self.rng.randrange(999)),
                    outer_sku_id=f"SKU-{self.rng.randrange(100, 999)}",
                    status=status,
                )
            )
        trade = Trade(
            tid=tid,
            type=trade_type,
            status=status,
            created=created,
            modified=created,
            buyer_nick=self.rng.choice(BUYERS),
            seller_nick=self.shop.nick,
            orders=orders,
            post_fen=self.rng.choice((0, 0, 0, 600, 1000)),
            step_trade_status=step,
        )
        if status not in ("WAIT_BUYER_PAY", "TRADE_NO_CREATE_PAY", "TRADE_CLOSED_BY_TAOBAO"):
            trade.pay_time = created + timedelta(minutes=self.rng.randrange(1, 30))
            trade.modified = trade.pay_time
        if status in ("WAIT_BUYER_CONFIRM_GOODS", "TRADE_FINISHED", "TRADE_CLOSED"):
            assert trade.pay_time is not None
            trade.consign_time = trade.pay_time + timedelta(hours=self.rng.randrange(2, 40))
            trade.modified = trade.consign_time
            for o in orders:
                o.invoice_no, o.logistics_company = f"YT{self.rng.randrange(10**11, 10**12)}", "圆通速递"
        if status == "TRADE_FINISHED":
            assert trade.consign_time is not None
            trade.end_time = trade.consign_time + timedelta(days=self.rng.randrange(2, 6))
            trade.modified = trade.end_time
        if status == "TRADE_CLOSED_BY_TAOBAO":
            trade.end_time = created + timedelta(hours=self.rng.randrange(1, 48))
            trade.modified = trade.end_time
        trade.modified = min(trade.modified, _second(self.now))
        self.shop.trades[tid] = trade
        return trade

    def refund(
        self,
        trade: Trade,
        status: str,
        created_ago: timedelta,
        *,
        has_return: bool,
        reason: str,
        **extra: Any,
    ) -> Refund:
        self._refunds += 1
        order = trade.orders[0]
        created = self._t(created_ago)
        refund = Refund(
            refund_id=self.refund_base + self._refunds * 131,
            tid=trade.tid,
            oid=order.oid,
            status=status,
            created=created,
            modified=created,
            reason=reason,
            refund_fen=order.payment_fen,
            total_fen=order.payment_fen,
            has_good_return=has_return,
            title=order.title,
            buyer_nick=trade.buyer_nick,
            seller_nick=self.shop.nick,
            order_status=trade.status,
            refund_phase="aftersale" if trade.status == "TRADE_FINISHED" else "onsale",
            trade_type=trade.type,
            dispute_type="REFUND_AND_RETURN" if has_return else "REFUND",
            good_status="BUYER_NOT_RECEIVED"
            if trade.status == "WAIT_SELLER_SEND_GOODS"
            else "BUYER_RECEIVED",
            desc=self.rng.choice(("", "麻烦尽快处理", "图片已上传", "")),
        )
        for key, value in extra.items():
            setattr(refund, key, value)
        last = max(
            [refund.created]
            + [
                v
                for v in (refund.agreed_at, refund.good_return_time, refund.refused_at, refund.cs_since)
                if v is not None
            ]
        )
        refund.modified = _second(min(last, self.now))
        refund.version = int(refund.modified.timestamp() * 1000)
        self.shop.refunds[refund.refund_id] = refund
        order.refund_status, order.refund_id = status, refund.refund_id
        trade.modified = max(trade.modified, refund.modified)
        if status == "SUCCESS" and all(o.refund_status == "SUCCESS" for o in trade.orders):
            trade.status = "TRADE_CLOSED"
            for o in trade.orders:
                o.status = "TRADE_CLOSED"
            trade.end_time = refund.modified
        if self.now - refund.modified < TMC_KEEP:
            self.shop.publish(
                "refund_RefundCreated",
                {
                    "refund_id": refund.refund_id,
                    "tid": trade.tid,
                    "oid": order.oid,
                    "refund_fee": fen_to_yuan(refund.refund_fen),
                    "bill_type": "return_bill" if has_return else "refund_bill",
                    "modified": format_cst(refund.modified),
                },
                refund.modified,
            )
        return refund


def build_shop(
    shop: SimShop, now: datetime, *, seed: int, trades: int, tid_base: int, refund_base: int
) -> SimShop:
    """A realistic shop: ``trades`` trades over 20 days and after-sales cases in every status."""
    b = _Builder(
        shop=shop, now=_second(now), rng=random.Random(seed), tid_base=tid_base, refund_base=refund_base
    )
    rng = b.rng
    h, d = timedelta(hours=1), timedelta(days=1)
    for i in range(trades):
        age = timedelta(minutes=rng.randrange(5, 20 * 24 * 60))
        if age < 2 * h:
            status = rng.choice(("WAIT_BUYER_PAY", "WAIT_SELLER_SEND_GOODS"))
        elif age < 4 * d:
            status = rng.choice(
                (
                    "WAIT_SELLER_SEND_GOODS",
                    "WAIT_BUYER_CONFIRM_GOODS",
                    "WAIT_BUYER_CONFIRM_GOODS",
                    "TRADE_CLOSED_BY_TAOBAO",
                )
            )
        elif age < 9 * d:
            status = rng.choice(("WAIT_BUYER_CONFIRM_GOODS", "TRADE_FINISHED"))
        else:
            status = rng.choice(
                ("TRADE_FINISHED", "TRADE_FINISHED", "TRADE_FINISHED", "TRADE_CLOSED_BY_TAOBAO")
            )
        trade_type = rng.choice(("fixed", "fixed", "fixed", "guarantee_trade"))
        step = None
        if i % 40 == 0 and status == "WAIT_SELLER_SEND_GOODS":
            trade_type, step = "step", "FRONT_PAID_FINAL_PAID"
        b.trade(age, status, trade_type=trade_type, step=step)
    # Deterministic variety for the rules (no draw from rng, so the generated shop stays the same):
    # a listing promising 24 h, and a parcel marked shipped that no courier picked up.
    listed = [
        t for t in shop.trades.values() if t.status == "WAIT_SELLER_SEND_GOODS" and not t.step_trade_status
    ]
    if listed:
        listed[0].consign_interval = 24
    on_way = [t for t in shop.trades.values() if t.status == "WAIT_BUYER_CONFIRM_GOODS"]
    if on_way:
        on_way[0].pickup_after = None
    # after-sales cases across every status, each on a trade of a fitting state
    unshipped = lambda age: b.trade(age, "WAIT_SELLER_SEND_GOODS")  # noqa: E731
    shipped = lambda age: b.trade(age, "WAIT_BUYER_CONFIRM_GOODS")  # noqa: E731
    finished = lambda age: b.trade(age, "TRADE_FINISHED")  # noqa: E731
    refund_reasons = REASONS_REFUND
    for k in range(5):  # refund-only on unshipped orders: the seller cannot refuse
        b.refund(
            unshipped(d * (1 + k % 3)),
            "WAIT_SELLER_AGREE",
            h * (5 + 12 * k),
            has_return=False,
            reason=refund_reasons[k % len(refund_reasons)],
        )
    for k in range(4):  # return requests waiting for the seller, one 七天无理由, one cannot_refuse
        b.refund(
            shipped(d * (3 + k)),
            "WAIT_SELLER_AGREE",
            h * (8 + 15 * k),
            has_return=True,
            reason=REASONS_RETURN[k % len(REASONS_RETURN)],
            operation_contraint="cannot_refuse" if k == 3 else None,
        )
    big = shipped(d * 4)  # a large one (a 1,200-yuan coat): agreeing asks for an SMS code
    del big.orders[1:]
    big.orders[0].price_fen, big.orders[0].num, big.orders[0].title = 120_000, 1, "真丝刺绣大衣"
    b.refund(
        big,
        "WAIT_SELLER_AGREE",
        h * 60,
        has_return=False,
        reason="收到商品破损",
        refund_fen=120_000,
        total_fen=120_000,
    )
    for k in range(4):  # agreed returns the buyer must ship; two will ship
        agreed = b._t(d * (1 + k))
        b.refund(
            finished(d * 12),
            "WAIT_BUYER_RETURN_GOODS",
            d * (2 + k),
            has_return=True,
            reason="尺码不合适",
            agreed_at=agreed,
            address=shop.addresses["1001"],
            plan=Plan(ship_return_after=d * (2 + k) if k % 2 else None),
        )
    for k in range(4):  # returns on their way back to the seller
        shipped_at = b._t(d * (1 + 2 * k))
        b.refund(
            finished(d * 15),
            "WAIT_SELLER_CONFIRM_GOODS",
            d * (3 + 2 * k),
            has_return=True,
            reason="质量问题",
            agreed_at=shipped_at - d,
            good_return_time=shipped_at,
            good_status="BUYER_RETURNED_GOODS",
            company_name="中通快递",
            sid=f"75893{k}2210488",
        )
    for k in range(3):  # refused; two buyers will ask Taobao to step in
        b.refund(
            shipped(d * 6),
            "SELLER_REFUSE_BUYER",
            h * (30 + 20 * k),
            has_return=k == 0,
            reason="颜色/款式与描述不符",
            refused_at=b._t(h * (20 + 20 * k)),
            plan=Plan(escalate=k < 2, ruling_for_buyer=k == 0),
        )
    for cs, ago in ((3, d * 5), (10, d * 6), (11, d * 9)):  # under intervention / evidence / appeal open
        status = "SELLER_REFUSE_BUYER" if cs != 11 else "SUCCESS"
        b.refund(
            finished(d * 14),
            status,
            ago,
            has_return=True,
            reason="质量问题",
            cs_status=cs,
            cs_since=b._t(h * 12) if cs != 11 else None,
            refused_at=b._t(ago - d),
        )
    for k in range(6):  # history
        b.refund(
            finished(d * 18),
            "SUCCESS" if k % 2 else "CLOSED",
            d * (10 + k),
            has_return=bool(k % 3),
            reason=REASONS_RETURN[k % len(REASONS_RETURN)],
        )
    if shop.tmall:
        for k, status in enumerate(("1", "2", "3", "12", "13", "5", "4")):
            trade = finished(d * (8 + k))
            created = b._t(d * (1 + k))
            order = trade.orders[0]
            exchange = Exchange(
                refund_id=refund_base + 900_000 + k * 17,
                tid=trade.tid,
                oid=order.oid,
                status=status,
                created=created,
                modified=_second(created + h * 3),
                reason="尺码不合适（换货）",
                refund_fen=order.payment_fen,
                title=order.title,
                buyer_nick=trade.buyer_nick,
                buyer_logistic_no=f"ZT{k}88102233" if status in ("3", "12", "13", "5") else None,
                seller_logistic_no=f"SF{k}1022998" if status in ("13", "5") else None,
            )
            shop.exchanges[exchange.refund_id] = exchange
    shop.run_until(_second(now))
    return shop


# --- the Sandbox for ``hub demo`` and the conformance harness -----------------------------------


class TaobaoSandbox:
    """A running fake TOP with one Taobao shop and one Tmall shop, generated relative to now."""

    def __init__(self, *, clock: FakeClock | None = None, seed: int = 20240501, trades: int = 300) -> None:
        self.gateway = TopGateway(clock or WallClock())  # the demo's: it follows real time
        self._real_time = clock is None
        self.seed = seed
        self.trades = trades
        self.taobao: SimShop | None = None
        self.tmall: SimShop | None = None

    async def start(self, workdir: str = "") -> Sequence[DemoShop]:
        """Serve on loopback and return the two demo shops (the clock is set to the real time
        unless a clock was given, so deadlines look real)."""
        if self._real_time:
            self.gateway.clock.set(utcnow().replace(microsecond=0))
        now = self.gateway.clock.now()
        rng = random.Random(self.seed)
        self.taobao = self.gateway.add_shop(
            build_shop(
                SimShop(
                    name="淘宝演示店",
                    nick="demo_taobao",
                    app_key="12497914",
                    secret=f"tb-{rng.getrandbits(64):x}",
                    session=f"6100{rng.getrandbits(64):x}",
                ),
                now,
                seed=self.seed,
                trades=self.trades,
                tid_base=2231958349000,
                refund_base=83_477_000,
            )
        )
        self.tmall = self.gateway.add_shop(
            build_shop(
                SimShop(
                    name="天猫演示旗舰店",
                    nick="demo_tmall",
                    app_key="12497915",
                    secret=f"tm-{rng.getrandbits(64):x}",
                    session=f"6200{rng.getrandbits(64):x}",
                    tmall=True,
                ),
                now,
                seed=self.seed + 1,
                trades=max(10, self.trades // 2),
                tid_base=3231958349000,
                refund_base=93_477_000,
            )
        )
        await self.gateway.start()
        return [self.demo_shop(self.taobao), self.demo_shop(self.tmall)]

    def demo_shop(self, shop: SimShop, **overrides: str) -> DemoShop:
        settings = {
            "app_key": shop.app_key,
            "app_secret": shop.secret,
            "session": shop.session,
            "gateway_url": self.gateway.url,
            "sign_method": "hmac" if shop.tmall else "md5",
            "tmall": "true" if shop.tmall else "false",
            # A small shop: one-day windows (TOP's largest) keep the first sync to a few calls.
            "sync_window": "1d",
            # A sandbox on loopback: no quota to protect.
            "rate_limit": "500",
            **overrides,
        }
        return DemoShop(name=shop.name, settings=settings)

    async def stop(self) -> None:
        await self.gateway.stop()


class TaobaoHarness:
    """The conformance harness: the Tmall demo shop (it syncs all three resources)."""

    platform_id = "taobao"

    def __init__(self, sandbox: TaobaoSandbox, shop: DemoShop) -> None:
        import plugins.taobao as plugin

        self.plugin = plugin
        self.sandbox = sandbox
        self.shop = shop

    @classmethod
    async def started(cls, *, trades: int = 60, request_timeout: str = "0.5") -> TaobaoHarness:
        sandbox = TaobaoSandbox(
            clock=FakeClock(datetime(2026, 11, 1, 2, 0, tzinfo=utcnow().tzinfo)), trades=trades
        )
        await sandbox.start("")
        assert sandbox.tmall is not None
        return cls(sandbox, sandbox.demo_shop(sandbox.tmall, request_timeout=request_timeout))

    @property
    def sim(self) -> SimShop:
        assert self.sandbox.tmall is not None
        return self.sandbox.tmall

    def now(self) -> datetime:
        return self.sandbox.gateway.clock.now()

    def advance(self, delta: timedelta) -> None:
        self.sandbox.gateway.advance(delta)

    def expected_counts(self) -> dict[str, int]:
        now = self.now()
        return {
            "trade": sum(t.modified <= now for t in self.sim.trades.values()),
            "refund": sum(r.modified <= now for r in self.sim.refunds.values()),
            "tmall_dispute": sum(x.modified <= now for x in self.sim.exchanges.values()),
        }

    def inject(self, kind: str, *, count: int = 1, seconds: float = 1.0) -> None:
        self.sandbox.gateway.inject(kind, count=count, seconds=seconds)

    def corrupt_one(self) -> str:
        refund = next(
            r for r in sorted(self.sim.refunds.values(), key=lambda r: r.refund_id) if not r.malformed
        )
        refund.malformed = True
        refund.touch(self.now())
        return str(refund.refund_id)

    def modify_one(self) -> str:
        now = self.now()
        for refund in sorted(self.sim.refunds.values(), key=lambda r: r.refund_id):
            if refund.malformed or refund.cs_status in INTERVENING:
                continue
            if refund.status == "WAIT_BUYER_RETURN_GOODS":
                self.sim.buyer_ships_return(refund, now)
                return str(refund.refund_id)
            if refund.status == "WAIT_SELLER_AGREE":
                self.sim._set(refund, "CLOSED", "RefundClosed", now)  # the buyer withdraws the request
                return str(refund.refund_id)
        raise LookupError("no open refund left to modify")

    async def stop(self) -> None:
        await self.sandbox.stop()


__all__ = [
    "Exchange",
    "Plan",
    "Refund",
    "SimShop",
    "TaobaoHarness",
    "TaobaoSandbox",
    "TopError",
    "TopGateway",
    "Trade",
    "build_shop",
]
