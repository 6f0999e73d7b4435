"""A 17网 return's state: from the after-sales export row, then the merchant's reported steps.

17网 has no API, so the merchant reports what they did on its website (apply, enter the waybill,
extend receipt) and what 代发 told them (agreed, signed, the stall's result). Those reports are the
ledger's entries; this module replays them over the export's row, and says which step may come
next and why not. Pure: no IO, no clock.

Flow (17网's dropship after-sales FAQ, 退货流程): ask the stall; apply online
(订单管理 → 订单详情 → 退款退货); 代发 agrees and gives a return address; ship; enter
**the return's** tracking number; 代发 signs and within 3-5 days takes it to the stall;
accepted → refund at the stall's current price, refused → the goods are sent back to the
merchant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from hub.domain import AfterSaleStatus

#: actions the merchant records (RECORDED outcomes: 17网 has no API to perform them)
MANUAL_ACTIONS = (
    "apply_return",
    "daifa_agreed",
    "enter_return_waybill",
    "daifa_signed",
    "stall_result",
    "extend_receipt",
)
EXTENSION_MAX = timedelta(days=7)  #: 最多可延长7天
AUTO_CONFIRM_AFTER = timedelta(days=12)  #: 自发货起自动确认收货时间为12天


class Stage(StrEnum):
    UNCLAIMED = "unclaimed"  #: a return parcel reached 代发 without an online application
    APPLIED = "applied"  #: applied online, waiting for 代发 to agree
    AGREED = "agreed"  #: 代发 agreed and gave a return address
    SHIPPED = "shipped"  #: the return's waybill is entered
    SIGNED = "signed"  #: 代发 signed for the parcel
    REFUNDING = "refunding"  #: accepted, refund on its way
    ACCEPTED = "accepted"  #: the stall took it back; refunded
    REFUSED = "refused"  #: the stall refused; the goods go back to the merchant
    SENT_BACK = "sent_back"  #: the refused goods were sent back: ended
    CANCELLED = "cancelled"


#: what the agent reads for each stage (the reasons above name the return's stage)
STAGE_ZH = {
    Stage.UNCLAIMED: "包裹已到代发、未线上申请",
    Stage.APPLIED: "已申请、待代发审核",
    Stage.AGREED: "代发已同意",
    Stage.SHIPPED: "已寄回",
    Stage.SIGNED: "代发已签收",
    Stage.REFUNDING: "退款中",
    Stage.ACCEPTED: "档口已接受并退款",
    Stage.REFUSED: "档口已拒绝",
    Stage.SENT_BACK: "已退回我方",
    Stage.CANCELLED: "已取消",
}

OPEN_STAGES = frozenset(
    {Stage.UNCLAIMED, Stage.APPLIED, Stage.AGREED, Stage.SHIPPED, Stage.SIGNED, Stage.REFUNDING}
)

STAGE_STATUS: Mapping[Stage, AfterSaleStatus] = {
    Stage.UNCLAIMED: AfterSaleStatus.RETURN_SHIPPED,
    Stage.APPLIED: AfterSaleStatus.REQUESTED,
    Stage.AGREED: AfterSaleStatus.AWAITING_RETURN,
    Stage.SHIPPED: AfterSaleStatus.RETURN_SHIPPED,
    Stage.SIGNED: AfterSaleStatus.RETURN_SHIPPED,
    Stage.REFUNDING: AfterSaleStatus.REFUNDING,
    Stage.ACCEPTED: AfterSaleStatus.SUCCEEDED,
    Stage.REFUSED: AfterSaleStatus.SELLER_REFUSED,
    Stage.SENT_BACK: AfterSaleStatus.CLOSED,
    Stage.CANCELLED: AfterSaleStatus.CLOSED,
}

#: The after-sales export's status texts (退货状态). Anything else is kept raw, read as APPLIED
#: (open, so someone looks at it) and flagged in the case's warnings.
EXPORT_STATUS: Mapping[str, Stage] = {
    "待审核": Stage.APPLIED,
    "待代发审核": Stage.APPLIED,
    "已申请": Stage.APPLIED,
    "待处理": Stage.APPLIED,
    "代发已同意": Stage.AGREED,
    "待寄回": Stage.AGREED,
    "待退货": Stage.AGREED,
    "已同意": Stage.AGREED,
    "已寄回": Stage.SHIPPED,
    "待代发签收": Stage.SHIPPED,
    "退货中": Stage.SHIPPED,
    "代发已签收": Stage.SIGNED,
    "档口处理中": Stage.SIGNED,
    "退货处理中": Stage.SIGNED,
    "已签收": Stage.SIGNED,
    "退款中": Stage.REFUNDING,
    "退货成功": Stage.ACCEPTED,
    "已退款": Stage.ACCEPTED,
    "退款成功": Stage.ACCEPTED,
    "退货失败": Stage.REFUSED,
    "档口拒退": Stage.REFUSED,
    "档口拒收": Stage.REFUSED,
    "代发拒绝": Stage.REFUSED,
    "已寄回商家": Stage.SENT_BACK,
    "已退回": Stage.SENT_BACK,
    "已取消": Stage.CANCELLED,
    "已关闭": Stage.CANCELLED,
    "撤销申请": Stage.CANCELLED,
}


@dataclass(frozen=True)
class ReturnState:
    stage: Stage
    platform_status: str
    applied: bool = False
    applied_at: datetime | None = None
    agreed_at: datetime | None = None
    return_address: str | None = None
    waybill: str | None = None
    courier: str | None = None
    waybill_entered_at: datetime | None = None
    mid_way_recall: bool = False
    daifa_signed_at: datetime | None = None
    result_at: datetime | None = None
    refund_fen: int | None = None
    refused_reason: str | None = None
    warnings: tuple[str, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)  #: what the application said (reason, qty...)

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    @property
    def unclaimed_since(self) -> datetime | None:
        """代发 holds the parcel but cannot match it (no application or no waybill): 15-day scrap clock."""
        if self.daifa_signed_at and self.is_open and (not self.applied or not self.waybill):
            return self.daifa_signed_at
        return None


def stage_from_export(status: str) -> tuple[Stage, str | None]:
    """The stage an export status text means, and a warning when the text is unknown."""
    text = status.strip()
    if text in EXPORT_STATUS:
        return EXPORT_STATUS[text], None
    for known, stage in EXPORT_STATUS.items():
        if known in text:
            return stage, None
    return (
        Stage.APPLIED,
        f"unknown 17网 return status {text!r}: kept raw, treated as applied (open) — check it on 17网",
    )


@dataclass(frozen=True)
class OrderFacts:
    """What the step checks need to know of the purchase order."""

    order_id: str
    status: str  #: hub OrderStatus value
    outbound_waybill: str | None = None
    shipped_at: datetime | None = None
    auto_confirm_at: datetime | None = None
    receipt_extended: bool = False


def check_step(
    action: str,
    state: ReturnState | None,
    order: OrderFacts | None,
    params: Mapping[str, Any],
    now: datetime,
) -> str | None:
    """Why ``action`` may not be recorded now, or ``None`` when it may. The same check serves
    ``available_actions`` (with empty params) and ``perform`` (with the merchant's params)."""
    stage = state.stage if state else None
    now_zh = STAGE_ZH.get(stage, str(stage)) if stage else ""
    if action == "extend_receipt":
        if order is None:
            return "没有可延长收货的17网采购单 (no 17网 purchase order to extend)"
        if order.status != "shipped":
            return (
                "只有已发货、尚未确认收货的订单可以延长收货"
                " (only a shipped order, not yet confirmed, can be extended)"
            )
        if order.receipt_extended:
            return "已经延长过一次收货；17网只允许延长一次，最多 7 天 (receipt was already extended once)"
        if order.auto_confirm_at and now >= order.auto_confirm_at:
            return "已过自动确认收货时间，交易已成功，无法延长 (auto-confirm has passed: nothing to extend)"
        days = params.get("days")
        if days not in (None, "") and not (str(days).isdigit() and 1 <= int(days) <= 7):
            return f"延长天数须为 1-7 天 (days must be 1 to 7 (17网 extends at most 7 days), got {days!r})"
        return None
    if action == "apply_return":
        if state is not None and stage is not Stage.UNCLAIMED:
            return (
                f"已申请过退货（当前：{now_zh}），17网每次退货只能申请一次"
                f" (a return is already applied for, now {stage})"
            )
        if order is not None:
            if order.status == "completed":
                return (
                    "交易已成功（已确认收货），17网不再受理线上退货"
                    " (the trade succeeded: no online return now)"
                )
            if order.status not in ("shipped", "refunding"):
                return (
                    "订单尚未发货，没有可退回的商品"
                    f" (the order is {order.status}, not shipped: nothing to send back)"
                )
        return None
    if state is None and action != "daifa_signed":
        return (
            "尚未申请退货：请先在17网线上申请（订单管理 → 订单详情 → 退款退货）"
            " (no return applied for yet: apply online first)"
        )
    if action == "daifa_agreed":
        if stage is not Stage.APPLIED:
            return (
                f"代发只能同意待审核的退货申请，此退货当前：{now_zh}"
                f" (the supplier agrees applications waiting for review; this return is {stage})"
            )
        if "return_address" in params and not str(params.get("return_address") or "").strip():
            return "请填写代发给出的退货地址 (give the return address the supplier sent)"
        return None
    if action == "enter_return_waybill":
        assert state is not None
        if not state.applied:
            return "线上申请退货之前不能填写运单号 (no waybill before the return is applied online)"
        if stage not in (Stage.APPLIED, Stage.AGREED, Stage.SHIPPED, Stage.SIGNED):
            return f"此退货当前：{now_zh}，无需填写运单号 (the return is {stage}: no waybill to enter)"
        if stage is Stage.SIGNED and state.waybill:
            return "代发已按该运单号签收包裹 (the supplier already signed for the parcel under its waybill)"
        waybill = str(params.get("waybill") or "").strip()
        if "waybill" in params and not waybill:
            return "请填写退回包裹的快递单号 (give the return parcel's tracking number)"
        recall = bool(params.get("mid_way_recall"))
        if waybill and order and order.outbound_waybill and waybill == order.outbound_waybill and not recall:
            return (
                f"{waybill} 是17网寄出此单的运单号：请填写退回包裹自己的快递单号；"
                "只有中途拦截召回的包裹才可填寄出单号 "
                f"({waybill} is the outbound waybill for this order: enter the return parcel's own "
                "tracking number; the outbound number only for a parcel recalled mid-way: set mid_way_recall)"
            )
        return None
    if action == "daifa_signed":
        if state is not None and stage not in (Stage.APPLIED, Stage.AGREED, Stage.SHIPPED):
            return (
                f"此退货当前：{now_zh}，代发现在不能签收"
                f" (the return is {stage}: the supplier cannot sign for it now)"
            )
        if state is not None and state.daifa_signed_at:
            return "代发已签收此包裹 (the supplier already signed for this parcel)"
        return None
    if action == "stall_result":
        assert state is not None
        if stage is not Stage.SIGNED:
            return (
                f"代发签收包裹后才由档口处理，此退货当前：{now_zh}"
                f" (the stall decides after 代发 signs for the parcel; this return is {stage})"
            )
        if not state.applied or not state.waybill:
            return (
                "没有线上申请和运单号的包裹，代发不会拆包处理"
                " (no parcel is opened without an online application and its waybill)"
            )
        if "accepted" in params:
            accepted = _bool(params.get("accepted"))
            refund = params.get("refund_fen")
            if accepted and (
                refund in (None, "") or not str(refund).lstrip("-").isdigit() or int(refund) < 0
            ):
                return (
                    "档口接受退货时须填写退款金额（按当前价格）"
                    " (an accepted return needs refund_fen: the amount refunded in fen)"
                )
        return None
    return f"unknown action {action!r}"


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "是", "y", "accepted")
    return bool(value)


