"""Advice shown on Taobao cases: the late-shipment early warning, 7-day no-reason eligibility
(window, categories, custom-made goods, the listing's flag, goods condition), who pays the return
postage (and 退货运费险), and the evidence to gather when Taobao customer service steps in
(客服介入). Written in Chinese: the agents' workbench is a Chinese page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from hub.clock import format_cst, parse_duration, utcnow
from hub.domain import AfterSale, AfterSaleKind, DisputeKind, DisputeStatus, Insight, Order, OrderStatus
from hub.money import fen_to_yuan
from hub.platform import CaseContext
from hub.rules import due_time, rule_action

from .rules import (
    CS_EVIDENCE,
    DOC,
    RULE_TABLE,
    SHIP_WARNING_DEFAULT,
    SHIP_WARNING_SETTING,
    SRC_NO_REASON_7D,
)

#: Shop settings read by the eligibility insight: comma lists of TOP ids.
EXCLUDED_CATEGORIES_SETTING = "no_reason_excluded_categories"  #: category ids (cid) outside 7-day
UNSUPPORTED_ITEMS_SETTING = "no_reason_unsupported_items"  #: listings (num_iid) marked 不支持七天无理由

SRC_EVIDENCE_GUIDE = (
    "merchant procedures for disputes: inspect a returned parcel in front of the courier and keep "
    "photos and the courier's note; keep chat records from before any refusal; the shipping label "
    "and weighing records; inspection reports and invoices; list in points why the refund is not "
    f"due ({DOC}#taobao.evidence_upload)"
)
SRC_POSTAGE = (
    "merchant return-postage procedure: a quality or description fault means the merchant pays both "
    "ways; otherwise on a free-shipping item each leg's sender pays, else the buyer pays; TOP "
    "has_yfx / yfx_fee report return-freight insurance (退货运费险)"
)

#: What to gather for an intervention.
EVIDENCE_CHECKLIST = (
    "与买家的旺旺聊天记录截图（驳回前的沟通也要保留）",
    "发货面单 / 快递底单、运单号和物流跟踪记录",
    "发货称重记录：仓库称重图、快递内网称重图",
    "商品照片：发货商品与面单的合照；退回包裹的开箱验收照片，外包装破损时请快递方开具证明",
    "质检记录或权威检验机构 / 品牌方出具的鉴定报告",
    "购货发票及赠品情况",
    "向小二简单明了地分点列出不能退款的原因",
)

#: Words of a seller-side fault: the merchant pays the return postage both ways.
FAULT_WORDS = ("质量", "破损", "瑕疵", "错发", "发错", "漏发", "少件", "描述不符", "与描述不符", "假货", "坏")
#: Goods-condition words that put a no-reason return at risk, unless negated (未/没/没有/不).
CONDITION_WORDS = (
    "已穿",
    "穿过",
    "洗过",
    "水洗",
    "剪吊牌",
    "吊牌已剪",
    "吊牌剪",
    "使用过",
    "已使用",
    "拆封",
    "污渍",
    "异味",
)
_NEGATIONS = ("未", "没有", "没", "不", "无")


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
        eligibility = no_reason_eligibility(context)
        if eligibility is not None:
            out.append(eligibility)
        postage = return_postage(case, order)
        if postage is not None:
            out.append(postage)
    return out


def _ids(text: str | None) -> set[str]:
    return {part.strip() for part in (text or "").split(",") if part.strip()}


def condition_flags(text: str) -> list[str]:
    """Goods-condition words in a buyer's text that are not negated (``吊牌未剪`` is fine)."""
    found: list[str] = []
    for word in CONDITION_WORDS:
        start = text.find(word)
        while start != -1:
            before = text[max(0, start - 2) : start]
            if not any(before.endswith(n) for n in _NEGATIONS):
                found.append(word)
                break
            start = text.find(word, start + 1)
    return found


