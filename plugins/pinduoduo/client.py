"""The PDD open-platform protocol: sign, POST to the router, unwrap, classify errors once.

The PDD open-platform documentation: every call is a POST of flat parameters (common +
business) to the router; ``sign`` is ``UPPER(HEX(MD5(secret + Σ(key+value, sorted by key) +
secret)))`` over every parameter but ``sign``, object parameters JSON-serialised first and sent as
that same string. Errors come as
``{"error_response": {"error_code": ..., "error_msg": ..., "sub_code": ..., "sub_msg": ...}}``
and are turned here, and only here, into hub's PlatformError classes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import aiohttp
import structlog

from hub.errors import (
    PlatformAuthError,
    PlatformConnectionError,
    PlatformError,
    PlatformRateLimitError,
    PlatformRequestError,
    PlatformStopError,
)

from .info import PLATFORM_ID

if TYPE_CHECKING:
    from hub.ratelimit import RateLimiter

log = structlog.get_logger("hub.plugins.pinduoduo")

#: Each API's success wrapper. Not derivable from the name (§0), and ``pdd.refund.information.get``
#: has none at all: its fields come at the top level.
RESPONSE_KEYS: dict[str, str | None] = {
    "pdd.time.get": "time_get_response",
    "pdd.order.number.list.increment.get": "order_sn_increment_get_response",
    "pdd.order.list.get": "order_list_get_response",
    "pdd.order.information.get": "order_info_get_response",
    "pdd.refund.list.increment.get": "refund_increment_get_response",
    "pdd.refund.information.get": None,
    "pdd.refund.agree": "response",
    "pdd.refund.returngoods.agree": "response",
    "pdd.refund.address.list.get": "refund_address_list_get_response",
    "pdd.refund.status.check": "refund_status_check_response",
}

RATE_LIMITED = frozenset({52101, 70031, 70036})
AUTH_FAILED = frozenset({10019, 20032})
STOP = frozenset({70032, 70033, 70034, 70035})
#: 5xxxx codes that are about the request, not a transient fault (52004: body too large).
NOT_TRANSIENT_5XXXX = frozenset({52004})
#: The error a stale ``timestamp`` gets (§2.1: must be within 10 minutes of PDD's clock).
TIMESTAMP_ERROR = 10001

_SECONDS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:秒|s\b|seconds?)")


def param_text(value: Any) -> str:
    """A parameter as it is signed and sent: objects as compact JSON, booleans ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def sign(params: Mapping[str, Any], secret: str) -> str:
    """PDD's MD5 sign over every parameter except ``sign`` itself (§2.1)."""
    body = "".join(f"{k}{param_text(params[k])}" for k in sorted(params) if k != "sign")
    return hashlib.md5(f"{secret}{body}{secret}".encode()).hexdigest().upper()


def classify(api: str, error: Mapping[str, Any]) -> PlatformError:
    """The hub error class for one PDD error object (§2.4). Pure; the only place codes are read."""
    try:
        code = int(error.get("error_code") or 0)
    except (TypeError, ValueError):
        code = 0
    msg = str(error.get("error_msg") or "")
    sub_msg = str(error.get("sub_msg") or "")
    sub_code = error.get("sub_code")
    text = f"{api}: {msg}" + (f" ({sub_msg})" if sub_msg else "") + f" [error_code {code}]"
    kw: dict[str, Any] = {
        "platform": PLATFORM_ID,
        "code": str(code),
        "sub_code": None if sub_code in (None, "") else str(sub_code),
    }
    if code in RATE_LIMITED:
        return PlatformRateLimitError(text, retry_after=_retry_after(f"{msg} {sub_msg}"), **kw)
    if code in AUTH_FAILED:
        return PlatformAuthError(text, **kw)
    if code in STOP:
        return PlatformStopError(text, **kw)
    if 50000 <= code <= 59999 and code not in NOT_TRANSIENT_5XXXX:
        return PlatformConnectionError(text, **kw)
    return PlatformRequestError(text, **kw)


def _retry_after(text: str) -> float | None:
    """PDD does not say how long a ban lasts; if a message states seconds, use them."""
    match = _SECONDS.search(text)
    return float(match.group(1)) if match else None