def apply_entry(state: ReturnState | None, entry: Mapping[str, Any], at: datetime) -> ReturnState:
    """The state after one ledger entry (already validated when it was recorded)."""
    action = entry["action"]
    params: Mapping[str, Any] = entry.get("params") or {}
    base = state or ReturnState(stage=Stage.UNCLAIMED, platform_status="")
    if action == "apply_return":
        facts = {**base.facts, **{k: v for k, v in params.items() if k != "return_id"}}
        stage = Stage.SIGNED if base.daifa_signed_at else Stage.APPLIED
        return replace(
            base, stage=stage, applied=True, applied_at=at, facts=facts, platform_status="hub:applied"
        )
    if action == "daifa_agreed":
        return replace(
            base,
            stage=Stage.AGREED,
            agreed_at=at,
            return_address=params.get("return_address"),
            platform_status="hub:agreed",
        )
    if action == "enter_return_waybill":
        stage = Stage.SIGNED if base.daifa_signed_at else Stage.SHIPPED
        return replace(
            base,
            stage=stage,
            waybill=str(params.get("waybill") or "").strip() or None,
            courier=params.get("courier"),
            waybill_entered_at=at,
            mid_way_recall=bool(params.get("mid_way_recall")),
            platform_status=f"hub:{stage}",
        )
    if action == "daifa_signed":
        signed = datetime.fromisoformat(params["signed_at"]) if params.get("signed_at") else at
        stage = Stage.SIGNED if base.applied else Stage.UNCLAIMED
        return replace(base, stage=stage, daifa_signed_at=signed, platform_status=f"hub:{stage}")
    if action == "stall_result":
        if _bool(params.get("accepted")):
            return replace(
                base,
                stage=Stage.ACCEPTED,
                result_at=at,
                refund_fen=int(params["refund_fen"]),
                platform_status="hub:accepted",
            )
        return replace(
            base,
            stage=Stage.REFUSED,
            result_at=at,
            refused_reason=params.get("reason"),
            platform_status="hub:refused",
        )
    return base


