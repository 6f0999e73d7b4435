"""The sandbox's fake TOP gateway: it checks what the real gateway checks (app key, signature,
±10 min timestamp against its own clock, session), pages like TOP (modified time descending,
page_size ≤ 100, windows ≤ 1 day), answers in TOP's envelopes (wrapped lists, or simplified with
``simplify=true``), answers the write APIs with refund_version checks, serves TMC messages, and
plays back faults.
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from hub.clock import format_cst, parse_cst
from hub.money import fen_to_yuan
from hub.testing.fake_server import FakeClock, FakePlatformServer

from .client import response_key, sign
from .mapping import NO_REASON_MARKERS
from .sandbox_shop import TMC_KEEP, Refund, SimShop

TIMESTAMP_SKEW = timedelta(minutes=10)  #: TOP: the server allows at most 10 minutes of error
MAX_WINDOW = timedelta(days=1)  #: TOP: end_modified - start_modified <= 1 day
#: TOP's default trade types when ``type`` is not given (trades.sold.increment.get), and
#: refunds.receive.get's default.
DEFAULT_TRADE_TYPES = frozenset({"guarantee_trade", "auto_delivery", "ec", "cod", "step"})
DEFAULT_REFUND_TYPES = frozenset({"guarantee_trade", "auto_delivery"})
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


@api("taobao.logistics.address.search")
def _address_search(gw: TopGateway, call: Call) -> dict[str, Any]:
    """The seller's address book. ``rdef``: ``no_def`` the non-default addresses, ``get_def`` the
    default pickup address, ``cancel_def`` the default return address; absent, all of them."""
    rdef = call.params.get("rdef")
    if rdef not in (None, "", "no_def", "get_def", "cancel_def"):
        raise _invalid("rdef", "must be no_def, get_def or cancel_def")
    default = next(iter(call.shop.addresses), None)
    rows = [
        {
            "contact_id": int(ident),
            "contact_name": "售后组",
            "phone": "0571-88886666",
            "addr": text,
            "get_def": ident == default,
            "cancel_def": ident == default,
            "send_def": ident == default,
        }
        for ident, text in call.shop.addresses.items()
        if not rdef or (ident == default) != (rdef == "no_def")
    ]
    return {"addresses": _wrap(rows, "address_result", call.simplify)}


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
