"""The exchange flow (JD runs exchanges online) and the return flow, through the core's actions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import hub_jd
from hub_jd.sandbox import FakeJosServer

from hub.actions import available_actions, perform_action
from hub.runtime import Hub
from hub.store.base import tbl
from hub.store.models import AfterSaleRecord
from hub.store.shops import add_shop
from hub.sync import sync_shops


async def _hub(make_hub: Callable[..., Hub], server: FakeJosServer) -> Hub:
    hub = make_hub(hub_jd, now=server.clock.now)
    settings = server.shop_settings(request_timeout="2", rate_limit="500")
    await add_shop(hub.engine, hub.registry.info("jd"), "jd", settings)
    [summary] = await sync_shops(hub)
    assert summary.status == "ok", summary.errors
    return hub


async def _case(hub: Hub, external_id: str) -> Any:
    from sqlalchemy import select

    cases = tbl(AfterSaleRecord)
    async with hub.engine.connect() as conn:
        return (await conn.execute(select(cases).where(cases.c.external_id == external_id))).first()


def _pick(server: FakeJosServer, expect: int, status: int) -> str:
    return str(
        next(
            sid
            for sid, s in sorted(server.services.items())
            if s.payload["customerExpect"] == expect and s.payload["serviceStatus"] == status
        )
    )


async def _act(hub: Hub, row: Any, action: str, **params: Any) -> Any:
    return await perform_action(hub, row.id, action, params, actor="agent")


async def test_exchange_runs_online_from_review_to_the_buyers_confirmation(
    make_hub: Callable[..., Hub], jd_server: FakeJosServer
) -> None:
    hub = await _hub(make_hub, jd_server)
    ext = _pick(jd_server, 20, 10001)
    row = await _case(hub, ext)
    assert (row.kind, row.status, row.deadline_rule_id) == ("exchange", "requested", "jd.audit")
    states = {a["action"]: a for a in await available_actions(hub, row.id)}
    assert states["agree_return"]["enabled"] and not states["reship"]["enabled"]

    reply = await _act(hub, row, "agree_return")
    assert reply.status == "done", reply.message
    row = await _case(hub, ext)  # the core re-read the service order after the action
    assert row.status == "awaiting_return" and row.deadline_rule_id == "jd.buyer_return"

    jd_server.advance(timedelta(days=1, minutes=5))  # the buyer sends the goods back
    jd_server.advance(timedelta(minutes=2))  # past the sync's one-minute lag behind JD's clock
    await sync_shops(hub)
    row = await _case(hub, ext)
    assert row.status == "return_shipped" and row.return_waybill

    assert (await _act(hub, row, "confirm_receipt", remark="外观完好")).status == "done"
    row = await _case(hub, ext)
    assert row.status == "awaiting_reship" and row.deadline_rule_id == "jd.reship"

    assert (await _act(hub, row, "reship")).status == "done"
    row = await _case(hub, ext)
    assert row.status == "reshipped" and row.deadline_party == "buyer"
    calls = [c.api for c in jd_server.calls if c.api.startswith("jingdong.asc.") and "query" not in c.api]
    assert [c for c in calls if c != "jingdong.asc.audit.count"] == [
        "jingdong.asc.audit.send",
        "jingdong.asc.receive.register",
        "jingdong.asc.process.renew",
    ]


async def test_a_return_goes_to_jds_refund_after_receipt(
    make_hub: Callable[..., Hub], jd_server: FakeJosServer
) -> None:
    hub = await _hub(make_hub, jd_server)
    ext = _pick(jd_server, 10, 10001)
    row = await _case(hub, ext)
    assert (await _act(hub, row, "agree_return", notes="同意退货")).status == "done"
    row = await _case(hub, ext)
    states = {a["action"]: a for a in await available_actions(hub, row.id)}
    assert not states["reship"]["enabled"] and states["reship"]["reason"]
    assert (await _act(hub, row, "confirm_receipt")).status == "done"
    assert (await _case(hub, ext)).status == "refunding"


async def test_refusal_needs_a_reason_and_closes_the_case(
    make_hub: Callable[..., Hub], jd_server: FakeJosServer
) -> None:
    hub = await _hub(make_hub, jd_server)
    ext = _pick(jd_server, 20, 10001)
    row = await _case(hub, ext)
    failed = await _act(hub, row, "refuse")
    assert failed.status == "failed" and "notes" in failed.message
    assert (await _act(hub, row, "refuse", notes="商品已使用，影响二次销售")).status == "done"
    row = await _case(hub, ext)
    assert row.status == "closed"
    states = [a for a in await available_actions(hub, row.id) if a["origin"] == "platform"]
    assert not any(a["enabled"] for a in states), "a closed service order allows no platform action"


async def test_a_stale_version_is_refused_by_jd_not_overwritten(
    make_hub: Callable[..., Hub], jd_server: FakeJosServer
) -> None:
    """The adapter re-reads sysVersion before writing, so a change made in the backend meanwhile
    does not make the action fail; the sandbox refuses a write carrying an old version."""
    hub = await _hub(make_hub, jd_server)
    ext = _pick(jd_server, 20, 10001)
    row = await _case(hub, ext)
    jd_server.touch(int(ext), questionDesc="客户补充了照片")  # changed in the backend: version + 1
    assert (await _act(hub, row, "agree_return")).status == "done"
    answer = jd_server._audit_send(
        {
            "serviceId": int(ext),
            "orderId": row.order_external_id,
            "sysVersion": 1,
            "approveNotes": "x",
            "returnDetailAddress": "y",
        }
    )
    assert answer["result"]["success"] is False
