"""Actions end to end: adapter → fake TOP gateway → simulated shop → refreshed record."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.domain import AfterSale, AfterSaleStatus
from hub.errors import ActionError
from hub.platform import ActionOutcome, ActionRequest
from plugins.taobao.adapter import NEEDS_CODE, TaobaoAdapter
from plugins.taobao.sandbox import SimShop, TaobaoSandbox

from .conftest import add_refund, case_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
GIF = b"GIF89a" + b"\x00" * 100


async def fresh_case(adapter: TaobaoAdapter, sim: SimShop, sandbox: TaobaoSandbox, **kw: Any) -> AfterSale:
    r = add_refund(sim, sandbox.gateway.clock.now() - timedelta(hours=1), **kw)
    return case_of(adapter, await adapter.fetch_one("refund", str(r.refund_id)))


def request(action: str, case: AfterSale, key: str = "k1", **params: Any) -> ActionRequest:
    return ActionRequest(
        action=action, case=case, order=None, params=params, idempotency_key=key, actor="agent"
    )


def enabled(adapter: TaobaoAdapter, case: AfterSale) -> dict[str, bool]:
    return {a.action: a.enabled for a in adapter.available_actions(case, None)}


async def test_agree_refund_end_to_end(sandbox: TaobaoSandbox, taobao: TaobaoAdapter) -> None:
    assert sandbox.taobao is not None
    case = await fresh_case(taobao, sandbox.taobao, sandbox)
    assert enabled(taobao, case)["agree_refund"]
    result = await taobao.perform(request("agree_refund", case))
    assert result.outcome is ActionOutcome.DONE
    assert result.response["msg_code"] == "OP_SUCC"
    (fresh,) = result.refreshed
    assert case_of(taobao, fresh).status is AfterSaleStatus.SUCCEEDED
    sent = sandbox.gateway.calls_to("taobao.rp.refunds.agree")[-1].params["refund_infos"]
    assert sent == f"{case.external_id}|{case.refund_fen}|{case.version}|aftersale"  # amount in fen


async def test_a_doubled_agree_never_refunds_twice(sandbox: TaobaoSandbox, taobao: TaobaoAdapter) -> None:
    assert sandbox.taobao is not None
    case = await fresh_case(taobao, sandbox.taobao, sandbox)
    first = await taobao.perform(request("agree_refund", case, key="a"))
    assert first.outcome is ActionOutcome.DONE
    # The same request again (a retry that slipped through): its refund_version is stale now.
    again = await taobao.client.call(
        "taobao.rp.refunds.agree", {"refund_infos": f"{case.external_id}|{case.refund_fen}|{case.version}"}
    )
    assert again["succ"] is False and "版本" in again["results"]["refund_mapping_result"][0]["message"]
    successes = [
        m
        for m in sandbox.taobao.messages
        if m.topic == "taobao_refund_RefundSuccess" and m.content["refund_id"] == int(case.external_id)
    ]
    assert len(successes) == 1


async def test_agree_with_a_changed_refund_fails(sandbox: TaobaoSandbox, taobao: TaobaoAdapter) -> None:
    assert sandbox.taobao is not None
    case = await fresh_case(taobao, sandbox.taobao, sandbox)
    sandbox.taobao.refunds[int(case.external_id)].touch(sandbox.gateway.clock.now())  # the buyer changed it
    result = await taobao.perform(request("agree_refund", case))
    assert result.outcome is ActionOutcome.FAILED and "版本" in result.message
    assert sandbox.taobao.refunds[int(case.external_id)].status == "WAIT_SELLER_AGREE"


async def test_large_refund_needs_an_sms_code(sandbox: TaobaoSandbox, taobao: TaobaoAdapter) -> None:
    assert sandbox.taobao is not None
    sim = sandbox.taobao
    r = add_refund(sim, sandbox.gateway.clock.now(), refund_fen=80_000, total_fen=80_000)
    case = case_of(taobao, await taobao.fetch_one("refund", str(r.refund_id)))
    first = await taobao.perform(request("agree_refund", case))
    assert (
        first.outcome is ActionOutcome.NEEDS_VERIFICATION
        and first.message == NEEDS_CODE
        and "验证码" in first.message
    )
    assert sim.refunds[r.refund_id].status == "WAIT_SELLER_AGREE"
    wrong = await taobao.perform(request("agree_refund", case, key="k2", code="000000"))
    assert wrong.outcome is ActionOutcome.NEEDS_VERIFICATION
    done = await taobao.perform(request("agree_refund", case, key="k3", code=sim.sms_code))
    assert done.outcome is ActionOutcome.DONE and sim.refunds[r.refund_id].status == "SUCCESS"


async def test_agree_amount_checked_before_sending(sandbox: TaobaoSandbox, taobao: TaobaoAdapter) -> None:
    assert sandbox.taobao is not None
    case = await fresh_case(taobao, sandbox.taobao, sandbox)
    before = len(sandbox.gateway.calls)
    with pytest.raises(ActionError):
        await taobao.perform(request("agree_refund", case, amount_fen=case.refund_fen + 1))
    with pytest.raises(ActionError):
        await taobao.perform(request("agree_refund", case, amount_fen=0))
    assert len(sandbox.gateway.calls) == before


async def test_refuse_with_message_and_proof(
    sandbox: TaobaoSandbox, taobao: TaobaoAdapter, tmp_path: Path
) -> None:
    assert sandbox.taobao is not None
    case = await fresh_case(taobao, sandbox.taobao, sandbox, has_return=True, reason="颜色/款式与描述不符")
    (tmp_path / "proof.png").write_bytes(PNG)
    result = await taobao.perform(
        request("refuse", case, message="商品与描述一致，已附实拍图", proof="proof.png")
    )
    assert result.outcome is ActionOutcome.DONE and result.response["is_success"] is True
    assert case_of(taobao, result.refreshed[0]).status is AfterSaleStatus.SELLER_REFUSED
    call = sandbox.gateway.calls_to("taobao.refund.refuse")[-1].params
    assert "refuse_proof" not in call  # the file went as multipart and was not signed


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"message": "不"}, "2-200"),
        ({"message": "不" * 201}, "2-200"),
        ({"message": "不同意", "proof": b"%PDF-1.4"}, "GIF, JPG or PNG"),
        ({"message": "不同意", "proof": PNG + b"\x00" * 130_000}, "最多接受 130000"),
        ({"message": "不同意", "proof": "missing.png"}, "cannot read"),
    ],
)
async def test_refuse_checked_against_platform_limits_before_sending(
    sandbox: TaobaoSandbox, taobao: TaobaoAdapter, params: dict[str, Any], match: str
) -> None:
    assert sandbox.taobao is not None
    case = await fresh_case(taobao, sandbox.taobao, sandbox, has_return=True, reason="尺码不合适")
    before = len(sandbox.gateway.calls)
    with pytest.raises(ActionError, match=match):
        await taobao.perform(request("refuse", case, **params))
    assert len(sandbox.gateway.calls) == before


async def test_refuse_disabled_for_no_reason_and_unshipped(
    sandbox: TaobaoSandbox, taobao: TaobaoAdapter
) -> None:
    assert sandbox.taobao is not None
    no_reason = await fresh_case(taobao, sandbox.taobao, sandbox, has_return=True, reason="七天无理由退换货")
    unshipped = await fresh_case(taobao, sandbox.taobao, sandbox, trade_status="WAIT_SELLER_SEND_GOODS")
    for case in (no_reason, unshipped):
        assert not enabled(taobao, case)["refuse"]
        with pytest.raises(ActionError, match="not available"):
            await taobao.perform(request("refuse", case, message="不同意退款"))


async def test_agree_return_with_address(sandbox: TaobaoSandbox, taobao: TaobaoAdapter) -> None:
    assert sandbox.taobao is not None
    case = await fresh_case(taobao, sandbox.taobao, sandbox, has_return=True, reason="尺码不合适")
    assert enabled(taobao, case)["agree_return"]
    with pytest.raises(ActionError, match="address_id"):
        await taobao.perform(request("agree_return", case))
    result = await taobao.perform(
        request(
            "agree_return",
            case,
            address_id="1001",
            remark="请附上订单号",
            name="售后仓",
            mobile="13800000000",
        )
    )
    assert result.outcome is ActionOutcome.DONE
    fresh = case_of(taobao, result.refreshed[0])
    assert fresh.status is AfterSaleStatus.AWAITING_RETURN and fresh.version != case.version


async def test_tmall_only_actions(
    sandbox: TaobaoSandbox, taobao: TaobaoAdapter, tmall: TaobaoAdapter
) -> None:
    assert sandbox.tmall is not None and sandbox.taobao is not None
    now = sandbox.gateway.clock.now()
    r = add_refund(
        sandbox.tmall,
        now - timedelta(days=2),
        status="WAIT_SELLER_CONFIRM_GOODS",
        has_return=True,
        good_return_time=now - timedelta(days=1),
        agreed_at=now - timedelta(days=2),
    )
    case = case_of(tmall, await tmall.fetch_one("refund", str(r.refund_id)))
    flags = enabled(tmall, case)
    assert flags["refuse_return"] and flags["review"] and not flags["refuse"]
    review = await tmall.perform(request("review", case, operator="小王", result=True, message="核对无误"))
    assert review.outcome is ActionOutcome.DONE and sandbox.tmall.refunds[r.refund_id].reviewed is True
    with pytest.raises(ActionError, match="reason_id"):
        await tmall.perform(request("refuse_return", case, proof=GIF))
    result = await tmall.perform(request("refuse_return", case, proof=GIF, reason_id=1001))
    assert result.outcome is ActionOutcome.DONE
    assert case_of(tmall, result.refreshed[0]).status is AfterSaleStatus.SELLER_REFUSED
    # the same case on a Taobao shop: Tmall-only actions are off, with the reason
    tb_case = await fresh_case(
        taobao, sandbox.taobao, sandbox, status="WAIT_SELLER_CONFIRM_GOODS", has_return=True
    )
    reasons = {a.action: a.reason for a in taobao.available_actions(tb_case, None)}
    assert (reasons["refuse_return"] or "").startswith("仅限天猫店铺")
    assert (reasons["review"] or "").startswith("仅限天猫店铺")


async def test_tmall_refuse_requires_proof(sandbox: TaobaoSandbox, tmall: TaobaoAdapter) -> None:
    assert sandbox.tmall is not None
    case = await fresh_case(tmall, sandbox.tmall, sandbox, has_return=True, reason="尺码不合适")
    with pytest.raises(ActionError, match="proof"):
        await tmall.perform(request("refuse", case, message="不同意退货"))
    done = await tmall.perform(
        request("refuse", case, message="不同意退货", proof={"content": GIF, "filename": "a.gif"})
    )
    assert done.outcome is ActionOutcome.DONE
    call = sandbox.gateway.calls_to("taobao.refund.refuse")[-1].params
    assert call["refund_version"] == str(case.version) and call["refund_phase"] == "aftersale"


async def test_actions_on_a_case_under_intervention_are_off(
    sandbox: TaobaoSandbox, taobao: TaobaoAdapter
) -> None:
    assert sandbox.taobao is not None
    case = await fresh_case(
        taobao,
        sandbox.taobao,
        sandbox,
        status="SELLER_REFUSE_BUYER",
        cs_status=3,
        cs_since=sandbox.gateway.clock.now(),
    )
    assert case.status is AfterSaleStatus.PLATFORM_REVIEW
    assert not any(enabled(taobao, case).values())


def _chinese_first(text: str | None) -> bool:
    return bool(text) and "\u4e00" <= str(text)[0] <= "\u9fff"


@pytest.mark.parametrize(
    ("kw", "shop"),
    [
        ({"status": "WAIT_BUYER_RETURN_GOODS", "has_return": True}, "taobao"),
        ({"status": "WAIT_SELLER_CONFIRM_GOODS", "has_return": True}, "taobao"),
        ({"status": "WAIT_SELLER_CONFIRM_GOODS", "has_return": True}, "tmall"),
        ({"status": "SELLER_REFUSE_BUYER", "has_return": True, "cs_status": 10}, "taobao"),
        ({"status": "SELLER_REFUSE_BUYER", "has_return": True, "cs_status": 3}, "tmall"),
        ({"reason": "七天无理由退换货", "has_return": True}, "taobao"),
    ],
)
async def test_disabled_reasons_are_in_chinese(
    sandbox: TaobaoSandbox, taobao: TaobaoAdapter, tmall: TaobaoAdapter, kw: dict[str, Any], shop: str
) -> None:
    """The workbench is a Chinese page: every reason an action is off starts in Chinese."""
    adapter = tmall if shop == "tmall" else taobao
    sim = sandbox.tmall if shop == "tmall" else sandbox.taobao
    assert sim is not None
    case = await fresh_case(adapter, sim, sandbox, **kw)
    off = [a for a in adapter.available_actions(case, None) if not a.enabled]
    assert off
    for a in off:
        assert _chinese_first(a.reason), (a.action, a.reason)


async def test_intervention_disables_platform_actions_with_a_chinese_reason(
    sandbox: TaobaoSandbox, taobao: TaobaoAdapter
) -> None:
    assert sandbox.taobao is not None
    case = await fresh_case(
        taobao, sandbox.taobao, sandbox, status="SELLER_REFUSE_BUYER", has_return=True, cs_status=10
    )
    reasons = {a.action: a.reason for a in taobao.available_actions(case, None)}
    assert "淘宝客服介入中" in (reasons["agree_refund"] or "")
    with pytest.raises(ActionError, match="淘宝客服介入中"):
        await taobao.perform(request("agree_refund", case))


def test_unsupported_capability_reasons_are_in_chinese() -> None:
    from plugins.taobao.info import CAPABILITIES

    for cap in CAPABILITIES:
        if not cap.supported:
            assert _chinese_first(cap.reason), cap.action
        for param in cap.params:  # the form's label is Chinese (help is the API's English)
            assert any("\u4e00" <= c <= "\u9fff" for c in param.label_zh), (cap.action, param.name)
