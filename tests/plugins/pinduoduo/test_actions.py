"""Actions end-to-end against the sandbox: agree refund, agree return (default address), the
unsupported refuse/appeal, and PDD refusing a second agree of the same case."""

from __future__ import annotations

import json

import pytest

from hub.domain import AfterSale
from hub.errors import ActionError
from hub.platform import ActionOutcome, ActionRequest
from plugins.pinduoduo.adapter import PddAdapter
from plugins.pinduoduo.info import INFO
from plugins.pinduoduo.sandbox import FakePddServer


async def load_case(
    adapter: PddAdapter, server: FakePddServer, status: int, *, waybill: bool = False
) -> AfterSale:
    await adapter.platform_now()
    c = next(
        c
        for c in sorted(server.cases.values(), key=lambda c: c.id)
        if c.status == status and bool(c.waybill) == waybill
    )
    raw = await adapter._fetch_case(str(c.id), c.order_sn)
    assert raw is not None
    mapped = adapter.map_record(raw)
    assert isinstance(mapped, AfterSale)
    return mapped


def request(action: str, case: AfterSale, key: str = "k1", **params: str) -> ActionRequest:
    return ActionRequest(
        action=action, case=case, order=None, params=params, idempotency_key=key, actor="agent"
    )


async def test_agree_refund_end_to_end(server: FakePddServer, adapter: PddAdapter) -> None:
    case = await load_case(adapter, server, 2)
    result = await adapter.perform(request("agree_refund", case, operate_desc="已同意，请留意退款"))
    assert result.outcome is ActionOutcome.DONE and result.message == "退款操作成功"
    assert result.response["result"]["succ"] is True
    sent = json.loads(server.calls_to("pdd.refund.agree")[-1].params["request"])
    assert sent == {
        "after_sales_id": int(case.external_id),
        "order_sn": case.order_external_id,
        "operate_desc": "已同意，请留意退款",
    }
    fresh, order = result.refreshed
    assert order.resource == "order" and order.payload["refund_status"] == 3  # 退款中
    mapped = adapter.map_record(fresh)
    assert (
        isinstance(mapped, AfterSale) and mapped.platform_status == "4" and mapped.status.value == "refunding"
    )


async def test_second_agree_is_refused_by_pdd(server: FakePddServer, adapter: PddAdapter) -> None:
    """PDD answers a repeated agree with a business error (succ=false); nothing moves twice."""
    case = await load_case(adapter, server, 2)
    first = await adapter.perform(request("agree_refund", case, key="k1"))
    assert first.outcome is ActionOutcome.DONE
    moved_at = server.cases[int(case.external_id)].updated
    second = await adapter.perform(request("agree_refund", case, key="k2"))  # the stale case, sent again
    assert second.outcome is ActionOutcome.FAILED
    assert "不允许" in second.message and second.response["result"]["succ"] is False
    assert (
        server.cases[int(case.external_id)].status == 4
        and server.cases[int(case.external_id)].updated == moved_at
    )


async def test_agree_return_uses_the_default_address(server: FakePddServer, adapter: PddAdapter) -> None:
    case = await load_case(adapter, server, 3)
    result = await adapter.perform(request("agree_return", case))
    assert result.outcome is ActionOutcome.DONE
    assert server.calls_to("pdd.refund.address.list.get")
    sent = json.loads(server.calls_to("pdd.refund.returngoods.agree")[-1].params["request"])
    assert sent["return_address_id"] == "9002"  # is_default "1" in the address list
    mapped = adapter.map_record(result.refreshed[0])
    assert isinstance(mapped, AfterSale) and mapped.status.value == "awaiting_return"
    again = await adapter.perform(request("agree_return", case, key="k2"))
    assert again.outcome is ActionOutcome.FAILED and again.response["result"]["success"] is False


async def test_agree_return_with_a_chosen_address(server: FakePddServer, adapter: PddAdapter) -> None:
    case = await load_case(adapter, server, 3)
    result = await adapter.perform(request("agree_return", case, return_address_id="9001"))
    assert result.outcome is ActionOutcome.DONE
    assert not server.calls_to("pdd.refund.address.list.get")
    assert (
        json.loads(server.calls_to("pdd.refund.returngoods.agree")[-1].params["request"])["return_address_id"]
        == "9001"
    )


async def test_agree_return_without_any_default_address(server: FakePddServer, adapter: PddAdapter) -> None:
    for a in server.addresses:
        a["is_default"] = "0"
    case = await load_case(adapter, server, 3)
    with pytest.raises(ActionError, match="default return address"):
        await adapter.perform(request("agree_return", case))
    assert not server.calls_to("pdd.refund.returngoods.agree")


async def test_agree_refund_after_return_arrives(server: FakePddServer, adapter: PddAdapter) -> None:
    case = await load_case(adapter, server, 3, waybill=True)
    assert case.status.value == "return_shipped"
    result = await adapter.perform(request("agree_refund", case))
    assert result.outcome is ActionOutcome.DONE


@pytest.mark.parametrize("action", ["refuse", "appeal"])
async def test_no_api_to_refuse_or_appeal(server: FakePddServer, adapter: PddAdapter, action: str) -> None:
    case = await load_case(adapter, server, 2)
    cap = INFO.capability(action)
    assert cap is not None and not cap.supported and cap.reason and "商家后台" in cap.reason
    availability = {a.action: a for a in adapter.available_actions(case, None)}
    assert not availability[action].enabled and availability[action].reason == cap.reason
    with pytest.raises(ActionError, match="no"):
        await adapter.perform(request(action, case))
    assert all(
        c.api in ("pdd.time.get", "pdd.refund.list.increment.get", "pdd.refund.information.get")
        for c in server.calls
    )


async def test_blocked_action_is_not_sent(server: FakePddServer, adapter: PddAdapter) -> None:
    case = await load_case(adapter, server, 7)
    availability = {a.action: a for a in adapter.available_actions(case, None)}
    assert not availability["agree_refund"].enabled and "2/3" in (availability["agree_refund"].reason or "")
    with pytest.raises(ActionError):
        await adapter.perform(request("agree_refund", case))
    assert not server.calls_to("pdd.refund.agree")


async def test_available_actions_on_a_new_request(server: FakePddServer, adapter: PddAdapter) -> None:
    case = await load_case(adapter, server, 3)
    availability = {a.action: a.enabled for a in adapter.available_actions(case, None)}
    assert availability == {"agree_refund": True, "agree_return": True, "refuse": False, "appeal": False}
