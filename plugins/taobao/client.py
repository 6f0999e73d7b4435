"""The Taobao Open Platform (TOP) gateway protocol: signing, requests, envelopes, error classes.

Everything here follows TOP's documented request protocol (system parameters, signature) and
its error codes and flow control. Every platform error is classified once, in
:func:`classify_error`, into the hub's error tree; callers never look at TOP codes again.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import structlog

from hub.clock import format_cst, parse_cst
from hub.errors import (
    PlatformAuthError,
    PlatformConnectionError,
    PlatformError,
    PlatformRateLimitError,
    PlatformRequestError,
)
from hub.ratelimit import RateLimiter

log = structlog.get_logger(__name__)

PLATFORM = "taobao"

#: Production gateway (TOP's documented router URL).
TOP_GATEWAY = "https://eco.taobao.com/router/rest"
#: TOP's own sandbox gateway.
TOP_SANDBOX_GATEWAY = "https://gw.api.tbsandbox.com/router/rest"

SIGN_METHODS = ("md5", "hmac", "hmac-sha256")

#: Codes that mean the session (the seller's authorisation) is missing, invalid or expired:
#: 26/27 Missing/Invalid Session, 44 Invalid access token (TOP's error code table).
AUTH_CODES = frozenset({"26", "27", "44"})
#: Sub-codes that name an invalid or expired session whatever the code (seen in real TOP error answers).
AUTH_SUB_CODES = ("invalid-sessionkey", "session-expired", "sessionkey")
#: Code 10 Service Currently Unavailable: transient (TOP: 7, 10 and isp.* are retryable).
RETRY_CODES = frozenset({"10"})
RATE_LIMIT_CODE = "7"
#: Code 31 Invalid Timestamp: our clock and the gateway's differ by more than 10 minutes.
TIMESTAMP_CODE = "31"

_BAN_SECONDS = re.compile(r"(\d+)\s+more\s+seconds", re.IGNORECASE)

#: Parameters never written to a log line.
SECRET_PARAMS = frozenset({"app_secret", "session", "sign", "code", "access_token"})


@dataclass(frozen=True, kw_only=True)
class FileParam:
    """A file parameter (e.g. ``refuse_proof``): sent as multipart, excluded from the signature."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


def sign(params: Mapping[str, str], secret: str, sign_method: str = "md5") -> str:
    """TOP's signature (TOP's documented signature).

    Sort the parameters by name (byte order), concatenate ``name + value`` without separators,
    then ``md5``: MD5(secret + s + secret); ``hmac``: HMAC-MD5(secret, s); ``hmac-sha256``:
    HMAC-SHA256(secret, s). Upper-case hex. ``sign`` itself and empty values are left out
    (the official sample skips empty keys or values); file parameters never reach this function.
    """
    concatenated = "".join(
        f"{k}{v}"
        for k, v in sorted(params.items(), key=lambda kv: kv[0].encode())
        if k != "sign" and k and v != ""
    )
    data = concatenated.encode("utf-8")
    key = secret.encode("utf-8")
    if sign_method == "md5":
        digest = hashlib.md5(key + data + key).hexdigest()
    elif sign_method == "hmac":
        digest = hmac.new(key, data, hashlib.md5).hexdigest()
    elif sign_method == "hmac-sha256":
        digest = hmac.new(key, data, hashlib.sha256).hexdigest()
    else:
        raise ValueError(f"unknown sign_method {sign_method!r} (use one of {', '.join(SIGN_METHODS)})")
    return digest.upper()


def response_key(method: str) -> str:
    """The success envelope's key: the API name minus ``taobao.``, dots to ``_``, ``_response``.

    ``tmall.*`` keeps its prefix (TOP's success envelope).
    """
    name = method[len("taobao.") :] if method.startswith("taobao.") else method
    return name.replace(".", "_") + "_response"


