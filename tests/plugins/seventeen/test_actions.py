"""The manual steps end to end through the adapter: ledger, state checks, refreshed records."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from hub.domain import AfterSaleStatus
from hub.errors import ActionError
from hub.platform import ActionOutcome, ActionRequest
from plugins.seventeen.snapshot import PURCHASE, PURCHASE_RETURN

from .conftest import SeventeenHarness, fetch_all


class Flow:
    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter
        self.n = 0

    async def orders(self) -> dict[str, Any]:
        return {
            r.external_id: self.adapter.map_record(r) for r in (await fetch_all(self.adapter, PURCHASE))[0]
        }

    async def cases(self) -> dict[str, Any]:
        return {
            r.external_id: self.adapter.map_record(r)
            for r in (await fetch_all(self.adapter, PURCHASE_RETURN))[0]
        }

    async def do(self, action: str, *, case: Any = None, order: Any = None, **params: Any) -> Any:
        self.n += 1
        return await self.adapter.perform(
            ActionRequest(
                action=action,
                case=case,
                order=order,
                params=params,
                idempotency_key=f"k{self.n}",
                actor="tester",
            )
        )


def shipped_order(orders: dict[str, Any]) -> Any:
    return next(
        o
        for o in orders.values()
        if o.status.value == "shipped"
        and not o.facts["receipt_extended"]
        and o.remark
        and "900000000000002" in o.remark
    )


async def test_full_return_flow(harness: SeventeenHarness, adapter: Any) -> None:
    flow = Flow(adapter)
    order = shipped_order(await flow.orders())
    result = await flow.do("apply_return", order=order, quantity=1, reason="买家七天无理由")
    assert result.outcome is ActionOutcome.RECORDED
    [raw] = result.refreshed
    rid = raw.external_id
    case = adapter.map_record(raw)
    assert rid == f"{order.external_id}-R1" and case.status is AfterSaleStatus.REQUESTED

    with pytest.raises(ActionError, match="needs return_address"):
        await flow.do("daifa_agreed", case=case)
    harness.world.clock.advance(timedelta(hours=5))
    case = adapter.map_record(
        (await flow.do("daifa_agreed", case=case, return_address="广州白云 代发仓")).refreshed[0]
    )
    assert case.status is AfterSaleStatus.AWAITING_RETURN

    with pytest.raises(ActionError, match="outbound waybill"):
        await flow.do("enter_return_waybill", case=case, waybill=order.waybill)
    harness.world.clock.advance(timedelta(hours=5))
    res = await flow.do("enter_return_waybill", case=case, waybill="SF5550001")
    new = adapter.map_record(res.refreshed[0])
    assert new.status is AfterSaleStatus.RETURN_SHIPPED and new.return_waybill == "SF5550001"
    assert res.refreshed[0].updated_at > raw.updated_at

    with pytest.raises(ActionError, match="after 代发 signs"):
        await flow.do("stall_result", case=new, accepted=True, refund_fen=4500)
    harness.world.clock.advance(timedelta(days=2))
    signed = adapter.map_record((await flow.do("daifa_signed", case=new)).refreshed[0])
    assert signed.facts["daifa_signed_at"] and "unclaimed_since" not in signed.facts
    with pytest.raises(ActionError, match="refund_fen"):
        await flow.do("stall_result", case=signed, accepted=True)
    done = adapter.map_record(
        (await flow.do("stall_result", case=signed, accepted=True, refund_fen=4500)).refreshed[0]
    )
    assert done.status is AfterSaleStatus.SUCCEEDED and done.refund_fen == 4500

    # the ledger is the record: a fresh adapter on the same data folder sees the same case
    again = {r.external_id: r for r in (await fetch_all(adapter, PURCHASE_RETURN))[0]}
    assert adapter.map_record(again[rid]) == done
    entries, _ = adapter.ledger.read()
    assert [e["action"] for e in entries] == [
        "apply_return",
        "daifa_agreed",
        "enter_return_waybill",
        "daifa_signed",
        "stall_result",
    ]


async def test_mid_way_recall_accepts_the_outbound_waybill(adapter: Any) -> None:
    flow = Flow(adapter)
    order = shipped_order(await flow.orders())
    case = adapter.map_record((await flow.do("apply_return", order=order)).refreshed[0])
    res = await flow.do("enter_return_waybill", case=case, waybill=order.waybill, mid_way_recall=True)
    assert adapter.map_record(res.refreshed[0]).facts["mid_way_recall"] is True


async def test_no_waybill_before_applying(adapter: Any) -> None:
    flow = Flow(adapter)
    order = shipped_order(await flow.orders())
    res = await flow.do("daifa_signed", order=order)  # a parcel arrived with no application
    case = adapter.map_record(res.refreshed[0])
    assert case.status is AfterSaleStatus.RETURN_SHIPPED and case.facts["unclaimed_since"]
    with pytest.raises(ActionError, match="before the return is applied"):
        await flow.do("enter_return_waybill", case=case, waybill="SF1")
    actions = {a.action: a for a in adapter.available_actions(case, order)}
    assert not actions["enter_return_waybill"].enabled and actions["apply_return"].enabled
    assert not actions["exchange"].enabled and "换货" in (actions["exchange"].reason or "")
    claimed = adapter.map_record((await flow.do("apply_return", case=case)).refreshed[0])
    claimed = adapter.map_record(
        (await flow.do("enter_return_waybill", case=claimed, waybill="SF1")).refreshed[0]
    )
    assert "unclaimed_since" not in claimed.facts and claimed.facts["stage"] == "signed"


async def test_extend_receipt_once_at_most_7_days(adapter: Any) -> None:
    flow = Flow(adapter)
    order = shipped_order(await flow.orders())
    with pytest.raises(ActionError, match="1 to 7"):
        await flow.do("extend_receipt", order=order, days=8)
    res = await flow.do("extend_receipt", order=order, days=7)
    assert res.outcome is ActionOutcome.RECORDED
    refreshed = adapter.map_record(res.refreshed[0])
    assert refreshed.facts["receipt_extended"] and refreshed.updated_at > order.updated_at
    assert refreshed.facts["auto_confirm_at"] == (order.shipped_at + timedelta(days=19)).isoformat()
    with pytest.raises(ActionError, match="already extended once"):
        await flow.do("extend_receipt", order=refreshed)


async def test_no_return_after_trade_success(adapter: Any) -> None:
    flow = Flow(adapter)
    done = next(o for o in (await flow.orders()).values() if o.status.value == "completed")
    with pytest.raises(ActionError, match="trade succeeded"):
        await flow.do("apply_return", order=done)


async def test_same_key_is_recorded_once(adapter: Any) -> None:
    flow = Flow(adapter)
    order = shipped_order(await flow.orders())
    req = ActionRequest(
        action="apply_return", case=None, order=order, params={}, idempotency_key="same", actor="t"
    )
    first = await adapter.perform(req)
    second = await adapter.perform(req)
    assert second.message == "already recorded" and second.refreshed == first.refreshed
    assert len(adapter.ledger.read()[0]) == 1


async def test_unsupported_actions_say_why(adapter: Any) -> None:
    with pytest.raises(ActionError, match="no exchange"):
        await Flow(adapter).do("exchange")


async def test_available_actions_follow_the_case(adapter: Any) -> None:
    cases = await Flow(adapter).cases()
    requested = next(c for c in cases.values() if c.platform_status == "待审核")
    actions = {a.action: a for a in adapter.available_actions(requested, None)}
    assert actions["daifa_agreed"].enabled and actions["enter_return_waybill"].enabled
    assert not actions["stall_result"].enabled and not actions["apply_return"].enabled
    assert not actions["agree_refund"].enabled and actions["agree_refund"].reason
    signed = next(c for c in cases.values() if c.platform_status == "代发已签收")
    assert {a.action for a in adapter.available_actions(signed, None) if a.enabled} == {"stall_result"}


async def test_a_broken_ledger_line_is_reported_not_fatal(adapter: Any) -> None:
    flow = Flow(adapter)
    order = shipped_order(await flow.orders())
    await flow.do("extend_receipt", order=order)
    with adapter.ledger.path.open("a", encoding="utf-8") as fh:
        fh.write('{"action": "apply_ret')  # a write cut short
    records, problems = await fetch_all(adapter, PURCHASE)
    assert records and any("ledger" in p.source for p in problems)
