"""A fake JOS router for ``hub demo`` and the tests: one POP shop's service orders in memory.

It behaves like the gateway where that is known: ``/routerjson`` takes the system parameters in
the query or the form, checks ``v=2.0``, the app key, the md5 signature, the timestamp and the
access token, answers ``{"<method>_responce": {"code": "0", ...}}`` or ``{"error_response":
{"code", "zh_desc", "en_desc"}}``, and throttles an app that calls too often. Error codes and the
timestamp tolerance are unverified (see the README); the sandbox uses the values the client
classifies. Service orders move along the exchange and return flows as the clock advances.
"""

from __future__ import annotations

import json
import random
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

from aiohttp import web

from hub.clock import format_cst, parse_cst
from hub.platform import DemoShop
from hub.testing.fake_server import FakePlatformServer

from .client import API_VERSION, PARAM_JSON, envelope_key, sign

TIME_TOLERANCE = timedelta(minutes=10)
WARES = ("蓝牙耳机 Pro", "智能手表 S3", "移动电源 20000mAh", "机械键盘 K8", "电动牙刷 T2")
REASONS = ("商品质量问题", "尺码/型号不合适", "收到商品破损", "与描述不符", "不想要了")


@dataclass
class Service:
    """One service order: its JOS payload and the update time the list filters on."""

    payload: dict[str, Any]
    updated: datetime
    since: datetime  #: when it entered its current status (the flow moves on from there)


