"""A fake Pinduoduo router on loopback, and the Sandbox ``hub demo`` starts.

It behaves like the real one where the plugin depends on it (PDD's documented behaviour): one POST
router dispatching on ``type``; signature and 10-minute timestamp checks; the real error envelope
and per-API response keys (``pdd.refund.information.get`` unwrapped); pages of at most 100 in
``updated`` order, 30-minute windows; the list API's yuan strings and type numbering vs the
detail's fen integers and its own numbering; the agree actions, refusing a second agree as a
business error; a PMC websocket that redelivers what was not ACKed; and a clock that moves cases
on (``expire_time`` lapses → the platform agrees; refunds complete; buyers time out).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from aiohttp import WSMsgType, web

from hub.clock import format_cst
from hub.domain import AfterSaleKind
from hub.money import fen_to_yuan
from hub.platform import DemoShop
from hub.testing.fake_server import FakeClock, FakePlatformServer, WallClock

from . import sandbox_data
from .client import sign
from .push import digest
from .sandbox_data import (
    BUYER_TIMEOUT,
    REFUND_PROCESSING,
    SELLER_HOURS,
    SELLER_PENDING,
    SimCase,
    SimOrder,
    settle_order,
)

K = AfterSaleKind
LIST_TYPE = {K.REFUND_ONLY: 2, K.RETURN_REFUND: 3, K.EXCHANGE: 4, K.RESHIP: 5, K.REPAIR: 6}
DETAIL_TYPE = {K.REFUND_ONLY: 1, K.RETURN_REFUND: 2, K.EXCHANGE: 3, K.RESHIP: 4, K.REPAIR: 5}
MAX_SKEW = timedelta(minutes=10)
MAX_SPAN = 30 * 60
NO_AUTH = frozenset({"pdd.time.get"})
MALL_ID = 171504183


class PddError(Exception):
    def __init__(self, code: int, msg: str, sub_msg: str = "") -> None:
        super().__init__(msg)
        self.code, self.msg, self.sub_msg = code, msg, sub_msg


@dataclass
class PushMsg:
    id: int
    type: str
    content: dict[str, Any]
    send_time: int


@dataclass
class FakePddServer(FakePlatformServer):
    """The fake router. Credentials are the test's; state is in memory."""

    client_id: str = "sandbox-client"
    client_secret: str = "sandbox-secret"
    access_token: str = "sandbox-token"
    orders: dict[str, SimOrder] = field(default_factory=dict)
    cases: dict[int, SimCase] = field(default_factory=dict)
    addresses: list[dict[str, Any]] = field(default_factory=list)
    pending: dict[int, PushMsg] = field(default_factory=dict)
    acked: list[int] = field(default_factory=list)
    extra_frames: list[dict[str, Any]] = field(default_factory=list)
    #: False plays an app without PMC access (the 消息服务 permission not granted): 401 on connect
    pmc_allowed: bool = True
    token_expired: bool = False
    _msg_seq: int = 0
    _sockets: set[web.WebSocketResponse] = field(default_factory=set)
    _corrupt_next_page: bool = False

    # ------------------------------------------------------------------ setup

    def setup_routes(self, app: web.Application) -> None:
        app.router.add_post("/api/router", self._router)
        app.router.add_get("/message/{client_id}/{ts}/{digest}", self._pmc)
        app.on_shutdown.append(self._close_sockets)

    @property
    def gateway_url(self) -> str:
        return f"{self.base_url}/api/router"

    @property
    def push_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def load(self, orders: Sequence[SimOrder], cases: Sequence[SimCase]) -> None:
        self.orders = {o.order_sn: o for o in orders}
        self.cases = {c.id: c for c in cases}
        if not self.addresses:
            self.addresses = [
                {
                    "id": 9001,
                    "refund_address_id": "9001",
                    "is_default": "0",
                    "refund_name": "售后仓",
                    "refund_phone": "13800000001",
                    "province_name": "浙江省",
                    "city_name": "杭州市",
                    "district_name": "余杭区",
                    "refund_address": "仓前街道 1 号 售后组",
                    "is_validated": True,
                },
                {
                    "id": 9002,
                    "refund_address_id": "9002",
                    "is_default": "1",
                    "refund_name": "退货组",
                    "refund_phone": "13800000002",
                    "province_name": "广东省",
                    "city_name": "广州市",
                    "district_name": "白云区",
                    "refund_address": "石井街道 88 号",
                    "is_validated": True,
                },
            ]

    def generate(
        self,
        *,
        seed: int = 20261101,
        span: timedelta = timedelta(days=11),
        linked_ages: tuple[float, ...] = (),
    ) -> None:
        """Load a realistic shop built relative to the clock's now (history reaching back ``span``)."""
        orders, cases = sandbox_data.generate(self.clock.now(), seed=seed, span=span, linked_ages=linked_ages)
        self.load(orders, cases)

    # ------------------------------------------------------------------ clock and life of cases

    def advance(self, delta: timedelta) -> None:
        self.clock.advance(delta)
        self.catch_up()

    def catch_up(self) -> None:
        """Apply every platform-side transition due by now, each at the time it fell due."""
        now = self.clock.now()
        for case in self.cases.values():
            while True:
                due = self._next_transition(case)
                if due is None or due[0] > now:
                    break
                at, status, role = due
                self._move(case, status, at, role=role)

    def _next_transition(self, c: SimCase) -> tuple[datetime, int, int] | None:
        if c.status in SELLER_PENDING and c.expire is not None:
            # PDD acts for a seller who let expire_time pass (the system, refund_operator_role 4).
            if c.status == 2 or (c.status == 3 and c.waybill) or c.status == 33:
                return c.expire, 4, 4
            if c.status == 3:
                return c.expire, 7, 4
            if c.status == 14:
                return c.expire, 15, 4
            if c.status == 21:
                return c.expire, 22, 4
        if c.status in (4, 5):
            return c.status_since + REFUND_PROCESSING, 10, c.operator_role
        if c.status == 7:
            return c.status_since + BUYER_TIMEOUT, 12, 4
        if c.status == 6:
            return c.status_since + BUYER_TIMEOUT, 13, 4
        return None

    def _move(self, c: SimCase, status: int, at: datetime, *, role: int | None = None) -> None:
        c.status, c.status_since, c.updated = status, at, at
        c.expire = at + timedelta(hours=SELLER_HOURS) if status in SELLER_PENDING else None
        if role is not None:
            c.operator_role = role
        kind = (
            "pdd_refund_RefundClosed"
            if status in (9, 11, 12, 13, 17, 24)
            else "pdd_refund_RefundSuccess"
            if status in (10, 16, 25)
            else "pdd_refund_RefundAgreeAgreement"
            if status in (4, 5, 7, 15, 22)
            else "pdd_refund_RefundBuyerModifyAgreement"
        )
        self._push_refund(kind, c, at)
        order = self.orders.get(c.order_sn)
        if order is not None:
            settle_order(order, [x for x in self.cases.values() if x.order_sn == c.order_sn])
            self._push(
                "pdd_trade_TradeModified",
                {"mall_id": MALL_ID, "tid": c.order_sn, "modified": _ms(order.updated)},
            )

    # ------------------------------------------------------------------ harness helpers

    def modify_one(self) -> str:
        """Move one open case on, now: the buyer ships a return, or cancels, or asks PDD to step in."""
        now = self.clock.now()
        by_status = sorted(self.cases.values(), key=lambda c: c.id)
        for c in by_status:
            if c.status == 7 and not c.corrupt:
                c.waybill, c.shipping_name = f"SF{c.id}9", "顺丰速运"
                self._move(c, 3, now, role=1)
                return str(c.id)
        for c in by_status:
            if c.status == 2 and not c.corrupt:
                self._move(c, 11, now, role=1)
                return str(c.id)
        for c in by_status:
            if c.status == 6 and not c.corrupt:
                c.join = True
                self._move(c, 8, now, role=1)
                return str(c.id)
        raise LookupError("no open case to modify")

    def corrupt_one(self) -> str:
        c = next(c for c in sorted(self.cases.values(), key=lambda c: c.id) if not c.corrupt)
        c.corrupt = True
        c.updated = self.clock.now()
        self._push_refund("pdd_refund_RefundBuyerModifyAgreement", c, c.updated)
        return str(c.id)

    def expected_counts(self) -> dict[str, int]:
        now = self.clock.now()
        return {
            "order": sum(1 for o in self.orders.values() if o.updated <= now),
            "after_sale": sum(1 for c in self.cases.values() if c.updated <= now),
        }

    def inject(self, kind: str, *, count: int = 1, seconds: float = 1.0, api: str | None = None) -> None:
        super().inject(kind, count=count, seconds=seconds, api=api)

    def push_frame(self, frame: dict[str, Any]) -> None:
        """Send a raw PMC frame on the next drain (tests: duplicates, disorder, junk)."""
        self.extra_frames.append(frame)

    # ------------------------------------------------------------------ PMC

    def _push(self, type_: str, content: dict[str, Any]) -> None:
        self._msg_seq += 1
        self.pending[self._msg_seq] = PushMsg(self._msg_seq, type_, content, int(time.time() * 1000))

    def _push_refund(self, type_: str, c: SimCase, at: datetime) -> None:
        self._push(
            type_,
            {
                "mall_id": MALL_ID,
                "refund_fee": c.refund_fen,
                "bill_type": 1,
                "modified": _ms(at),
                "refund_id": c.id,
                "operation": 1000,
                "tid": c.order_sn,
            },
        )

    async def _pmc(self, request: web.Request) -> web.StreamResponse:
        cid, ts, dig = (request.match_info[k] for k in ("client_id", "ts", "digest"))
        if not self.pmc_allowed:
            raise web.HTTPUnauthorized(text="the app has no permission for the message service")
        if cid != self.client_id or not ts.isdigit() or dig != digest(cid, self.client_secret, int(ts)):
            raise web.HTTPForbidden(text="digest mismatch")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        sent: set[int] = set()

        async def pump() -> None:
            while not ws.closed:
                self.catch_up()
                while self.extra_frames:
                    await ws.send_json(self.extra_frames.pop(0))
                for m in list(self.pending.values()):
                    if m.id not in sent:
                        sent.add(m.id)
                        await ws.send_json(
                            {
                                "id": m.id,
                                "commandType": "Common",
                                "time": int(time.time() * 1000),
                                "sendTime": m.send_time,
                                "message": {
                                    "type": m.type,
                                    "mallID": MALL_ID,
                                    "content": json.dumps(m.content),
                                },
                            }
                        )
                await asyncio.sleep(0.02)

        task = asyncio.create_task(pump())
        try:
            async for frame in ws:
                if frame.type is not WSMsgType.TEXT:
                    continue
                data = json.loads(frame.data)
                if data.get("commandType") == "Ack":
                    mid = int(data.get("id", -1))
                    if self.pending.pop(mid, None) is not None:
                        self.acked.append(mid)
        finally:
            task.cancel()
            self._sockets.discard(ws)
        return ws

    async def _close_sockets(self, app: web.Application) -> None:
        for ws in list(self._sockets):
            await ws.close()

    # ------------------------------------------------------------------ the router

    async def _router(self, request: web.Request) -> web.StreamResponse:
        self.catch_up()
        if request.content_type == "application/json":
            raw = await request.json()
        else:
            raw = dict(await request.post())
        params = {str(k): v for k, v in raw.items()} if isinstance(raw, dict) else {}
        api = str(params.get("type", ""))
        self.record(api, params)
        fault = self.take_fault(api)
        try:
            if fault is not None:
                early = await self._play(fault)
                if early is not None:
                    return early
            self._check_common(api, params)
            handler = self._apis().get(api)
            if handler is None:
                raise PddError(10017, "type不正确")
            body = handler(params)
        except PddError as err:
            body = {
                "error_response": {
                    "error_code": err.code,
                    "error_msg": err.msg,
                    "sub_msg": err.sub_msg,
                    "sub_code": None,
                    "request_id": f"{int(time.time() * 1e6)}",
                }
            }
        return self._json(body)

    def _json(self, body: Any, *, status: int = 200) -> web.Response:
        return web.json_response(
            body,
            status=status,
            dumps=lambda o: json.dumps(o, ensure_ascii=False),
            headers={"Date": format_datetime(self.clock.now().astimezone(UTC), usegmt=True)},
        )

    async def _play(self, fault: Any) -> web.StreamResponse | None:
        kind = fault.kind
        if kind == "rate_limit":
            # PDD states no ban length; the sandbox says it in sub_msg so tests stay fast.
            raise PddError(52101, "当前接口被限流，请稍后重试", f"请{fault.seconds:g}秒后重试")
        if kind == "auth_expired":
            raise PddError(10019, "access_token已过期")
        if kind == "server_error":
            raise PddError(50000, "系统内部错误")
        if kind == "stop":
            raise PddError(70032, "禁止调用")
        if kind == "timeout":
            await self.stall(fault)
            return None
        if kind == "malformed":
            return web.Response(
                text="<html><body>502 Bad Gateway</body></html>",
                content_type="text/html",
                headers={"Date": format_datetime(self.clock.now(), usegmt=True)},
            )
        if kind == "malformed_record":
            self._corrupt_next_page = True
            return None
        if kind == "http_500":
            return web.Response(status=500, text="Internal Server Error")
        raise ValueError(f"unknown fault {kind!r}")

    def _check_common(self, api: str, p: Mapping[str, Any]) -> None:
        for name in ("type", "client_id", "timestamp", "sign"):
            if not p.get(name):
                raise PddError(10001, f"公共参数错误:{name}")
        if p["client_id"] != self.client_id:
            raise PddError(10016, "client下线或者clientId不正确")
        if str(p["sign"]) != sign(p, self.client_secret):
            raise PddError(20004, "签名sign校验失败")
        try:
            ts = int(str(p["timestamp"]))
        except ValueError:
            raise PddError(10001, "公共参数错误:timestamp") from None
        if abs(ts - self.clock.now().timestamp()) > MAX_SKEW.total_seconds():
            raise PddError(10001, "公共参数错误:timestamp", "timestamp与服务器时间相差超过10分钟")
        if api not in NO_AUTH:
            if p.get("access_token") != self.access_token:
                raise PddError(20032, "access_token或client_id错误")
            if self.token_expired:
                raise PddError(10019, "access_token已过期")

    def _apis(self) -> dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]]:
        return {
            "pdd.time.get": lambda p: {"time_get_response": {"time": format_cst(self.clock.now())}},
            "pdd.order.number.list.increment.get": self._order_increment,
            "pdd.order.information.get": self._order_info,
            "pdd.refund.list.increment.get": self._refund_increment,
            "pdd.refund.information.get": self._refund_info,
            "pdd.refund.agree": self._agree,
            "pdd.refund.returngoods.agree": self._agree_return,
            "pdd.refund.address.list.get": lambda p: {
                "refund_address_list_get_response": {"refund_address_list": list(self.addresses)}
            },
        }

    # ------------------------------------------------------------------ read APIs

    def _window(self, p: Mapping[str, Any]) -> tuple[float, float]:
        try:
            start, end = int(str(p["start_updated_at"])), int(str(p["end_updated_at"]))
        except (KeyError, ValueError):
            raise PddError(10000, "参数错误", "start_updated_at/end_updated_at 必填") from None
        if end < start or end - start > MAX_SPAN:
            raise PddError(10000, "参数错误", "开始时间结束时间间距不超过 30 分钟")
        return start, end

    @staticmethod
    def _page(p: Mapping[str, Any]) -> tuple[int, int]:
        page = int(str(p.get("page") or 1))
        size = int(str(p.get("page_size") or 100))
        if page < 1 or not 1 <= size <= 100:
            raise PddError(10000, "参数错误", "page_size 最大 100")
        return page, size

    def _order_increment(self, p: Mapping[str, Any]) -> dict[str, Any]:
        start, end = self._window(p)
        for name in ("is_lucky_flag", "order_status", "refund_status"):
            if str(p.get(name, "")) == "":
                raise PddError(10000, "参数错误", f"{name} 必填")
        page, size = self._page(p)
        want_ship, want_refund = int(str(p["order_status"])), int(str(p["refund_status"]))
        now = self.clock.now()
        rows = sorted(
            (
                o
                for o in self.orders.values()
                if start <= o.updated.timestamp() <= end
                and o.updated <= now
                and want_ship in (5, o.order_status)
                and want_refund in (5, o.refund_status)
            ),
            key=lambda o: (o.updated, o.order_sn),
        )
        chunk = rows[(page - 1) * size : page * size]
        return {
            "order_sn_increment_get_response": {
                "total_count": len(rows),
                "has_next": page * size < len(rows),
                "order_sn_list": [render_order(o) for o in chunk],
            }
        }

    def _order_info(self, p: Mapping[str, Any]) -> dict[str, Any]:
        o = self.orders.get(str(p.get("order_sn", "")))
        return {"order_info_get_response": {"order_info": render_order(o) if o else None}}

    def _refund_increment(self, p: Mapping[str, Any]) -> dict[str, Any]:
        for name in ("after_sales_status", "after_sales_type"):
            if str(p.get(name, "")) == "":
                raise PddError(10000, "参数错误", f"{name} 必填")
        start, end = self._window(p)
        page, size = self._page(p)
        now = self.clock.now()
        if p.get("order_sn"):
            rows = [c for c in self.cases.values() if c.order_sn == str(p["order_sn"]) and c.updated <= now]
        else:
            status, type_ = int(str(p["after_sales_status"])), int(str(p["after_sales_type"]))
            rows = [
                c
                for c in self.cases.values()
                if start <= c.updated.timestamp() <= end
                and c.updated <= now
                and status in (1, c.status)
                and type_ in (1, LIST_TYPE[c.kind])
            ]
        rows.sort(key=lambda c: (c.updated, c.id))
        chunk = [render_list_row(c) for c in rows[(page - 1) * size : page * size]]
        if self._corrupt_next_page and chunk:
            self._corrupt_next_page = False
            chunk[0]["refund_amount"] = "N/A"
        return {"refund_increment_get_response": {"total_count": len(rows), "refund_list": chunk}}

    def _case_for(self, p: Mapping[str, Any]) -> SimCase:
        order_sn = str(p.get("order_sn", ""))
        if not order_sn:
            raise PddError(10000, "参数错误", "order_sn 必填")
        mine = [c for c in self.cases.values() if c.order_sn == order_sn]
        if p.get("after_sales_id") not in (None, ""):
            mine = [c for c in mine if str(c.id) == str(p["after_sales_id"])]
        if not mine:
            raise PddError(10000, "参数错误", "售后单不存在")
        return max(mine, key=lambda c: c.created)

    def _refund_info(self, p: Mapping[str, Any]) -> dict[str, Any]:
        return render_detail(self._case_for(p), self.orders.get(str(p.get("order_sn"))))

    # ------------------------------------------------------------------ write APIs

    def _request(self, p: Mapping[str, Any]) -> dict[str, Any]:
        raw = p.get("request")
        try:
            req = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            raise PddError(10000, "参数错误", "request 不是 JSON") from None
        if not isinstance(req, dict):
            raise PddError(10000, "参数错误", "request 必填")
        return req

    def _agree(self, p: Mapping[str, Any]) -> dict[str, Any]:
        req = self._request(p)
        c = self._case_for({"order_sn": req.get("order_sn"), "after_sales_id": req.get("after_sales_id")})
        if c.status not in (2, 3):
            return _result(c, False, "当前售后状态不允许同意退款，请勿重复操作", key="succ")
        self._move(c, 4, self.clock.now(), role=2)
        return _result(c, True, "退款操作成功", key="succ")

    def _agree_return(self, p: Mapping[str, Any]) -> dict[str, Any]:
        req = self._request(p)
        c = self._case_for({"order_sn": req.get("order_sn"), "after_sales_id": req.get("after_sales_id")})
        if str(req.get("return_address_id")) not in {str(a["refund_address_id"]) for a in self.addresses}:
            return _result(c, False, "退货地址不存在", key="success")
        if c.status != 3 or c.waybill or c.kind is not K.RETURN_REFUND:
            return _result(c, False, "当前售后状态不允许同意退货，请勿重复操作", key="success")
        self._move(c, 7, self.clock.now(), role=2)
        return _result(c, True, "同意退货成功", key="success")