def replay(
    state: ReturnState | None, entries: Iterable[tuple[datetime, Mapping[str, Any]]]
) -> ReturnState | None:
    for at, entry in entries:
        state = apply_entry(state, entry, at)
    return state


def _fact_time(facts: Mapping[str, Any], name: str) -> datetime | None:
    value = facts.get(name)
    return datetime.fromisoformat(str(value)) if value else None


def state_from_case(facts: Mapping[str, Any], platform_status: str, waybill: str | None) -> ReturnState:
    """The state a mapped case carries in its facts (for ``available_actions``, which sees no raw)."""
    try:
        stage = Stage(str(facts.get("stage") or ""))
    except ValueError:
        stage = Stage.APPLIED
    return ReturnState(
        stage=stage,
        platform_status=platform_status,
        applied=bool(facts.get("applied")),
        applied_at=_fact_time(facts, "applied_at"),
        agreed_at=_fact_time(facts, "agreed_at"),
        return_address=facts.get("return_address"),
        waybill=waybill,
        waybill_entered_at=_fact_time(facts, "waybill_entered_at"),
        mid_way_recall=bool(facts.get("mid_way_recall")),
        daifa_signed_at=_fact_time(facts, "daifa_signed_at"),
        result_at=_fact_time(facts, "result_at"),
    )
