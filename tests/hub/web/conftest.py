"""A small world for the workbench tests: two acme shops synced from two sandboxes, four users.

shop-a has 40 cases (C50000-C50039), shop-b has 60 (C50000-C50059): the first 40 external ids
exist in both shops, C50040-C50059 only in shop-b, so a search can prove what an agent of shop-a
must never see. Users: admin (every shop), alice (agent, shop-a), vera (viewer, shop-a),
bob (agent, shop-b). Every user has an API token in ``World.tokens``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

import tests.testplatform as acme
from hub.runtime import Hub
from hub.store.models import AfterSaleRecord, ShopRecord
from hub.store.shops import add_shop
from hub.sync import sync_shops
from hub.web import create_app
from hub.web.auth import create_token, ensure_user
from tests.testplatform.server import TOKEN, AcmeServer

PASSWORD = "correct horse battery"
USERS = {
    "admin": ("admin", []),
    "alice": ("agent", ["shop-a"]),
    "vera": ("viewer", ["shop-a"]),
    "bob": ("agent", ["shop-b"]),
}


@dataclass
class World:
    hub: Hub
    servers: dict[str, AcmeServer]
    shop_ids: dict[str, int]
    tokens: dict[str, str] = field(default_factory=dict)

    async def case_id(self, shop: str, external_id: str) -> int:
        """The hub id of a shop's case."""
        C = AfterSaleRecord.__table__
        async with self.hub.engine.connect() as conn:
            return int(
                (
                    await conn.execute(
                        select(C.c.id).where(
                            C.c.shop_id == self.shop_ids[shop], C.c.external_id == external_id
                        )
                    )
                ).scalar_one()
            )

    async def first(self, shop: str, platform_status: str) -> tuple[int, str]:
        """(hub id, external id) of the first case of ``shop`` in the sandbox's ``platform_status``."""
        C = AfterSaleRecord.__table__
        async with self.hub.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(C.c.id, C.c.external_id)
                    .where(
                        C.c.shop_id == self.shop_ids[shop],
                        C.c.platform_status == platform_status,
                        C.c.is_open.is_(True),
                    )
                    .order_by(C.c.id)
                )
            ).first()
        assert row is not None, f"no {platform_status} case in {shop}"
        return int(row.id), str(row.external_id)

    def auth(self, user: str) -> dict[str, str]:
        """Headers of a script calling as ``user``."""
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def agree_calls(self, shop: str = "shop-a") -> int:
        """How many times the sandbox was asked to agree a refund (a double action would show here)."""
        return sum(1 for c in self.servers[shop].calls if c.api == "case.agree")


async def build_world(make_hub: Callable[..., Hub], *, days: int = 5) -> World:
    servers = {"shop-a": AcmeServer(), "shop-b": AcmeServer()}
    servers["shop-a"].populate(n_cases=40, days=days, seed=7)
    servers["shop-b"].populate(n_cases=60, days=days, seed=11)
    hub = make_hub(acme)
    hub.now = servers["shop-a"].clock.now
    shop_ids = {}
    for name, server in servers.items():
        url = await server.serve()
        shop_ids[name] = await add_shop(
            hub.engine, hub.registry.info("acme"), name, {"api_url": url + "/api", "token": TOKEN}
        )
    summaries = await sync_shops(hub)
    assert all(s.status == "ok" for s in summaries), [s.errors for s in summaries]
    world = World(hub=hub, servers=servers, shop_ids=shop_ids)
    for name, (role, shops) in USERS.items():
        await ensure_user(hub, name, role, shops, PASSWORD)
        world.tokens[name] = await create_token(hub.engine, name, now=hub.now())
    return world


@pytest.fixture
async def world(make_hub: Callable[..., Hub]) -> AsyncIterator[World]:
    w = await build_world(make_hub)
    try:
        yield w
    finally:
        for server in w.servers.values():
            await server.stop()


@pytest.fixture
async def client(world: World, aiohttp_client: Any) -> TestClient:
    return await aiohttp_client(create_app(world.hub, owns_hub=False))


@pytest.fixture
def sqlite_only(engine: Any) -> None:
    """Page and browser tests run on SQLite only (the access and API tests run on both backends)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("page tests run on SQLite; the access and API tests cover PostgreSQL")


async def login(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Log in through the form like a browser; return the session's CSRF token."""
    page = await client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', await page.text())
    assert token, "the login form has no CSRF field"
    resp = await client.post(
        "/login",
        data={"login_token": token.group(1), "name": name, "password": password, "next": "/"},
        allow_redirects=False,
    )
    assert resp.status == 303, await resp.text()
    home = await client.get("/")
    csrf = re.search(r'<meta name="csrf-token" content="([^"]*)"', await home.text())
    assert csrf and csrf.group(1)
    return csrf.group(1)


async def shop_id_of(world: World, name: str) -> int:
    S = ShopRecord.__table__
    async with world.hub.engine.connect() as conn:
        return int((await conn.execute(select(S.c.id).where(S.c.name == name))).scalar_one())