def _result(c: SimCase, ok: bool, message: str, *, key: str) -> dict[str, Any]:
    return {
        "response": {
            "success": True,
            "result": {"after_sales_id": c.id, "order_sn": c.order_sn, key: ok, "message": message},
        }
    }


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _cst(at: datetime | None) -> str:
    return format_cst(at) if at else ""


def render_order(o: SimOrder) -> dict[str, Any]:
    """An order as the increment list and order_info carry it (money in yuan numbers)."""
    pay = o.pay_fen
    return {
        "order_sn": o.order_sn,
        "confirm_time": _cst(o.paid),
        "created_time": _cst(o.created),
        "pay_time": _cst(o.paid),
        "updated_at": _cst(o.updated),
        "last_ship_time": _cst(o.last_ship_time),
        "shipping_time": _cst(o.shipping_time),
        "receive_time": _cst(o.receive_time),
        "order_status": o.order_status,
        "refund_status": o.refund_status,
        "confirm_status": o.confirm_status,
        "group_status": o.group_status,
        "after_sales_status": o.after_sales_status,
        "is_lucky_flag": 1,
        "risk_control_status": 0,
        "trade_type": 0,
        "is_pre_sale": 0,
        "stock_out_handle_status": -1,
        "pay_amount": pay / 100,
        "goods_amount": o.price_fen * o.count / 100,
        "discount_amount": 0,
        "platform_discount": 0,
        "seller_discount": 0,
        "postage": o.postage_fen / 100,
        "capital_free_discount": 0,
        "pay_type": "WEIXIN",
        "logistics_id": 115 if o.tracking_number else 0,
        "tracking_number": o.tracking_number,
        "remark": "",
        "buyer_memo": "",
        "receiver_name_mask": o.receiver_name[0] + "**",
        "receiver_phone_mask": o.receiver_phone[:3] + "****" + o.receiver_phone[-4:],
        "province": "广东省",
        "city": "广州市",
        "town": "天河区",
        "item_list": [
            {
                "goods_id": o.goods_id,
                "sku_id": o.sku_id,
                "goods_name": o.goods_name,
                "goods_spec": o.goods_spec,
                "goods_price": o.price_fen / 100,
                "goods_count": o.count,
                "outer_id": "",
                "outer_goods_id": "",
                "goods_img": "https://img.pddpic.com/sandbox/goods.jpeg",
            }
        ],
    }


