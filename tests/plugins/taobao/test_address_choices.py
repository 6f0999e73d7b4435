"""Action parameters on the workbench's form, through the HTTP path an agent takes: a Taobao
agree-return offers the shop's return addresses as a select (TOP taobao.logistics.address.search,
signed like every call, cached per shop), falls back to a text field when the platform cannot be
asked, and money is typed in 元 (converted to fen once, refused with a Chinese error naming the
field). The audit log keeps what the action changed."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp.test_utils import TestClient
from sqlalchemy import select

import plugins.taobao as taobao_plugin
from hub.choices import forget
from hub.runtime import Hub
from hub.store.models import AfterSaleRecord
from hub.store.shops import add_shop
from hub.sync import sync_shops
from hub.web import create_app
from hub.web.auth import audit_entries, create_token, ensure_user
from plugins.taobao import sandbox_gateway
from plugins.taobao.sandbox import TaobaoSandbox
from tests.plugins.taobao.conftest import add_refund


async def _world(
    sandbox: TaobaoSandbox, make_hub: Callable[..., Hub], aiohttp_client: Any
) -> tuple[Hub, TestClient, dict[str, str], dict[str, int]]:
    assert sandbox.taobao is not None
    hub = make_hub(taobao_plugin)
    hub.now = sandbox.gateway.clock.now
    demo = sandbox.demo_shop(sandbox.taobao)
    await add_shop(hub.engine, hub.registry.info("taobao"), demo.name, dict(demo.settings))
    at = sandbox.gateway.clock.now() - timedelta(hours=1)
    refunds = {
        "return": add_refund(sandbox.taobao, at, has_return=True, reason="尺码不合适"),
        "refund": add_refund(sandbox.taobao, at),
    }
    summaries = await sync_shops(hub)
    assert all(s.status == "ok" for s in summaries), [s.errors for s in summaries]
    C = AfterSaleRecord.__table__
    ids: dict[str, int] = {}
    async with hub.engine.connect() as conn:
        for name, r in refunds.items():
            ids[name] = int(
                (await conn.execute(select(C.c.id).where(C.c.external_id == str(r.refund_id)))).scalar_one()
            )
    await ensure_user(hub, "alice", "admin", [], "correct horse battery")
    token = await create_token(hub.engine, "alice", now=hub.now())
    client = await aiohttp_client(create_app(hub, owns_hub=False))
    return hub, client, {"Authorization": f"Bearer {token}"}, ids


def _error_of(location: str) -> str:
    return parse_qs(urlsplit(location).query).get("error", [""])[0]


async def test_agree_return_offers_the_shops_addresses_and_money_is_typed_in_yuan(
    sandbox: TaobaoSandbox, make_hub: Callable[..., Hub], aiohttp_client: Any, monkeypatch: Any
) -> None:
    hub, client, auth, ids = await _world(sandbox, make_hub, aiohttp_client)
    assert sandbox.taobao is not None
    asked: list[dict[str, str]] = []
    original = sandbox_gateway._HANDLERS["taobao.logistics.address.search"]

    def counting(gw: Any, call: Any) -> Any:
        asked.append(dict(call.params))
        return original(gw, call)

    monkeypatch.setitem(sandbox_gateway._HANDLERS, "taobao.logistics.address.search", counting)

    page = await (await client.get(f"/cases/{ids['return']}", headers=auth)).text()
    select_html = re.search(r'<select id="agree_return-address_id" name="address_id".*?</select>', page, re.S)
    assert select_html, "agree_return's address_id is a select of the shop's addresses"
    options = dict(re.findall(r'<option value="(\d+)">([^<]+)</option>', select_html.group(0)))
    assert set(options) == set(sandbox.taobao.addresses)
    assert "默认退货地址" in options["1001"] and "文一西路969号" in options["1001"]
    assert "退货地址" in page and "买家按此地址寄回商品" in page  # the Chinese label and help
    # the call was signed like every other (the gateway checks it) and is cached per shop
    assert (
        len(asked) == 1 and asked[0].get("sign") and asked[0]["method"] == "taobao.logistics.address.search"
    )
    await client.get(f"/cases/{ids['return']}", headers=auth)
    assert len(asked) == 1

    resp = await client.post(
        f"/cases/{ids['return']}/act/agree_return",
        data={"address_id": "1002", "idempotency_key": "web-agree-return-1"},
        headers=auth,
        allow_redirects=False,
    )
    assert resp.status == 303 and "done=" in resp.headers["Location"], resp.headers["Location"]
    refund = sandbox.taobao.refunds[int(await _external(hub, ids["return"]))]
    assert refund.address == sandbox.taobao.addresses["1002"]
    assert refund.status == "WAIT_BUYER_RETURN_GOODS"

    # money in 元: a third decimal is refused, naming the field in Chinese; nothing is sent
    money = ids["refund"]
    before = sandbox.taobao.refunds[int(await _external(hub, money))].refund_fen
    assert before > 150
    resp = await client.post(
        f"/cases/{money}/act/agree_refund",
        data={"amount_fen": "1.505", "confirm": "yes", "idempotency_key": "web-agree-money-1"},
        headers=auth,
        allow_redirects=False,
    )
    error = _error_of(resp.headers["Location"])
    assert resp.status == 303 and "“退款金额”" in error and "两位小数" in error, error
    shown = await (await client.get(resp.headers["Location"].split("#")[0], headers=auth)).text()
    assert "“退款金额”须为金额（元）" in shown
    assert sandbox.taobao.refunds[int(await _external(hub, money))].status == "WAIT_SELLER_AGREE"
    # 1.50 元 is 150 fen at the platform
    resp = await client.post(
        f"/cases/{money}/act/agree_refund",
        data={"amount_fen": "1.50", "confirm": "yes", "idempotency_key": "web-agree-money-2"},
        headers=auth,
        allow_redirects=False,
    )
    assert resp.status == 303 and "done=" in resp.headers["Location"], resp.headers["Location"]
    agreed = sandbox.taobao.refunds[int(await _external(hub, money))]
    assert agreed.status == "SUCCESS" and agreed.refund_fen == 150

    # the audit log: the actions with the case before and after, by the agent
    entries = [e for e in await audit_entries(hub.engine) if e["kind"] == "action"]
    by_action = {e["detail"]["action"]: e for e in entries}
    ret = by_action["agree_return"]["detail"]
    assert ret["before"]["status"] == "requested" and ret["after"]["status"] == "awaiting_return"
    assert by_action["agree_refund"]["detail"]["params"] == {"amount_fen": 150}
    audit = await (await client.get("/audit", headers=auth)).text()
    assert "同意退货" in audit and "待商家处理" in audit and "待买家退货" in audit and "¥1.50" in audit


async def test_address_falls_back_to_a_text_field_when_the_platform_cannot_be_asked(
    sandbox: TaobaoSandbox, make_hub: Callable[..., Hub], aiohttp_client: Any, monkeypatch: Any
) -> None:
    hub, client, auth, ids = await _world(sandbox, make_hub, aiohttp_client)

    def refused(gw: Any, call: Any) -> Any:
        raise sandbox_gateway._business("isp.remote-service-error", "地址库服务暂不可用")

    monkeypatch.setitem(sandbox_gateway._HANDLERS, "taobao.logistics.address.search", refused)
    forget(hub)
    page = await (await client.get(f"/cases/{ids['return']}", headers=auth)).text()
    assert '<input id="agree_return-address_id" name="address_id"' in page
    assert '<select id="agree_return-address_id"' not in page


async def _external(hub: Hub, case_id: int) -> str:
    C = AfterSaleRecord.__table__
    async with hub.engine.connect() as conn:
        return str((await conn.execute(select(C.c.external_id).where(C.c.id == case_id))).scalar_one())