@dataclass
class FakeJosServer(FakePlatformServer):
    """The fake router and one shop. ``FakeJosServer()`` is a ready :class:`hub.platform.Sandbox`."""

    app_key: str = "jd-sandbox-app"
    app_secret: str = "jd-sandbox-secret"
    access_token: str = "jd-sandbox-token"
    bu_id: str = "10001"
    calls_per_second: int = 200  #: above this an app is throttled, as JOS does
    count: int = 60  #: service orders generated at start
    span: timedelta = timedelta(days=3)  #: how far back they were applied for
    seed: int = 20261201
    services: dict[int, Service] = field(default_factory=dict)
    token_expired: bool = False
    _recent: deque[float] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.generate()

    # --- the shop ------------------------------------------------------------------------------

    def generate(self) -> None:
        """A shop's worth of service orders of every kind and step, applied within ``span``."""
        rng = random.Random(self.seed)
        now = self.clock.now()
        steps = (10001, 10001, 10002, 10005, 10005, 10007, 10009, 10041, 10010, 10004, 10011)
        for i in range(self.count):
            expect = rng.choice((10, 10, 11, 20, 20, 30, 80))
            status = rng.choice(steps)
            if status == 10009 and expect in (10, 11):
                status = 10041
            if status == 10007 and expect == 11:
                status = 10041
            applied = (
                now - self.span + timedelta(minutes=rng.randrange(int(self.span.total_seconds() // 60) - 120))
            )
            updated = applied + timedelta(minutes=rng.randrange(1, 90))
            service_id = 700_000_000 + i
            payload = {
                "serviceId": service_id,
                "orderId": 250_000_000_000 + rng.randrange(10**9),
                "skuId": 100_000 + rng.randrange(900_000),
                "wareName": rng.choice(WARES),
                "serviceCount": 1,
                "customerExpect": expect,
                "serviceStatus": status,
                "applyRefundSum": rng.randrange(990, 59_900) if expect in (10, 11, 100) else 0,
                "applyReason": rng.choice(REASONS),
                "questionDesc": "客户描述：" + rng.choice(REASONS),
                "customerPin": f"jd_{rng.randrange(10**8):08d}",
                "customerName": rng.choice(("张先生", "李女士", "王先生", "赵女士")),
                "afsApplyTime": format_cst(applied),
                "updateTime": format_cst(updated),
                "sysVersion": 1,
                "expressCode": f"JDV{rng.randrange(10**12):012d}"
                if status == 10005 and rng.random() < 0.5
                else "",
            }
            self.services[service_id] = Service(payload=payload, updated=updated, since=updated)

    def touch(self, service_id: int, **changes: Any) -> None:
        """Change a service order now: a newer update time and version."""
        service = self.services[service_id]
        now = self.clock.now()
        if "serviceStatus" in changes and changes["serviceStatus"] != service.payload["serviceStatus"]:
            service.since = now
        service.payload.update(changes)
        service.payload["updateTime"] = format_cst(now)
        service.payload["sysVersion"] = int(service.payload["sysVersion"]) + 1
        service.updated = now

    def advance(self, delta: timedelta) -> None:
        """Move the clock; buyers ship returns, refunds complete, exchanges get confirmed."""
        self.clock.advance(delta)
        now = self.clock.now()
        for sid, s in sorted(self.services.items()):
            status, age = s.payload["serviceStatus"], now - s.since
            if status == 10005 and not s.payload.get("expressCode") and age >= timedelta(days=1):
                self.touch(sid, expressCode=f"JDV{sid:012d}")
            elif status == 10041 and age >= timedelta(days=1):
                self.touch(sid, serviceStatus=10010)
            elif status == 10009 and age >= timedelta(days=7):
                self.touch(sid, serviceStatus=10010)

    # --- the gateway ---------------------------------------------------------------------------

    def setup_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/routerjson", self.handle)

    @property
    def gateway_url(self) -> str:
        return f"{self.base_url}/routerjson"

    def demo_shops(self, workdir: str) -> Sequence[DemoShop]:
        return [DemoShop(name="京东数码专营店", settings=self.shop_settings())]

    def shop_settings(self, **overrides: str) -> dict[str, str]:
        return {
            "app_key": self.app_key,
            "app_secret": self.app_secret,
            "access_token": self.access_token,
            "bu_id": self.bu_id,
            "operate_pin": "hub_operator",
            "operate_nick": "售后客服",
            "gateway_url": self.gateway_url,
            "request_timeout": "5",
            "sync_window": "1d",
            "initial_sync_days": f"{self.span / timedelta(days=1) + 1:g}",
            "return_address": "广东省深圳市南山区科技园 售后组",
            "return_contact": "售后组",
            "return_mobile": "13800000000",
            "rate_limit": "100",
            **overrides,
        }

    def _answer(self, body: Mapping[str, Any], status: int = 200) -> web.Response:
        # The Date header is the sandbox's clock: the adapter reads JD's time from it.
        headers = {"Date": format_datetime(self.clock.now(), usegmt=True)}
        return web.json_response(body, status=status, headers=headers)

    def _error(self, code: str, zh: str, en: str) -> web.Response:
        return self._answer({"error_response": {"code": code, "zh_desc": zh, "en_desc": en}})

    async def handle(self, request: web.Request) -> web.Response:
        params: dict[str, str] = dict(request.query)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.post()).items()})
        method = params.get("method", "")
        self.record(method, params)
        fault = self.take_fault(method)
        if fault is not None:
            if fault.kind == "rate_limit":
                return self._error("74", "调用频率超过限制", "call frequency exceeds the limit")
            if fault.kind == "auth_expired":
                self.token_expired = True
            if fault.kind == "server_error":
                return web.Response(status=502, text="<html>502 Bad Gateway</html>")
            if fault.kind == "timeout":
                await self.stall(fault)
        now = time.monotonic()
        while self._recent and now - self._recent[0] > 1.0:
            self._recent.popleft()
        if len(self._recent) >= self.calls_per_second:
            return self._error("74", "调用频率超过限制", "call frequency exceeds the limit")
        self._recent.append(now)
        missing = [
            k for k in ("method", "app_key", "timestamp", "v", "sign", PARAM_JSON) if not params.get(k)
        ]
        if missing:
            return self._error("2", f"缺少参数 {','.join(missing)}", f"missing {','.join(missing)}")
        if params["v"] != API_VERSION:
            return self._error("3", "版本号错误", f"unsupported v={params['v']}")
        if params["app_key"] != self.app_key:
            return self._error("20", "app_key 无效", "invalid app_key")
        if params["sign"] != sign(params, self.app_secret):
            return self._error("25", "签名无效", "invalid sign")
        try:
            sent = parse_cst(params["timestamp"][:19])
        except ValueError:
            return self._error("4", "时间戳格式错误", "invalid timestamp")
        if abs(sent - self.clock.now()) > TIME_TOLERANCE:
            return self._error("4", "时间戳与服务器时间相差过大", "timestamp out of range")
        if params.get("access_token") != self.access_token or self.token_expired:
            return self._error("19", "access_token 已过期", "access_token expired")
        try:
            business = json.loads(params[PARAM_JSON])
        except ValueError:
            return self._error("5", "360buy_param_json 格式错误", "invalid 360buy_param_json")
        handler = self.METHODS.get(method)
        if handler is None:
            return self._error("6", "接口不存在", f"no method {method}")
        if str(business.get("buId") or "") != self.bu_id:
            return self._envelope(method, {"result": {"success": False, "code": "401", "msg": "buId 无权限"}})
        return self._envelope(method, handler(self, business))

    def _envelope(self, method: str, inner: Mapping[str, Any]) -> web.Response:
        return self._answer({envelope_key(method): {"code": "0", **inner}})

    # --- methods -------------------------------------------------------------------------------

    def _list(self, q: Mapping[str, Any]) -> dict[str, Any]:
        rows = sorted(self.services.values(), key=lambda s: (s.updated, s.payload["serviceId"]))
        if q.get("serviceId") is not None:
            rows = [s for s in rows if s.payload["serviceId"] == int(q["serviceId"])]
        if q.get("updateTimeBegin") and q.get("updateTimeEnd"):
            begin, end = parse_cst(q["updateTimeBegin"]), parse_cst(q["updateTimeEnd"])
            rows = [s for s in rows if begin <= s.updated <= end]
        size = max(1, min(50, int(q.get("pageSize") or 10)))
        number = max(1, int(q.get("pageNumber") or 1))
        data = [dict(s.payload) for s in rows[(number - 1) * size : number * size]]
        page = {"success": True, "code": "0", "msg": "", "pageSize": size, "pageNumber": number}
        return {"pageResult": {**page, "totalCount": len(rows), "data": data}}

    def _count(self, q: Mapping[str, Any]) -> dict[str, Any]:
        waiting = sum(1 for s in self.services.values() if s.payload["serviceStatus"] in (10000, 10001))
        return {"result": {"success": True, "code": "0", "data": waiting}}

    def _step(
        self, q: Mapping[str, Any], allowed: tuple[int, ...], then: int, **changes: Any
    ) -> dict[str, Any]:
        """A write: the service order must exist, be at an allowed step and carry the current sysVersion."""
        service = self.services.get(int(q.get("serviceId") or 0))
        if service is None or str(service.payload["orderId"]) != str(q.get("orderId")):
            return {"result": {"success": False, "code": "404", "msg": "服务单不存在"}}
        if int(q.get("sysVersion") or -1) != int(service.payload["sysVersion"]):
            return {"result": {"success": False, "code": "409", "msg": "服务单版本已变化，请刷新后重试"}}
        if service.payload["serviceStatus"] not in allowed:
            return {"result": {"success": False, "code": "400", "msg": "服务单当前状态不允许此操作"}}
        self.touch(service.payload["serviceId"], serviceStatus=then, **changes)
        return {"result": {"success": True, "code": "0", "msg": "成功"}}

    def _audit_send(self, q: Mapping[str, Any]) -> dict[str, Any]:
        if not q.get("approveNotes") or not q.get("returnDetailAddress"):
            return {"result": {"success": False, "code": "400", "msg": "审核意见和寄回地址必填"}}
        return self._step(q, (10000, 10001, 10012, 10013), 10005, approveNotes=q["approveNotes"])

    def _audit_refuse(self, q: Mapping[str, Any]) -> dict[str, Any]:
        if not q.get("approveNotes"):
            return {"result": {"success": False, "code": "400", "msg": "审核意见必填"}}
        return self._step(q, (10000, 10001, 10012, 10013), 10004, approveNotes=q["approveNotes"])

    def _receive(self, q: Mapping[str, Any]) -> dict[str, Any]:
        service = self.services.get(int(q.get("serviceId") or 0))
        # A return's money goes to JD's refund step; an exchange waits for the new goods.
        then = 10041 if service is not None and service.payload["customerExpect"] in (10, 11, 100) else 10007
        return self._step(q, (10005,), then, receiveDate=format_cst(self.clock.now()))

    def _renew(self, q: Mapping[str, Any]) -> dict[str, Any]:
        service = self.services.get(int(q.get("serviceId") or 0))
        if service is not None and service.payload["customerExpect"] not in (20, 30, 80):
            return {"result": {"success": False, "code": "400", "msg": "仅换货服务单可换新"}}
        return self._step(q, (10006, 10007), 10009, newExpressCode=f"JDX{int(q['serviceId']):012d}")

    METHODS = {
        "jingdong.asc.query.list": _list,
        "jingdong.asc.audit.count": _count,
        "jingdong.asc.audit.send": _audit_send,
        "jingdong.asc.audit.refuse": _audit_refuse,
        "jingdong.asc.receive.register": _receive,
        "jingdong.asc.process.renew": _renew,
    }