class PddClient:
    """One shop's PDD client. Uses the hub's session and limiter; keeps an estimate of PDD's clock.

    The ``timestamp`` parameter must be within 10 minutes of PDD's clock, so the client sends
    ``now() + offset``, where the offset is learned from every response's HTTP ``Date`` header and
    from ``pdd.time.get``; a call refused for its timestamp is retried once with the new offset.
    """

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        limiter: RateLimiter,
        client_id: str,
        client_secret: str,
        access_token: str,
        gateway_url: str,
        now: Callable[[], datetime],
        timeout: float = 30.0,
    ) -> None:
        self._session = session
        self._limiter = limiter
        self._client_id = client_id
        self._secret = client_secret
        self._token = access_token
        self.gateway_url = gateway_url
        self._now = now
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.offset = timedelta(0)

    def platform_clock(self) -> datetime:
        """Our best estimate of PDD's clock, from the local clock and the learned offset."""
        return self._now() + self.offset

    def signed_params(self, api: str, business: Mapping[str, Any], *, auth: bool = True) -> dict[str, str]:
        params: dict[str, str] = {
            "type": api,
            "client_id": self._client_id,
            "timestamp": str(int(self.platform_clock().timestamp())),
            "data_type": "JSON",
        }
        if auth:
            params["access_token"] = self._token
        for key, value in business.items():
            if value is not None:
                params[key] = param_text(value)
        params["sign"] = sign(params, self._secret)
        return params

    async def call(
        self, api: str, business: Mapping[str, Any] | None = None, *, auth: bool = True
    ) -> dict[str, Any]:
        """Call one API; return its response object, unwrapped. Raises hub PlatformErrors."""
        try:
            return await self._call_once(api, business or {}, auth=auth)
        except PlatformRequestError as err:
            if err.code == str(TIMESTAMP_ERROR) and "timestamp" in str(err):
                log.info("pdd.timestamp_retry", api=api, offset_s=self.offset.total_seconds())
                return await self._call_once(api, business or {}, auth=auth)
            raise

    async def _call_once(self, api: str, business: Mapping[str, Any], *, auth: bool) -> dict[str, Any]:
        await self._limiter.acquire(api)
        params = self.signed_params(api, business, auth=auth)
        try:
            async with self._session.post(self.gateway_url, json=params, timeout=self._timeout) as resp:
                self._learn_offset(resp.headers.get("Date"))
                text = await resp.text()
                status = resp.status
        except TimeoutError as err:
            raise PlatformConnectionError(f"{api}: timed out", platform=PLATFORM_ID) from err
        except aiohttp.ClientError as err:
            raise PlatformConnectionError(
                f"{api}: {type(err).__name__}: {err}", platform=PLATFORM_ID
            ) from err
        if status >= 500:
            raise PlatformConnectionError(f"{api}: HTTP {status}", platform=PLATFORM_ID, code=str(status))
        if status == 429:
            raise PlatformRateLimitError(f"{api}: HTTP 429", platform=PLATFORM_ID, code="429")
        try:
            body = json.loads(text)
        except ValueError as err:
            raise PlatformConnectionError(
                f"{api}: the router sent no JSON (HTTP {status})", platform=PLATFORM_ID
            ) from err
        if not isinstance(body, dict):
            raise PlatformConnectionError(f"{api}: the router sent no JSON object", platform=PLATFORM_ID)
        return self._unwrap(api, body)

    def _unwrap(self, api: str, body: dict[str, Any]) -> dict[str, Any]:
        error = body.get("error_response")
        if isinstance(error, Mapping):
            exc = classify(api, error)
            log.warning(
                "pdd.error",
                api=api,
                code=exc.code,
                request_id=error.get("request_id"),
                error=type(exc).__name__,
            )
            raise exc
        key = RESPONSE_KEYS.get(api, "")
        if key is None:
            inner: Any = body
        elif key and key in body:
            inner = body[key]
        else:
            # An API we have no key for, or a renamed one: take the single *_response wrapper.
            wrappers = [k for k in body if k.endswith("_response") or k == "response"]
            if len(wrappers) != 1:
                raise PlatformConnectionError(
                    f"{api}: response without {key or 'a *_response'} object", platform=PLATFORM_ID
                )
            inner = body[wrappers[0]]
        if not isinstance(inner, dict):
            raise PlatformConnectionError(f"{api}: response object is not an object", platform=PLATFORM_ID)
        # Write APIs may carry an error inside "response" (error_code / error_msg / success).
        code = inner.get("error_code")
        if code not in (None, "", 0, "0"):
            raise classify(api, inner)
        return inner

    def _learn_offset(self, date_header: str | None) -> None:
        if not date_header:
            return
        try:
            server = parsedate_to_datetime(date_header)
        except (TypeError, ValueError):
            return
        if server.tzinfo is None:
            server = server.replace(tzinfo=UTC)
        self.offset = server - self._now()

    def learn_time(self, platform_time: datetime) -> None:
        """Align the clock offset to a time PDD stated (``pdd.time.get``)."""
        self.offset = platform_time - self._now()
