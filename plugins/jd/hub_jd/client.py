"""The JOS protocol: system parameters, the md5 signature, the ``_responce`` envelope and the
error envelope. Rate limiting, timeouts and transport errors are the kit's
(:class:`hub.kit.PlatformClient`); this module classifies only JOS's own answers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from hub.clock import CST
from hub.errors import (
    PlatformAuthError,
    PlatformConnectionError,
    PlatformError,
    PlatformRateLimitError,
    PlatformRequestError,
)
from hub.kit import PlatformClient, Response
from hub.platform import AdapterContext

from .info import PLATFORM_ID

API_VERSION = "2.0"
#: how far our timestamp may be from the Date of JD's answer before the clock is taken as wrong
CLOCK_SLACK = timedelta(minutes=2)
PARAM_JSON = "360buy_param_json"

# JOS error codes. None of these is verified against JD's documentation (README, "Unverified"):
# the classification also reads the Chinese and English descriptions, which every SDK surfaces.
AUTH_CODES = frozenset({"19", "20", "21", "22", "25"})  #: token invalid/expired, app key, signature
RATE_CODES = frozenset({"64", "74"})  #: call frequency / daily quota exceeded
BUSY_CODES = frozenset({"1", "66"})  #: system busy / service unavailable
AUTH_WORDS = ("access_token", "token", "授权", "签名", "sign")
RATE_WORDS = ("频率", "次数", "限流", "limit", "frequency")
BUSY_WORDS = ("繁忙", "系统错误", "服务不可用", "busy", "unavailable")


def sign(params: Mapping[str, str], secret: str) -> str:
    """The JOS md5 signature: every parameter but ``sign``, keys in byte order, ``key`` + ``value``
    concatenated with no separator, wrapped in the app secret, md5 over UTF-8, upper-case hex."""
    body = "".join(f"{key}{params[key]}" for key in sorted(params) if key != "sign")
    return hashlib.md5(f"{secret}{body}{secret}".encode()).hexdigest().upper()


def timestamp(at: datetime) -> str:
    """``yyyy-MM-dd HH:mm:ss.000+0800`` in Beijing time (the official Python SDK's format)."""
    return at.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S.000%z")


def envelope_key(method: str) -> str:
    """``jingdong.asc.query.list`` answers under ``jingdong_asc_query_list_responce`` (JD's spelling)."""
    return method.replace(".", "_") + "_responce"


class JosClient(PlatformClient):
    """Signs and sends JOS calls for one shop; returns the inner answer of the ``_responce`` envelope."""

    platform = PLATFORM_ID

    def __init__(
        self,
        ctx: AdapterContext,
        *,
        app_key: str,
        app_secret: str,
        access_token: str,
        gateway_url: str,
        timeout: float,
    ) -> None:
        super().__init__(ctx, timeout=timeout)
        self.app_key = app_key
        self._secret = app_secret
        self._token = access_token
        self.gateway_url = gateway_url
        #: the platform's clock less the hub's, learned from answers' Date header
        self.clock_offset = timedelta(0)
        self.last_date: datetime | None = None

    def learn_offset(self, platform_time: datetime) -> None:
        """Take ``platform_time`` (an answer's Date) as JD's clock now: later timestamps follow it."""
        self.clock_offset = platform_time - self.ctx.now()

    def system_params(self, method: str, business: Mapping[str, Any]) -> dict[str, str]:
        """The signed parameter set of one call (``sign`` included)."""
        params = {
            "method": method,
            "app_key": self.app_key,
            "access_token": self._token,
            "timestamp": timestamp(self.ctx.now() + self.clock_offset),
            "v": API_VERSION,
            "format": "json",
            # Compact and byte-identical to what is signed: JOS checks the exact string.
            PARAM_JSON: json.dumps(
                {k: v for k, v in business.items() if v is not None},
                ensure_ascii=False,
                separators=(",", ":"),
            ),
        }
        params["sign"] = sign(params, self._secret)
        return params

    async def call(self, method: str, business: Mapping[str, Any], *, write: bool = False) -> dict[str, Any]:
        """Call ``method`` with its business parameters; return the envelope's inner object.

        A call refused while our clock is minutes away from JD's (the answer's Date says so) is
        sent once more on JD's time: the timestamp check, not the call, was the problem. The
        offset is set from the refusal's Date rather than adjusted by it, so calls refused
        concurrently (window fetches run side by side) agree on it instead of each adding the
        whole difference again."""
        for attempt in range(2):
            sent = self.ctx.now() + self.clock_offset
            try:
                response = await self.request(
                    method,
                    "POST",
                    self.gateway_url,
                    data=self.system_params(method, business),
                    idempotent=not write,
                )
                break
            except PlatformRequestError:
                if attempt or self.last_date is None or abs(self.last_date - sent) < CLOCK_SLACK:
                    raise
                # Set, not added to: calls refused concurrently each learn the same offset.
                self.learn_offset(self.last_date)
        inner = _inner(response.body, method)
        assert inner is not None  # classify() refused an answer without one
        return inner

    def classify(self, response: Response) -> PlatformError | None:
        """JOS answers errors as ``{"error_response": {"code", "zh_desc", "en_desc"}}`` (often
        with HTTP 200); anything else must carry the method's ``_responce`` (or ``_response``)."""
        date = response.headers.get("Date")
        try:
            # Every answer, an error too, carries JD's clock (platform_now reads it here).
            self.last_date = parsedate_to_datetime(date) if date else None
        except (TypeError, ValueError):
            self.last_date = None
        body = response.body
        if isinstance(body, Mapping) and isinstance(body.get("error_response"), Mapping):
            return _error(response.api, body["error_response"])
        base = super().classify(response)
        if base is not None:
            return base
        if _inner(body, response.api) is None:
            return PlatformConnectionError(
                f"jd {response.api}: the answer has no {envelope_key(response.api)}", platform=PLATFORM_ID
            )
        return None


def _inner(body: Any, method: str) -> dict[str, Any] | None:
    """The ``_responce`` envelope's object. Some JOS APIs are documented with ``_response``:
    integrators read both, and so does this."""
    if not isinstance(body, Mapping):
        return None
    key = envelope_key(method)
    for name in (key, key[: -len("_responce")] + "_response"):
        inner = body.get(name)
        if isinstance(inner, Mapping):
            return dict(inner)
    return None


def _error(method: str, err: Mapping[str, Any]) -> PlatformError:
    code = str(err.get("code") or "")
    text = str(err.get("zh_desc") or err.get("en_desc") or err.get("msg") or "error")
    words = f"{err.get('zh_desc') or ''} {err.get('en_desc') or ''}".lower()
    message = f"jd {method}: {text} (code {code})"
    if code in RATE_CODES or any(w in words for w in RATE_WORDS):
        return PlatformRateLimitError(message, platform=PLATFORM_ID, code=code)
    if code in AUTH_CODES or any(w in words for w in AUTH_WORDS):
        return PlatformAuthError(message, platform=PLATFORM_ID, code=code)
    if code in BUSY_CODES or any(w in words for w in BUSY_WORDS):
        return PlatformConnectionError(message, platform=PLATFORM_ID, code=code)
    return PlatformRequestError(message, platform=PLATFORM_ID, code=code)


def business_result(inner: Mapping[str, Any], method: str) -> Mapping[str, Any]:
    """The business result inside the envelope (``pageResult`` / ``result``): its own ``success``
    flag says whether the service order call itself worked."""
    for key in ("pageResult", "result", "queryResult"):
        value = inner.get(key)
        if isinstance(value, Mapping):
            if value.get("success") is False:
                raise PlatformRequestError(
                    f"jd {method}: {value.get('msg') or value.get('code') or 'refused'}",
                    platform=PLATFORM_ID,
                    code=str(value.get("code") or "") or None,
                )
            return value
    raise PlatformRequestError(f"jd {method}: no result in the answer", platform=PLATFORM_ID)