def no_reason_eligibility(context: CaseContext) -> Insight | None:
    """Whether a 7-day no-reason request is inside the rule: the window from sign-for (natural
    days), and the exclusions (category, custom-made, the listing's flag, goods condition)."""
    case, order = context.case, context.order
    if case is None or not case.facts.get("no_reason") or order is None:
        return None
    checks: list[tuple[bool, str]] = []
    window_end: datetime | None = None
    if order.signed_at is not None:
        window_end = due_time(order.signed_at, timedelta(days=7), "natural_days")
        inside = case.created_at < window_end
        checks.append(
            (
                inside,
                f"物流签收 {format_cst(order.signed_at)}，七天期限至 {format_cst(window_end)}"
                + "（签收次日零时起算）："
                + ("申请在期限内" if inside else "申请已超出期限"),
            )
        )
    else:
        checks.append((True, "未读到物流签收时间：无法核对七天期限，请在卖家中心查看签收记录"))
    settings = context.shop.settings
    categories = set(order.facts.get("category_ids") or ())
    excluded = categories & _ids(settings.get(EXCLUDED_CATEGORIES_SETTING))
    if excluded:
        checks.append((False, f"商品类目 {', '.join(sorted(excluded))} 在店铺设置的不适用七天无理由类目中"))
    items = set(order.facts.get("item_ids") or ())
    flagged = items & _ids(settings.get(UNSUPPORTED_ITEMS_SETTING))
    if flagged:
        checks.append((False, f"商品 {', '.join(sorted(flagged))} 的页面标明“不支持七天无理由”"))
    if order.facts.get("custom_made"):
        checks.append((False, "定制商品不适用七天无理由退货"))
    words = condition_flags(" ".join(t for t in (case.reason, case.description) if t))
    if words:
        checks.append((False, f"买家描述提到 {'、'.join(words)}：商品须未使用、包装完好、不影响二次销售"))
    ok = all(passed for passed, _ in checks)
    title = "七天无理由：符合条件" if ok else "七天无理由：可能不符合条件"
    body = "\n".join(("✓ " if passed else "✗ ") + text for passed, text in checks)
    if ok:
        body += "\n符合七天无理由条件的申请，卖家不能拒绝。"
    else:
        body += (
            "\n能提交质量问题证明的退换货不受上述限制；"
            "卖家不能直接拒绝七天无理由申请，可与买家协商或申请客服介入。"
        )
    return Insight(
        kind="eligibility",
        title=title,
        body=body,
        level="info" if ok else "warning",
        source=f"{SRC_NO_REASON_7D} ({DOC}#taobao.no_reason_window_7d)",
        due_at=window_end,
        data={"eligible": ok, "checks": [{"ok": p, "text": t} for p, t in checks]},
    )


def return_postage(case: AfterSale, order: Order | None) -> Insight | None:
    """Who pays the return postage, and whether the trade carries return-freight insurance."""
    if case.kind not in (AfterSaleKind.RETURN_REFUND, AfterSaleKind.EXCHANGE) or not case.status.is_open:
        return None
    text = " ".join(t for t in (case.reason, case.description) if t)
    fault = any(word in text for word in FAULT_WORDS)
    facts = order.facts if order is not None else {}
    free_shipping = facts.get("post_fee_fen") == 0 or facts.get("shipping_type") == "free"
    if fault:
        who = "质量或描述问题：来回运费由卖家承担"
    elif free_shipping:
        who = "非质量问题、包邮商品：各段运费由寄件方承担（买家承担寄回运费）"
    else:
        who = "非质量问题、非包邮商品：运费由买家承担"
    lines = [who]
    if facts.get("has_yfx"):
        fee = facts.get("yfx_fee_fen")
        lines.append(
            "买家已投保退货运费险"
            + (f"（保费 ¥{fen_to_yuan(int(fee))}）" if isinstance(fee, int) else "")
            + "：买家寄回的运费由保险理赔，卖家无需补运费"
        )
    elif order is not None and "has_yfx" in facts:
        lines.append("订单未投保退货运费险")
    return Insight(
        kind="guide",
        title="退货运费由谁承担",
        body="\n".join(lines),
        level="info",
        source=SRC_POSTAGE,
        data={"seller_fault": fault, "free_shipping": free_shipping, "has_yfx": bool(facts.get("has_yfx"))},
    )


def intervention_guide(case: AfterSale) -> Insight | None:
    """The evidence to gather while Taobao customer service handles the case."""
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


_SHIP_RULES: Sequence[str] = ("taobao.ship_promised", "taobao.late_shipment_72h")


def ship_warning(context: CaseContext, now: datetime) -> Insight | None:
    """The merchant's early warning: list an unshipped order ``late_ship_warning`` before its
    ship-by time (the listing's promise, else 72 h after payment)."""
    order = context.order
    if order is None or order.paid_at is None or order.status is not OrderStatus.PAID:
        return None
    rule = next((RULE_TABLE.rule(r) for r in _SHIP_RULES if RULE_TABLE.rule(r).match.matches(order)), None)
    if rule is None:
        return None
    action = rule_action(rule, order, settings=context.shop.settings)
    if action.due_at is None:
        return None
    due = action.due_at
    lead = parse_duration(context.shop.settings.get(SHIP_WARNING_SETTING) or SHIP_WARNING_DEFAULT)
    if now < due - lead:
        return None
    overdue = now >= due
    penalty = action.penalty_fen or 0
    limit = "承诺发货时间" if rule.id == "taobao.ship_promised" else "72 小时发货时限"
    return Insight(
        kind="warning",
        title=f"已超过{limit}：延迟发货" if overdue else f"未发货订单：临近{limit}",
        body=(
            f"发货时限 {format_cst(due)} 已过：延迟发货需向买家支付违约金 "
            if overdue
            else f"请在 {format_cst(due)} 前发货，否则为延迟发货，需向买家支付违约金 "
        )
        + f"¥{fen_to_yuan(penalty)}（实付金额的 5%，最高 30 元）。",
        level="danger" if overdue else "warning",
        source=f"merchant procedure: late-shipment early warning; {rule.source}",
        due_at=due,
        amount_fen=penalty,
    )
