"""PMC (拼多多消息服务) over its websocket: read pending messages, ACK each, turn them into hints.

PDD message-service documentation and niltor/open-pdd-net-sdk ``PddSocketHostServiceBase``: connect to
``{push_url}/message/{client_id}/{timestamp_ms}/{digest}`` where ``digest`` is
``base64(hex(md5(client_id + timestamp_ms + client_secret)))``; the server sends JSON frames
``{"id", "commandType": "Common", "time", "sendTime", "message": {"type", "mallID", "content"}}``
(``content`` a JSON string); the client ACKs each with ``{"commandType": "Ack", "id", "mallID",
"type", "sendTime", "time"}`` and sends ``HeartBeat`` frames to stay online.

Our choice (the reference is thin on semantics): the adapter keeps one connection open between
syncs, reads whatever is pending for a short time, ACKs every message it has read (also ones it
cannot use, so PMC does not redeliver them forever) and reconnects on the next call if the
connection dropped. PMC redelivers what was not ACKed, so a message can arrive twice: hints are
only "re-fetch this now", and the store's newer-wins upsert makes duplicates and disorder harmless.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog

from hub.errors import PlatformAuthError, PlatformConnectionError
from hub.platform import Hint

from .info import PLATFORM_ID

log = structlog.get_logger("hub.plugins.pinduoduo.push")


def digest(client_id: str, client_secret: str, timestamp_ms: int) -> str:
    """The PMC connection digest: base64 of the lower-case hex MD5 of id + time + secret."""
    hexed = hashlib.md5(f"{client_id}{timestamp_ms}{client_secret}".encode()).hexdigest()
    return base64.b64encode(hexed.encode()).decode()


def connect_url(push_url: str, client_id: str, client_secret: str, timestamp_ms: int) -> str:
    sign = digest(client_id, client_secret, timestamp_ms)
    return f"{push_url.rstrip('/')}/message/{client_id}/{timestamp_ms}/{sign}"


@dataclass(frozen=True)
class PushMessage:
    """One PMC message: its id (for the ACK), type, shop and parsed content."""

    id: str
    type: str
    mall_id: Any
    send_time: Any
    content: Mapping[str, Any]


def parse_frame(frame: Mapping[str, Any]) -> PushMessage | None:
    """A ``Common`` frame as a message; ``None`` for heartbeats and other commands."""
    if str(frame.get("commandType", "")).lower() != "common":
        return None
    message = frame.get("message")
    if not isinstance(message, Mapping):
        return PushMessage(
            id=str(frame.get("id")), type="", mall_id=None, send_time=frame.get("sendTime"), content={}
        )
    raw = message.get("content")
    content: Any
    if isinstance(raw, str):
        try:
            content = json.loads(raw)
        except ValueError:
            content = {}
    else:
        content = raw
    return PushMessage(
        id=str(frame.get("id")),
        type=str(message.get("type", "")),
        mall_id=message.get("mallID"),
        send_time=frame.get("sendTime"),
        content=content if isinstance(content, Mapping) else {},
    )


def ack_frame(msg: PushMessage) -> dict[str, Any]:
    raw_id: Any = int(msg.id) if msg.id.isdigit() else msg.id
    return {
        "commandType": "Ack",
        "id": raw_id,
        "mallID": msg.mall_id,
        "type": msg.type,
        "sendTime": msg.send_time,
        "time": int(time.time() * 1000),
    }


def hints_for(msg: PushMessage) -> list[Hint]:
    """What a message says changed: ``pdd_refund_*`` → the case and its order; ``pdd_trade_*`` → the order."""
    tid = msg.content.get("tid") or msg.content.get("order_sn")
    out: list[Hint] = []
    if msg.type.startswith("pdd_refund_"):
        refund_id = msg.content.get("refund_id") or msg.content.get("after_sales_id")
        if refund_id not in (None, ""):
            out.append(Hint(resource="after_sale", external_id=str(refund_id), message_id=msg.id))
    if msg.type.startswith(("pdd_refund_", "pdd_trade_")) and tid not in (None, ""):
        out.append(Hint(resource="order", external_id=str(tid), message_id=msg.id))
    return out


class PmcReader:
    """Keeps one PMC websocket open and drains it on demand."""

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        push_url: str,
        client_id: str,
        client_secret: str,
        wait: float = 0.2,
    ) -> None:
        self._session = session
        self._push_url = push_url
        self._client_id = client_id
        self._secret = client_secret
        self._wait = wait
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    async def _connect(self) -> aiohttp.ClientWebSocketResponse:
        if self._ws is not None and not self._ws.closed:
            return self._ws
        url = connect_url(self._push_url, self._client_id, self._secret, int(time.time() * 1000))
        try:
            self._ws = await self._session.ws_connect(
                url, heartbeat=None, timeout=aiohttp.ClientWSTimeout(ws_close=2)
            )
        except aiohttp.WSServerHandshakeError as err:
            if err.status in (401, 403):
                raise PlatformAuthError(
                    f"PMC refused the connection (HTTP {err.status})", platform=PLATFORM_ID
                ) from err
            raise PlatformConnectionError(
                f"PMC handshake failed (HTTP {err.status})", platform=PLATFORM_ID
            ) from err
        except (aiohttp.ClientError, TimeoutError) as err:
            raise PlatformConnectionError(f"PMC unreachable: {err}", platform=PLATFORM_ID) from err
        return self._ws

    async def drain(self) -> list[PushMessage]:
        """Every message pending now (read until ``wait`` seconds pass with nothing new), each ACKed."""
        ws = await self._connect()
        await ws.send_json({"commandType": "HeartBeat", "time": int(time.time() * 1000)})
        messages: list[PushMessage] = []
        while True:
            try:
                frame = await ws.receive(timeout=self._wait)
            except TimeoutError:
                break
            if frame.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.ERROR,
            ):
                self._ws = None
                break
            if frame.type is not aiohttp.WSMsgType.TEXT:
                continue
            try:
                data = json.loads(frame.data)
            except ValueError:
                log.warning("pmc.bad_frame", length=len(frame.data))
                continue
            if not isinstance(data, Mapping):
                continue
            msg = parse_frame(data)
            if msg is None:
                continue
            # ACK before acting: a hint is only "re-fetch"; polling stays the source of truth.
            await ws.send_json(ack_frame(msg))
            messages.append(msg)
        return messages

    async def close(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        self._ws = None
