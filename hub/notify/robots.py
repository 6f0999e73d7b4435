"""The senders: a DingTalk custom robot, a WeCom group robot, a JSON webhook.

- DingTalk (自定义机器人, 加签): ``timestamp`` (ms) and ``sign`` =
  url-encoded base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")) are added to the
  webhook URL's query; the body is a ``markdown`` message; the reply's ``errcode`` must be 0.
- WeCom (群机器人): a ``markdown`` message; the reply's ``errcode`` must be 0.
- Webhook: the JSON body documented in docs/operations.md; with a secret, the body is signed in
  ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>``; any 2xx reply is success.

A 5xx or 429 reply, a connection error or a robot's "too many messages" errcode is retried with
exponential back-off (tenacity); any other refusal (DingTalk 310000: bad signature, keyword or
IP) is not, since sending the same message again cannot help. Each robot's published rate
(20 messages a minute) is kept per channel in this process (aiolimiter).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import weakref
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus, urlsplit, urlunsplit

import aiohttp
from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from ..errors import HubError
from .channels import Channel
from .message import Message

#: attempts per message within one pass (a message that still fails waits for the next pass)
ATTEMPTS = 4
#: DingTalk and WeCom robots both take at most 20 messages a minute
RATE = (20, 60.0)
#: errcodes that mean "too fast / busy, try later": DingTalk 130101 (send too fast), -1 (busy);
#: WeCom 45009 (api freq out of limit), -1 (busy)
BUSY = {"dingtalk": {130101, -1}, "wecom": {45009, -1}}

_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, AsyncLimiter]] = (
    weakref.WeakKeyDictionary()
)


def _limiter(channel_id: int) -> AsyncLimiter:
    """The channel's rate limiter in this event loop (a limiter's waiters belong to one loop)."""
    per_loop = _limiters.setdefault(asyncio.get_running_loop(), {})
    return per_loop.setdefault(channel_id, AsyncLimiter(*RATE))


class SendError(HubError):
    """The channel did not take the message (the reason, without the channel's URL or secret)."""


class Retryable(SendError):
    """A failure worth retrying: the robot is down, busy, or rate-limits us."""


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: base64 of HMAC-SHA256 over ``timestamp + "\\n" + secret``, url-encoded."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


def webhook_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _with_query(url: str, extra: str) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def webhook_body(channel: Channel, message: Message, now: datetime) -> dict[str, Any]:
    """The plain webhook's JSON body (documented in docs/operations.md)."""
    return {
        "event": "deadline_alert",
        "channel": channel.name,
        "sent_at": now.isoformat(),
        "title": message.title,
        "text": message.markdown,
        "count": len(message.items),
        "items": [i.as_json(now) for i in message.items],
    }


def request_for(channel: Channel, message: Message, now: datetime) -> tuple[str, bytes, dict[str, str]]:
    """URL, body and headers of the one POST that delivers ``message`` on ``channel``."""
    headers = {"Content-Type": "application/json; charset=utf-8"}
    url = channel.url
    if channel.kind == "dingtalk":
        payload: dict[str, Any] = {
            "msgtype": "markdown",
            "markdown": {"title": message.title, "text": message.markdown},
        }
        if channel.secret:
            ts = int(now.timestamp() * 1000)
            url = _with_query(url, f"timestamp={ts}&sign={dingtalk_sign(channel.secret, ts)}")
    elif channel.kind == "wecom":
        payload = {"msgtype": "markdown", "markdown": {"content": message.markdown}}
    else:
        payload = webhook_body(channel, message, now)
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    if channel.kind == "webhook" and channel.secret:
        headers["X-Hub-Signature-256"] = webhook_signature(channel.secret, body)
    return url, body, headers


async def post_once(http: aiohttp.ClientSession, channel: Channel, message: Message, now: datetime) -> None:
    """One attempt; raises :class:`Retryable` or :class:`SendError` (never naming the URL)."""
    url, body, headers = request_for(channel, message, now)
    try:
        async with http.post(url, data=body, headers=headers) as resp:
            text = await resp.text()
            status = resp.status
    except (aiohttp.ClientError, TimeoutError) as err:
        raise Retryable(f"cannot reach the {channel.kind} endpoint: {type(err).__name__}") from None
    if status >= 500 or status == 429:
        raise Retryable(f"HTTP {status} from the {channel.kind} endpoint")
    if status >= 300:
        raise SendError(f"HTTP {status} from the {channel.kind} endpoint: {text[:200]}")
    if channel.kind == "webhook":
        return
    try:
        reply = json.loads(text)
        code = int(reply.get("errcode", -2))
    except (ValueError, AttributeError, TypeError):
        raise Retryable(f"the {channel.kind} robot replied with something that is not its JSON") from None
    if code == 0:
        return
    why = f"{channel.kind} robot refused the message: errcode {code} {str(reply.get('errmsg', ''))[:160]}"
    if code in BUSY.get(channel.kind, ()):
        raise Retryable(why)
    raise SendError(why)


async def send(
    http: aiohttp.ClientSession,
    channel: Channel,
    message: Message,
    *,
    now: Callable[[], datetime],
    sleep: Callable[[float], Awaitable[None]],
    backoff: float = 1.0,
) -> int:
    """Deliver ``message``, retrying what is worth retrying; the attempts made. Raises the last
    :class:`SendError` when every attempt failed."""
    limiter = _limiter(channel.id)
    attempts = 0
    async for attempt in AsyncRetrying(
        stop=stop_after_attempt(ATTEMPTS),
        wait=wait_exponential(multiplier=backoff, max=30 * backoff),
        retry=retry_if_exception_type(Retryable),
        sleep=sleep,
        reraise=True,
    ):
        with attempt:
            attempts += 1
            async with limiter:
                await post_once(http, channel, message, now())
    return attempts
