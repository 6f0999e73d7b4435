"""A local fake of the robots hub alerts: DingTalk (checks the 加签 signature like DingTalk does),
WeCom (checks the markdown body) and a JSON webhook (checks the body and its HMAC header).

Each endpoint records what it took; ``fail(path, n)`` answers the next n requests with HTTP 500.
A DingTalk request with a wrong or missing signature gets DingTalk's refusal, errcode 310000.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

DINGTALK_TOKEN = "dt-access-token-0123456789abcdef"
WECOM_KEY = "wecom-key-0123456789abcdef"


@dataclass
class FakeRobots:
    dingtalk_secret: str = "SECtest-dingtalk-secret"
    webhook_secret: str | None = None
    received: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"dingtalk": [], "wecom": [], "webhook": []}
    )
    refused: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=lambda: {"dingtalk": 0, "wecom": 0, "webhook": 0})
    url: str = ""
    _runner: web.AppRunner | None = None

    def fail(self, kind: str, times: int) -> None:
        self.failures[kind] = times

    def _failing(self, kind: str) -> bool:
        self.requests[kind] += 1
        if self.failures.get(kind, 0) > 0:
            self.failures[kind] -= 1
            return True
        return False

    async def dingtalk(self, request: web.Request) -> web.Response:
        if self._failing("dingtalk"):
            return web.Response(status=500, text="internal error")
        if request.query.get("access_token") != DINGTALK_TOKEN:
            return web.json_response({"errcode": 300001, "errmsg": "token is not exist"})
        ts, sign = request.query.get("timestamp", ""), request.query.get("sign", "")
        expected = base64.b64encode(
            hmac.new(
                self.dingtalk_secret.encode(), f"{ts}\n{self.dingtalk_secret}".encode(), hashlib.sha256
            ).digest()
        ).decode()
        # the query is url-decoded once, as DingTalk decodes it: an unencoded "+" in the base64
        # would arrive as a space and fail here, as it does there
        if not ts or not hmac.compare_digest(sign, expected):
            self.refused.append(dict(request.query))
            return web.json_response({"errcode": 310000, "errmsg": "sign not match"})
        body = await request.json()
        assert body["msgtype"] == "markdown", body
        assert body["markdown"]["title"] and body["markdown"]["text"], body
        self.received["dingtalk"].append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def wecom(self, request: web.Request) -> web.Response:
        if self._failing("wecom"):
            return web.Response(status=500)
        if request.query.get("key") != WECOM_KEY:
            return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url"})
        body = await request.json()
        if body.get("msgtype") != "markdown" or not body.get("markdown", {}).get("content"):
            return web.json_response({"errcode": 40008, "errmsg": "invalid message type"})
        if len(body["markdown"]["content"].encode()) > 4096:
            return web.json_response({"errcode": 40058, "errmsg": "markdown.content exceed max length"})
        self.received["wecom"].append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def webhook(self, request: web.Request) -> web.Response:
        if self._failing("webhook"):
            return web.Response(status=500)
        raw = await request.read()
        if self.webhook_secret is not None:
            want = "sha256=" + hmac.new(self.webhook_secret.encode(), raw, hashlib.sha256).hexdigest()
            if request.headers.get("X-Hub-Signature-256") != want:
                return web.Response(status=401, text="bad signature")
        body = json.loads(raw)
        for key in ("event", "channel", "sent_at", "title", "text", "count", "items"):
            assert key in body, key
        self.received["webhook"].append(body)
        return web.Response(status=204)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/robot/send", self.dingtalk)
        app.router.add_post("/cgi-bin/webhook/send", self.wecom)
        app.router.add_post("/hook", self.webhook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    @property
    def dingtalk_url(self) -> str:
        return f"{self.url}/robot/send?access_token={DINGTALK_TOKEN}"

    @property
    def wecom_url(self) -> str:
        return f"{self.url}/cgi-bin/webhook/send?key={WECOM_KEY}"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/hook"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