def render_list_row(c: SimCase) -> dict[str, Any]:
    """A pdd.refund.list.increment.get row: yuan strings, the request's type numbering."""
    return {
        "id": c.id,
        "order_sn": c.order_sn,
        "after_sales_status": c.status,
        "after_sales_type": LIST_TYPE[c.kind],
        "after_sale_reason": c.reason,
        "refund_amount": "N/A" if c.corrupt else fen_to_yuan(c.refund_fen),
        "order_amount": fen_to_yuan(c.refund_fen),
        "discount_amount": "0.00",
        "goods_id": 2542137428,
        "goods_name": "售后商品",
        "goods_price": fen_to_yuan(c.refund_fen),
        "goods_number": "1",
        "good_image": "https://img.pddpic.com/sandbox/goods.jpeg",
        "sku_id": "52494558847",
        "outer_id": "",
        "outer_goods_id": "",
        "tracking_number": c.waybill or "",
        "shipping_name": c.shipping_name or "",
        "created_time": _cst(c.created),
        "updated_time": _cst(c.updated),
        "confirm_time": _cst(c.created),
        "dispute_refund_status": 1 if c.join else 0,
        "speed_refund_flag": 0,
        "speed_refund_status": "",
        "user_shipping_status": "2",
        "refund_operator_role": c.operator_role,
    }


