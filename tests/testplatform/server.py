"""The acme sandbox: a JSON API on loopback with paging, token auth, faults and a clock."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from hub.platform import DemoShop
from hub.testing.fake_server import FakeClock, FakePlatformServer

TOKEN = "acme-secret-token"
STATUSES = ("NEW", "AGREED", "RETURNING", "DONE", "CLOSED", "ESCALATED")


@dataclass
class AcmeServer(FakePlatformServer):
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 40

    def populate(self, n_cases: int = 120, days: int = 20, seed: int = 7) -> None:
        rng = random.Random(seed)
        now = self.clock.now()
        for i in range(n_cases):
            created = now - timedelta(days=days) + timedelta(minutes=rng.randrange(days * 24 * 60 - 60))
            modified = created + timedelta(minutes=rng.randrange(60))
            oid = f"O{10000 + i}"
            self.orders[oid] = {
                "id": oid,
                "status": "PAID",
                "total": f"{rng.randrange(100, 99999) / 100:.2f}",
                "created": created.isoformat(),
                "modified": created.isoformat(),
            }
            self.cases[f"C{50000 + i}"] = {
                "id": f"C{50000 + i}",
                "order_id": oid,
                "status": rng.choice(STATUSES),
                "amount": self.orders[oid]["total"],
                "reason": rng.choice(["size", "damaged", "no reason"]),
                "created": created.isoformat(),
                "modified": modified.isoformat(),
            }

    def touch(self, case_id: str, **changes: Any) -> None:
        case = self.cases[case_id]
        case.update(changes)
        case["modified"] = self.clock.now().isoformat()
        self.messages.append({"topic": "case_changed", "id": case_id})

    def setup_routes(self, app: web.Application) -> None:
        app.router.add_post("/api", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        api = str(body.get("api"))
        self.record(api, body)
        fault = self.take_fault(api)
        if fault is not None:
            if fault.kind == "rate_limit":
                return web.json_response({"error": "rate_limited", "retry_after": fault.seconds}, status=429)
            if fault.kind == "auth_expired":
                return web.json_response({"error": "token_expired"}, status=401)
            if fault.kind == "server_error":
                return web.json_response({"error": "internal"}, status=500)
            if fault.kind == "timeout":
                await self.stall(fault)
        if request.headers.get("X-Token") != TOKEN:
            return web.json_response({"error": "token_invalid"}, status=401)
        if api in ("cases.list", "orders.list"):
            store = self.cases if api == "cases.list" else self.orders
            start, end = datetime.fromisoformat(body["start"]), datetime.fromisoformat(body["end"])
            rows = sorted(
                (r for r in store.values() if start <= datetime.fromisoformat(r["modified"]) < end),
                key=lambda r: (r["modified"], r["id"]),
            )
            page = int(body.get("page", 1))
            size = int(body.get("page_size", self.page_size))
            return web.json_response({"total": len(rows), "items": rows[(page - 1) * size : page * size]})
        if api == "case.get":
            case = self.cases.get(str(body.get("id")))
            return web.json_response({"item": case})
        if api == "order.get":
            return web.json_response({"item": self.orders.get(str(body.get("id")))})
        if api == "case.agree":
            case = self.cases.get(str(body.get("id")))
            if case is None or case["status"] != "NEW":
                return web.json_response({"error": "bad_state"}, status=400)
            self.touch(case["id"], status="AGREED")
            return web.json_response({"ok": True, "item": self.cases[case["id"]]})
        if api == "messages.consume":
            out, self.messages = self.messages, []
            return web.json_response({"messages": out})
        if api == "now":
            return web.json_response({"now": self.clock.now().isoformat()})
        return web.json_response({"error": f"unknown api {api}"}, status=400)


class AcmeSandbox:
    """The acme sandbox as ``hub demo`` and the conformance suite start it."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.server = AcmeServer(clock=clock or FakeClock())

    async def start(self, workdir: str) -> Sequence[DemoShop]:
        self.server.populate()
        url = await self.server.serve()
        return [DemoShop(name="acme-demo", settings={"api_url": url + "/api", "token": TOKEN})]

    async def stop(self) -> None:
        await self.server.stop()
