"""The sandbox `hub demo` uses: realistic, deterministic, registered through the hooks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hub.clock import utcnow
from hub.platform import Sandbox
from plugins import taobao as plugin
from plugins.taobao.sandbox import TaobaoSandbox


def test_hooks_register_the_platform_and_the_sandbox() -> None:
    platforms: list[Any] = []
    sandboxes: list[Any] = []
    plugin.hub_register_platforms(lambda info, factory: platforms.append((info, factory)))
    plugin.hub_register_sandboxes(lambda pid, factory: sandboxes.append((pid, factory)))
    assert platforms[0][0].id == "taobao" and callable(platforms[0][1])
    assert sandboxes == [("taobao", TaobaoSandbox)]
    assert isinstance(TaobaoSandbox(), Sandbox)


async def test_demo_shops_are_realistic_and_run_on_the_real_clock() -> None:
    sandbox = TaobaoSandbox()
    shops = await sandbox.start("")
    try:
        assert [s.settings["tmall"] for s in shops] == ["false", "true"]
        assert all(s.settings["gateway_url"].startswith("http://127.0.0.1:") for s in shops)
        assert abs(sandbox.gateway.clock.now() - utcnow()) < timedelta(minutes=1)
        assert sandbox.taobao is not None and sandbox.tmall is not None
        assert len(sandbox.taobao.trades) >= 300 and len(sandbox.taobao.refunds) >= 25
        assert len(sandbox.tmall.exchanges) >= 5
        statuses = {r.status for r in sandbox.taobao.refunds.values()}
        assert statuses >= {
            "WAIT_SELLER_AGREE",
            "WAIT_BUYER_RETURN_GOODS",
            "WAIT_SELLER_CONFIRM_GOODS",
            "SELLER_REFUSE_BUYER",
            "SUCCESS",
            "CLOSED",
        }
        assert {r.cs_status for r in sandbox.taobao.refunds.values()} >= {1, 3, 10, 11}
    finally:
        await sandbox.stop()


async def test_the_demo_is_deterministic() -> None:
    a, b = TaobaoSandbox(), TaobaoSandbox()
    await a.start("")
    await b.start("")
    try:
        assert a.taobao is not None and b.taobao is not None
        assert sorted(a.taobao.refunds) == sorted(b.taobao.refunds)
        assert [t.status for t in a.taobao.trades.values()] == [t.status for t in b.taobao.trades.values()]
    finally:
        await a.stop()
        await b.stop()