def render_detail(c: SimCase, order: SimOrder | None) -> dict[str, Any]:
    """pdd.refund.information.get: unwrapped, integer fen, the detail's own type numbering."""
    detail: dict[str, Any] = {
        "id": c.id,
        "order_sn": c.order_sn,
        "after_sales_status": c.status,
        "after_sales_type": DETAIL_TYPE[c.kind],
        "after_sales_reason": c.reason,
        "remark": c.remark,
        "images": list(c.images),
        "exist_images": bool(c.images),
        "refund_amount": "N/A" if c.corrupt else c.refund_fen,
        "order_amount": order.pay_fen if order else c.refund_fen,
        "goods_price": order.price_fen if order else c.refund_fen,
        "goods_number": order.count if order else 1,
        "discount_amount": 0,
        "sku_id": "52494558847",
        "express_no": c.waybill or "",
        "shipping_name": c.shipping_name or "",
        "shipping_status": 1 if c.waybill else 0,
        "user_shipping_status": "2",
        "expire_time": _ms(c.expire) if c.expire else None,
        "recreated_at": _ms(c.created),
        "confirm_time": _ms(c.created),
        "updated_time": _cst(c.updated),
        "join_or_not": "1" if c.join else "0",
        "dispute_refund_status": 1 if c.join else 0,
        "speed_refund_flag": 0,
        "refund_operator_role": c.operator_role,
        "part_after_sales_type": 0,
        "part_after_sales_value": 0,
    }
    if c.kind is K.EXCHANGE:
        detail["exchange_shipping_detail"] = {
            "is_fast_exchange": 0,
            "exchange_goods_price": order.price_fen if order else 0,
            "exchange_goods_spec": "白色 L",
        }
    return detail


