"""快递100's real-time query API (实时查询): one POST per waybill, signed with MD5.

Protocol: ``POST https://poll.kuaidi100.com/poll/query.do`` with form fields ``customer`` (the
account's customer id), ``param`` (JSON text: ``com`` the courier code, ``num`` the waybill,
optional ``phone``, ``resultv2`` "1" for the detailed states) and ``sign`` = upper-case hex
MD5 of ``param + key + customer``. A found parcel answers ``{"message": "ok", "state": "0",
"status": "200", "ischeck": "0", "com", "nu", "data": [{"time", "ftime", "context",
"areaName"?, "status"?, ...}]}`` (newest first, every value a string); a refusal answers
``{"result": false, "returnCode": "...", "message": "..."}``: 400 bad request or unknown
courier, 500 no result yet (查询无结果), 501/502 server error or busy (also the answer when
queried too often), 503 bad sign, 601 key expired or out of quota.

State codes (``state``): 0 在途, 1 揽收, 2 疑难, 3 签收, 4 退签, 5 派件, 6 退回, 7 转投,
8 清关, 10-13 customs, 14 拒签; with ``resultv2`` a detailed code whose first digit(s) name the
main state (1001 → 0, 207 → 2 with 207 meaning 超区, 301 → 3).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import aiohttp

from ..clock import CST
from ..errors import ConfigError
from .tracker import Trace, TrackerContext, Tracking, TrackingError

URL = "https://poll.kuaidi100.com/poll/query.do"

#: main state code -> hub's reading
MAIN_STATES: Mapping[str, str] = {
    "0": "in_transit",
    "1": "in_transit",  # 揽收: collected
    "2": "problem",
    "3": "signed",
    "4": "returned",  # 退签
    "5": "delivering",
    "6": "returned",  # 退回: on its way back to the sender
    "7": "in_transit",  # 转投
    "8": "in_transit",  # 清关
    "10": "in_transit",
    "11": "in_transit",
    "12": "in_transit",
    "13": "problem",
    "14": "returned",  # 拒签: refused, goes back
}
#: the detailed (resultv2) problem code for 超区
OUT_OF_AREA_CODE = "207"
OUT_OF_AREA_WORDS = ("超区", "超出派送范围", "不在派送范围", "无法派送区域")


def sign(param: str, key: str, customer: str) -> str:
    """The request signature: MD5(param + key + customer), upper-case hex."""
    return hashlib.md5((param + key + customer).encode()).hexdigest().upper()


def main_state(code: str) -> str:
    """The main state of a (possibly detailed) state code: "1001" → "0", "207" → "2", "14" → "14"."""
    code = code.strip()
    if code in MAIN_STATES:
        return code
    if len(code) == 4 and code.startswith("10"):
        return "0"
    if len(code) == 3 and code[0] in MAIN_STATES:
        return code[0]
    return code


def read_state(code: str, traces: list[Trace]) -> str:
    """hub's state from the code and the newest trace's text (超区 is often only in the text)."""
    main = main_state(code)
    newest = traces[0].context if traces else ""
    if code.strip() == OUT_OF_AREA_CODE or any(w in newest for w in OUT_OF_AREA_WORDS):
        return "out_of_area"
    return MAIN_STATES.get(main, "in_transit")


def _time(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        # the service writes Beijing time, "2026-11-30 14:02:11"
        return datetime.strptime(str(text).strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST)
    except ValueError:
        return None


def parse_answer(payload: Mapping[str, Any]) -> Tracking:
    """A query answer as a :class:`Tracking`, or :class:`TrackingError` for a refusal."""
    if payload.get("result") is False or ("returnCode" in payload and "data" not in payload):
        code = str(payload.get("returnCode") or "")
        message = str(payload.get("message") or "refused")
        if code == "500":
            raise TrackingError(f"快递100 {code}: {message}", code=code, no_result=True)
        if code in ("501", "502"):
            raise TrackingError(f"快递100 {code}: {message}", code=code, retry_after=60.0)
        raise TrackingError(f"快递100 {code}: {message}", code=code)
    traces = [
        Trace(
            at=_time(t.get("ftime") or t.get("time")),
            context=str(t.get("context") or ""),
            area=str(t["areaName"]) if t.get("areaName") else None,
            status=str(t["status"]) if t.get("status") else None,
        )
        for t in payload.get("data") or []
        if isinstance(t, Mapping)
    ]
    code = str(payload.get("state") or "0")
    state = read_state(code, traces)
    final = str(payload.get("ischeck") or "0") == "1" or main_state(code) in ("3", "4")
    return Tracking(code=code, state=state, final=final, traces=traces, raw=dict(payload))


class Kuaidi100Tracker:
    """The built-in tracker. Settings (environment): ``HUB_KUAIDI100_CUSTOMER``,
    ``HUB_KUAIDI100_KEY`` (secrets), ``HUB_KUAIDI100_URL`` (default the real endpoint)."""

    name = "kuaidi100"

    def __init__(self, http: aiohttp.ClientSession, customer: str, key: str, url: str = URL) -> None:
        self.http = http
        self.customer = customer
        self.key = key
        self.url = url

    @classmethod
    def from_context(cls, context: TrackerContext) -> Kuaidi100Tracker:
        customer = context.env.get("HUB_KUAIDI100_CUSTOMER", "")
        key = context.env.get("HUB_KUAIDI100_KEY", "")
        if not customer or not key:
            raise ConfigError("the kuaidi100 tracker needs HUB_KUAIDI100_CUSTOMER and HUB_KUAIDI100_KEY")
        return cls(context.http, customer, key, context.env.get("HUB_KUAIDI100_URL") or URL)

    async def track(self, company: str, waybill: str, phone: str | None = None) -> Tracking:
        query: dict[str, str] = {"com": company, "num": waybill, "resultv2": "1"}
        if phone:
            query["phone"] = phone
        param = json.dumps(query, ensure_ascii=False, separators=(",", ":"))
        form = {"customer": self.customer, "param": param, "sign": sign(param, self.key, self.customer)}
        try:
            async with self.http.post(self.url, data=form, timeout=aiohttp.ClientTimeout(total=20)) as resp:
                if resp.status == 429:
                    raise TrackingError("快递100: HTTP 429 too many requests", code="429", retry_after=60.0)
                if resp.status >= 500:
                    raise TrackingError(
                        f"快递100: HTTP {resp.status}", code=str(resp.status), retry_after=60.0
                    )
                payload = json.loads(await resp.text())
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            raise TrackingError(f"快递100: {type(err).__name__}: {err}", retry_after=60.0) from err
        if not isinstance(payload, Mapping):
            raise TrackingError("快递100: the answer is not a JSON object")
        return parse_answer(payload)


#: courier names as platforms write them -> 快递100 courier codes
COMPANY_CODES: Mapping[str, str] = {
    "圆通": "yuantong",
    "中通": "zhongtong",
    "申通": "shentong",
    "韵达": "yunda",
    "顺丰": "shunfeng",
    "京东": "jd",
    "极兔": "jtexpress",
    "邮政": "youzhengguonei",
    "ems": "ems",
    "德邦": "debangwuliu",
    "百世": "huitongkuaidi",
}


#: 快递100 courier codes -> the names agents know ("yuantong" -> 圆通); the first name of each code
COMPANY_NAMES: Mapping[str, str] = {code: word for word, code in reversed(list(COMPANY_CODES.items()))}


def company_name(code: str | None) -> str:
    """The courier's Chinese name for a 快递100 code, the code itself when unknown, "—" for none."""
    if not code:
        return "—"
    return {"ems": "EMS"}.get(code) or COMPANY_NAMES.get(code, code)


def company_code(name: str | None) -> str | None:
    """A courier's 快递100 code from a platform's name for it ("圆通速递" → "yuantong"), or None."""
    if not name:
        return None
    text = name.strip().lower()
    if text in COMPANY_CODES.values():
        return text
    return next((code for word, code in COMPANY_CODES.items() if word in text), None)
