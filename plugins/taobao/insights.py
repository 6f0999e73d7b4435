"""Advice shown on Taobao cases: the shop's late-shipment early warning, 7-day eligibility and
the evidence to gather when Taobao customer service steps in (客服介入). Written in Chinese: the
agents' workbench is a Chinese page."""

from __future__ import annotations

from datetime import datetime, timedelta

from hub.clock import parse_duration, utcnow
from hub.domain import AfterSale, DisputeKind, DisputeStatus, Insight, OrderStatus
from hub.money import fen_to_yuan
from hub.platform import CaseContext
from hub.rules import computed_deadline

from .rules import (
    CS_EVIDENCE,
    RULE_TABLE,
    SHIP_WARNING_DEFAULT,
    SHIP_WARNING_SETTING,
    SRC_NO_REASON_7D,
    SRC_SHIP_WARNING,
)

#: Where the evidence list comes from (the Chinese seed files, /work/shared/seeds).
SRC_EVIDENCE_GUIDE = (
    "seeds/001_08c974c490d88561.txt (退件验收拍照、快递方证明；拒收需上传照片及凭证), "
    "seeds/003_7891156e224716f9.txt (平台介入时准备凭证、分点列出不能退款的原因；"
    "聊天记录；发货面单；称重图), "
    "seeds/004_8f811321b0658f77.txt (鉴定报告、旺旺聊天记录截图、购货发票；称重记录；质检)"
)

#: What to gather for an intervention, each line with the seed that says so.
EVIDENCE_CHECKLIST = (
    "与买家的旺旺聊天记录截图（驳回前的沟通也要保留）[003, 004]",
    "发货面单 / 快递底单、运单号和物流跟踪记录 [003]",
    "发货称重记录：仓库称重图、快递内网称重图 [003, 004]",
    "商品照片：发货商品与面单的合照；退回包裹的开箱验收照片，外包装破损时请快递方开具证明 [001, 003]",
    "质检记录或权威检验机构 / 品牌方出具的鉴定报告 [004]",
    "购货发票及赠品情况 [004]",
    "向小二简单明了地分点列出不能退款的原因 [003]",
)


def case_insights(context: CaseContext) -> list[Insight]:
    out: list[Insight] = []
    now = context.now or utcnow()
    order = context.order
    if order is not None:
        warning = ship_warning(context, now)
        if warning is not None:
            out.append(warning)
    case = context.case
    if case is not None:
        guide = intervention_guide(case)
        if guide is not None:
            out.append(guide)
    if case is not None and case.facts.get("no_reason") and order is not None and order.signed_at is not None:
        window_end = order.signed_at + timedelta(days=7)
        inside = case.created_at <= window_end
        out.append(
            Insight(
                kind="eligibility",
                title="七天无理由：申请在签收后 7 天内" if inside else "七天无理由：申请已超出签收后 7 天",
                body=(
                    "买家在物流签收后 7 天内申请七天无理由退货，卖家不能拒绝。"
                    if inside
                    else "申请时间已超过物流签收后 7 天；但能提交质量问题证明的退换货不受此限。"
                ),
                level="info" if inside else "warning",
                source=SRC_NO_REASON_7D,
                due_at=window_end,
            )
        )
    return out


def intervention_guide(case: AfterSale) -> Insight | None:
    """The evidence to gather while Taobao customer service handles the case (seeds 001/003/004)."""
    dispute = case.dispute
    if dispute is None or dispute.kind is not DisputeKind.INTERVENTION or not dispute.status.is_open:
        return None
    evidence = dispute.status is DisputeStatus.EVIDENCE_REQUIRED or case.facts.get("cs_status") == CS_EVIDENCE
    title = "举证中：请尽快上传凭证" if evidence else "客服介入中：提前准备举证材料"
    lines = [f"{i}. {item}" for i, item in enumerate(EVIDENCE_CHECKLIST, 1)]
    head = (
        "淘宝客服要求举证，请在卖家中心上传以下凭证："
        if evidence
        else f"淘宝客服介入（{dispute.note or '处理中'}），平台操作已停用；请准备以下凭证，待举证时上传："
    )
    tail = ["平台已开放申诉：如对处理结果有异议，请在卖家中心发起申诉。"] if dispute.appeal_open else []
    return Insight(
        kind="guide",
        title=title,
        body="\n".join([head, *lines, *tail]),
        level="warning" if evidence else "info",
        source=SRC_EVIDENCE_GUIDE,
    )


def ship_warning(context: CaseContext, now: datetime) -> Insight | None:
    """DOMAIN.md shop policy: list an unshipped order ``late_ship_warning`` before its 72 h limit."""
    order = context.order
    if order is None or order.paid_at is None or order.status is not OrderStatus.PAID:
        return None
    rule = RULE_TABLE.rule("taobao.late_shipment_72h")
    if not rule.match.matches(order):
        return None
    deadline = computed_deadline(rule, order)
    if deadline is None:
        return None
    lead = parse_duration(context.shop.settings.get(SHIP_WARNING_SETTING) or SHIP_WARNING_DEFAULT)
    if now < deadline.due_at - lead:
        return None
    overdue = now >= deadline.due_at
    penalty = deadline.penalty_fen or 0
    return Insight(
        kind="warning",
        title="已超过 72 小时未发货：延迟发货" if overdue else "未发货订单：临近 72 小时发货时限",
        body=(
            f"发货时限 {deadline.due_at.isoformat()} 已过：延迟发货需向买家支付违约金 "
            if overdue
            else f"请在 {deadline.due_at.isoformat()} 前发货，否则为延迟发货，需向买家支付违约金 "
        )
        + f"¥{fen_to_yuan(penalty)}（实付金额的 5%，最高 30 元）。",
        level="danger" if overdue else "warning",
        source=f"{SRC_SHIP_WARNING}; {rule.source}",
        due_at=deadline.due_at,
        amount_fen=penalty,
    )