class PddSandbox:
    """``hub demo``'s Pinduoduo: the fake router with a shop generated around the real current time."""

    def __init__(
        self, *, clock: FakeClock | None = None, seed: int = 20261101, span: timedelta = timedelta(days=3)
    ) -> None:
        # the demo's clock follows real time; tests pass a clock that moves only when told
        self.server = FakePddServer(clock=clock or WallClock(datetime.now(UTC).replace(microsecond=0)))
        self.seed = seed
        self.span = span
        self._real_time = clock is None

    async def start(self, workdir: str) -> Sequence[DemoShop]:
        if self._real_time:
            # The demo's shop is built around the real current time, so deadlines look real.
            self.server.clock.set(datetime.now(UTC).replace(microsecond=0))
        # Two sales the 17网 demo's purchases fulfil (their remarks name these order numbers).
        self.server.generate(seed=self.seed, span=self.span, linked_ages=(2.5, 1.5))
        await self.server.start()
        return [self.demo_shop()]

    def demo_shop(self) -> DemoShop:
        s = self.server
        return DemoShop(
            name="拼多多家居日用旗舰店",
            settings={
                "client_id": s.client_id,
                "client_secret": s.client_secret,
                "access_token": s.access_token,
                "gateway_url": s.gateway_url,
                "push_url": s.push_url,
                "request_timeout": "5",
                # The demo history reaches back `span`: the first sync need not read 30 days of
                # 30-minute windows at PDD's 10 calls/s (the published refund-list limit).
                "initial_sync_days": f"{self.span / timedelta(days=1) + 1:g}",
                "rate_limit": "100",
            },
        )

    async def stop(self) -> None:
        await self.server.stop()
