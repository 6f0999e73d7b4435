"""A 快递100 sandbox: the real-time query endpoint on loopback, for ``hub demo`` and tests.

It checks what the real service checks (the customer is known, ``sign`` is MD5(param + key +
customer) upper-case, ``param`` is JSON with ``com`` and ``num``) and answers in its envelope:
a parcel's traces up to the sandbox clock, newest first, every value a string; ``查询无结果`` for a
waybill it does not know (or whose first trace lies ahead); its refusals for a bad sign, an
unknown customer, a missing field; and, injected with ``inject("rate_limit")``, the busy answer
the service gives when queried too often.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from ..clock import CST
from ..testing.fake_server import FakePlatformServer
from .kuaidi100 import sign

PATH = "/poll/query.do"


@dataclass
class ScriptedParcel:
    company: str
    #: (time, state code, context, area) in time order: what the courier reports, and when
    events: list[tuple[datetime, str, str, str]] = field(default_factory=list)
    phone: str | None = None  #: when set, a query must give these last four digits (as 顺丰 asks)


@dataclass
class Kuaidi100Sandbox(FakePlatformServer):
    customer: str = "SANDBOXCUSTOMER"
    key: str = "sandbox-key"
    parcels: dict[str, ScriptedParcel] = field(default_factory=dict)

    def setup_routes(self, app: web.Application) -> None:
        app.router.add_post(PATH, self.query)

    @property
    def url(self) -> str:
        return self.base_url + PATH

    def add_parcel(
        self,
        waybill: str,
        company: str,
        events: list[tuple[timedelta, str, str]],
        *,
        start: datetime | None = None,
        area: str = "",
        phone: str | None = None,
    ) -> None:
        """Script a parcel: ``events`` are (offset from ``start`` (default now), state, context)."""
        t0 = start or self.clock.now()
        self.parcels[waybill] = ScriptedParcel(
            company=company, events=[(t0 + off, st, ctx, area) for off, st, ctx in events], phone=phone
        )

    @staticmethod
    def refusal(code: str, message: str) -> web.Response:
        return web.json_response({"result": False, "returnCode": code, "message": message})

    async def query(self, request: web.Request) -> web.Response:
        form = await request.post()
        customer, param, signature = (str(form.get(k) or "") for k in ("customer", "param", "sign"))
        self.record("query", {"customer": customer, "param": param, "sign": signature})
        if not customer or not param or not signature:
            return self.refusal("400", "提交的数据不完整")
        if customer != self.customer:
            return self.refusal("400", "没有找到对应的授权信息")
        if signature != sign(param, self.key, customer):
            return self.refusal("503", "验证签名失败")
        fault = self.take_fault("query")
        if fault is not None and fault.kind == "rate_limit":
            return self.refusal("502", "服务器繁忙，查询过于频繁，请稍后再试")
        if fault is not None and fault.kind == "server_error":
            return self.refusal("501", "服务器错误")
        try:
            query: dict[str, Any] = json.loads(param)
        except ValueError:
            return self.refusal("400", "param 不是合法的 JSON")
        com, num = str(query.get("com") or ""), str(query.get("num") or "")
        if not com or not num:
            return self.refusal("400", "快递公司编码或单号为空")
        parcel = self.parcels.get(num)
        now = self.clock.now()
        seen = [e for e in (parcel.events if parcel else []) if e[0] <= now]
        if parcel is None or parcel.company != com or not seen:
            return self.refusal("500", "查询无结果，请隔段时间再查")
        if parcel.phone and str(query.get("phone") or "")[-4:] != parcel.phone[-4:]:
            return self.refusal("408", "手机号码后四位校验不通过")
        code = seen[-1][1]
        data = [
            {
                "time": at.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S"),
                "ftime": at.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S"),
                "context": ctx,
                "status": st,
                "statusCode": st,
                "areaName": area,
            }
            for at, st, ctx, area in reversed(seen)
        ]
        signed = code in ("3",) or (code.startswith("3") and len(code) == 3) or code in ("4", "401")
        return web.json_response(
            {
                "message": "ok",
                "nu": num,
                "ischeck": "1" if signed else "0",
                "condition": "F00",
                "com": com,
                "status": "200",
                "state": code,
                "data": data,
            }
        )