def param_value(value: Any) -> str:
    """A parameter as TOP expects it on the wire: booleans lower case, times in Beijing time."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_cst(value)
    return str(value)


def unwrap_list(value: Any, element: str) -> list[dict[str, Any]]:
    """A TOP list in either JSON shape (TOP's response JSON shape).

    Non-simplified: ``{"trade": [...]}``; simplified (``simplify=true``): ``[...]``. A single object
    where a list is expected is accepted too (some clients see it); missing or null is empty.
    """
    if value is None or value == "":
        return []
    if isinstance(value, dict):
        if element in value:
            return unwrap_list(value[element], element)
        if not value:
            return []
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    raise PlatformConnectionError(f"unreadable {element} list in the response", platform=PLATFORM)


def ban_seconds(text: str | None) -> float | None:
    """Seconds from "This ban will last for N more seconds" (TOP flow control)."""
    if not text:
        return None
    match = _BAN_SECONDS.search(text)
    return float(match.group(1)) if match else None


def classify_error(error: Mapping[str, Any], *, method: str) -> PlatformError:
    """Turn an ``error_response`` into the one hub error class the engine acts on.

    TOP flow control: code 7 (App Call Limited) is a ban of N seconds; 26/27/44 or an
    invalid/expired session sub-code needs re-authorisation; ``isp.*`` and code 10 are the
    platform's own trouble (retry later); everything else, ``isv.*`` included, is a bad request
    carrying the platform's message.
    """
    code = str(error.get("code", "")).strip()
    sub_code = str(error.get("sub_code") or "").strip() or None
    msg = str(error.get("msg") or "").strip()
    sub_msg = str(error.get("sub_msg") or "").strip()
    text = (
        f"{method}: {msg or 'error'}"
        + (f" ({sub_code})" if sub_code else "")
        + (f": {sub_msg}" if sub_msg else "")
    )
    kw: dict[str, Any] = {"platform": PLATFORM, "code": code or None, "sub_code": sub_code}
    lowered_sub = (sub_code or "").lower()
    if code == RATE_LIMIT_CODE or lowered_sub.startswith("accesscontrol.limited"):
        return PlatformRateLimitError(text, retry_after=ban_seconds(sub_msg) or ban_seconds(msg), **kw)
    if code in AUTH_CODES or any(s in lowered_sub for s in AUTH_SUB_CODES):
        return PlatformAuthError(text, **kw)
    if code in RETRY_CODES or lowered_sub.startswith("isp."):
        return PlatformConnectionError(text, **kw)
    return PlatformRequestError(text, **kw)


class TopClient:
    """One shop's TOP client. Uses the hub's shared session and the shop's rate limiter.

    :param gateway_url: the router URL (production, TOP's sandbox, or hub's local sandbox).
    :param simplify: ask for TOP's simplified JSON; responses are read in both shapes anyway.
    :param now: the clock the ``timestamp`` parameter is taken from.
    """

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        limiter: RateLimiter,
        app_key: str,
        app_secret: str,
        session_key: str,
        gateway_url: str = TOP_GATEWAY,
        sign_method: str = "md5",
        simplify: bool = False,
        now: Callable[[], datetime],
        timeout: float = 30.0,
    ) -> None:
        if sign_method not in SIGN_METHODS:
            raise ValueError(f"unknown sign_method {sign_method!r} (use one of {', '.join(SIGN_METHODS)})")
        self._http = session
        self._limiter = limiter
        self.app_key = app_key
        self._secret = app_secret
        self._session_key = session_key
        self.gateway_url = gateway_url
        self.sign_method = sign_method
        self.simplify = simplify
        self._now = now
        self.timeout = timeout
        #: platform clock minus ours, learnt from taobao.time.get: the gateway rejects a
        #: timestamp more than 10 minutes off its own clock (TOP system parameters).
        self.clock_offset = timedelta(0)

    def __repr__(self) -> str:  # secrets stay out of reprs (and so out of tracebacks and logs)
        return f"TopClient(app_key={self.app_key!r}, gateway_url={self.gateway_url!r})"

    def signed_params(
        self, method: str, params: Mapping[str, Any], *, with_session: bool = True
    ) -> dict[str, str]:
        """The full form: system parameters (TOP's system parameter table) plus business ones, signed."""
        form: dict[str, str] = {
            "method": method,
            "app_key": self.app_key,
            "timestamp": format_cst(self._now() + self.clock_offset),
            "format": "json",
            "v": "2.0",
            "sign_method": self.sign_method,
        }
        if with_session and self._session_key:
            form["session"] = self._session_key
        if self.simplify:
            form["simplify"] = "true"
        for key, value in params.items():
            if value is None:
                continue
            text = param_value(value)
            if text != "":
                form[key] = text
        form["sign"] = sign(form, self._secret, self.sign_method)
        return form

    async def sync_clock(self) -> datetime:
        """Learn the gateway's clock from ``taobao.time.get`` (which is not held to it) and keep
        the offset, so the ``timestamp`` we send is the gateway's time; returns that time."""
        inner = await self._call_once("taobao.time.get", {}, files=None, with_session=False)
        try:
            platform_time = parse_cst(str(inner["time"]))
        except (KeyError, ValueError) as err:
            raise PlatformRequestError("taobao.time.get: no readable time", platform=PLATFORM) from err
        self.clock_offset = platform_time - self._now()
        return platform_time

    async def call(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        files: Mapping[str, FileParam] | None = None,
        with_session: bool = True,
    ) -> dict[str, Any]:
        """Call one API; return the body inside ``<name>_response`` (or the simplified body).

        Raises a :class:`hub.errors.PlatformError` subclass for every failure, classified once.
        A call refused for its timestamp (the clocks drifted apart) relearns the gateway's clock
        and is sent once more, as the Pinduoduo client does.
        """
        try:
            return await self._call_once(method, params or {}, files=files, with_session=with_session)
        except PlatformRequestError as err:
            if err.code != TIMESTAMP_CODE or method == "taobao.time.get":
                raise
            before = self.clock_offset
            await self.sync_clock()
            log.info(
                "top.timestamp_retry",
                method=method,
                offset_s=self.clock_offset.total_seconds(),
                was_s=before.total_seconds(),
            )
            return await self._call_once(method, params or {}, files=files, with_session=with_session)

    async def _call_once(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        files: Mapping[str, FileParam] | None,
        with_session: bool,
    ) -> dict[str, Any]:
        await self._limiter.acquire(method)
        form = self.signed_params(method, params, with_session=with_session)
        body: aiohttp.FormData | dict[str, str]
        if files:
            # Multipart when a file is present; the file is not part of the signature (TOP transport).
            body = aiohttp.FormData(charset="utf-8")
            for key, value in form.items():
                body.add_field(key, value)
            for key, file in files.items():
                body.add_field(key, file.content, filename=file.filename, content_type=file.content_type)
        else:
            body = form
        started = time.monotonic()
        try:
            async with self._http.post(
                self.gateway_url,
                data=body,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as resp:
                status = resp.status
                raw = await resp.read()
        except TimeoutError as err:
            raise PlatformConnectionError(
                f"{method}: timed out after {self.timeout:g} s", platform=PLATFORM
            ) from err
        except asyncio.CancelledError:
            raise
        except aiohttp.ClientError as err:
            raise PlatformConnectionError(
                f"{method}: {type(err).__name__}: {err}", platform=PLATFORM
            ) from err
        elapsed_ms = round((time.monotonic() - started) * 1000)
        if status >= 500:
            log.warning("top.http_error", method=method, status=status, elapsed_ms=elapsed_ms)
            raise PlatformConnectionError(
                f"{method}: HTTP {status} from the gateway", platform=PLATFORM, code=str(status)
            )
        if status >= 400:
            raise PlatformRequestError(
                f"{method}: HTTP {status} from the gateway", platform=PLATFORM, code=str(status)
            )
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            # A truncated or garbled body is the gateway's trouble, not ours: retry.
            raise PlatformConnectionError(f"{method}: unreadable JSON response", platform=PLATFORM) from err
        if not isinstance(data, dict):
            raise PlatformConnectionError(f"{method}: unexpected response shape", platform=PLATFORM)
        if "error_response" in data:
            error = classify_error(data["error_response"] or {}, method=method)
            log.warning(
                "top.error",
                method=method,
                error=type(error).__name__,
                code=error.code,
                sub_code=error.sub_code,
                request_id=(data["error_response"] or {}).get("request_id"),
                elapsed_ms=elapsed_ms,
            )
            raise error
        key = response_key(method)
        inner = data.get(key, data) if key in data else data
        if not isinstance(inner, dict):
            raise PlatformConnectionError(f"{method}: unexpected response shape", platform=PLATFORM)
        log.debug("top.call", method=method, elapsed_ms=elapsed_ms, request_id=inner.get("request_id"))
        return inner
