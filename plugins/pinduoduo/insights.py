"""Which guides and checks a Pinduoduo case gets (pure): handling guides by its reason, kind, status
and order; 7-day no-reason eligibility; who pays the return postage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from hub.clock import format_cst
from hub.domain import AfterSale, AfterSaleKind, DisputeStatus, Insight, Order, OrderStatus
from hub.rules import due_time

from .guides import (
    APPEAL_EVIDENCE,
    GUIDES,
    INTERCEPTION,
    INTERVENTION,
    NOT_OUR_GOODS,
    WRONG_ITEM,
    Guide,
)
from .info import APPEAL_WHERE


def guides_for(case: AfterSale, order: Order | None) -> list[Guide]:
    """The guides that fit this case, in table order, each once."""
    text = " ".join(t for t in (case.reason, case.description) if t)
    chosen = {g.id for g in GUIDES if g.keywords and any(word in text for word in g.keywords)}
    if WRONG_ITEM.id in chosen:
        # The guide's second branch of "wrong item": the photos may not be of this shop's goods.
        chosen.add(NOT_OUR_GOODS.id)
    if case.dispute is not None and case.dispute.status.is_open:
        chosen.add(INTERVENTION.id)
    if (
        case.kind is AfterSaleKind.REFUND_ONLY
        and case.status.is_open
        and order is not None
        and order.status in (OrderStatus.SHIPPED, OrderStatus.REFUNDING)
        and order.shipped_at is not None
        and order.signed_at is None
    ):
        chosen.add(INTERCEPTION.id)
    return [g for g in GUIDES if g.id in chosen]


def guide_insight(guide: Guide) -> Insight:
    steps = "\n".join(f"{i}. {step}" for i, step in enumerate(guide.steps, 1))
    evidence = "、".join(guide.evidence)
    return Insight(
        kind="guide",
        title=f"{guide.title} · {guide.title_en}",
        body=f"{steps}\n申诉/纠纷凭证：{evidence}",
        level=guide.level,
        source=guide.source,
        data={"guide": guide.id, "steps": list(guide.steps), "evidence": list(guide.evidence)},
    )


def appeal_insight() -> Insight:
    """Shown when PDD ruled for the buyer: the appeal is made in the backend, with evidence."""
    return Insight(
        kind="guide",
        title="平台已判买家胜诉：可发起维权申诉 · Appeal the ruling",
        body=f"开放平台没有申诉接口。请在 {APPEAL_WHERE} 发起，问题描述里说明情况，附上凭证："
        + "、".join(APPEAL_EVIDENCE),
        level="warning",
        source="merchant guide for Pinduoduo customer service: 拼多多客服处理售后问题的技巧 (维权申诉); "
        "docs/rules/pinduoduo.md#pinduoduo.appeal_window",
        data={"guide": "appeal", "where": APPEAL_WHERE, "evidence": list(APPEAL_EVIDENCE)},
    )


NO_REASON_MARKERS = ("七天无理由", "7天无理由")
#: Goods-condition words that put a no-reason return at risk, unless negated (未/没/没有/不/无).
CONDITION_WORDS = (
    "已穿",
    "穿过",
    "洗过",
    "水洗",
    "剪吊牌",
    "吊牌已剪",
    "使用过",
    "已使用",
    "拆封",
    "污渍",
    "异味",
)
_NEGATIONS = ("未", "没有", "没", "不", "无")
#: Words of a seller-side fault: the merchant pays the return postage both ways.
FAULT_WORDS = ("质量", "破损", "瑕疵", "错发", "发错", "漏发", "少件", "描述不符", "假货", "坏")
SRC_NO_REASON = (
    "7-day no-reason return under the national rules for online purchases: 7 days from the day after "
    "sign-for; goods unused and resaleable (docs/rules/pinduoduo.md#pinduoduo.no_reason_window_7d)"
)
SRC_POSTAGE = (
    "merchant return-postage procedure: a quality or description fault means the merchant pays both "
    "ways; otherwise on a free-shipping order each leg's sender pays, else the buyer pays"
)


def condition_flags(text: str) -> list[str]:
    """Goods-condition words in the buyer's text that are not negated (``吊牌未剪`` is fine)."""
    found: list[str] = []
    for word in CONDITION_WORDS:
        start = text.find(word)
        while start != -1:
            if not any(text[max(0, start - 2) : start].endswith(n) for n in _NEGATIONS):
                found.append(word)
                break
            start = text.find(word, start + 1)
    return found


def no_reason_insight(case: AfterSale, order: Order | None) -> Insight | None:
    """A 七天无理由 request: the window (from PDD's receive_time, the nearest time it reports) and
    the goods condition the buyer describes."""
    text = " ".join(t for t in (case.reason, case.description) if t)
    if not any(m in text for m in NO_REASON_MARKERS):
        return None
    checks: list[tuple[bool, str]] = []
    window_end = None
    if order is not None and order.signed_at is not None:
        window_end = due_time(order.signed_at, timedelta(days=7), "natural_days")
        inside = case.created_at < window_end
        checks.append(
            (
                inside,
                f"确认收货 {format_cst(order.signed_at)}，按此估算七天期限至 {format_cst(window_end)}"
                + ("：申请在期限内" if inside else "：申请已超出期限（以物流签收时间为准，请核对）"),
            )
        )
    else:
        checks.append((True, "订单尚无确认收货时间：七天期限从物流签收次日起算，请在商家后台核对签收时间"))
    words = condition_flags(text)
    if words:
        checks.append((False, f"买家描述提到 {'、'.join(words)}：商品须未使用、不影响二次销售"))
    ok = all(passed for passed, _ in checks)
    body = "\n".join(("✓ " if p else "✗ ") + t for p, t in checks)
    body += "\n定制商品、页面标明不支持七天无理由的商品不适用；能提交质量问题证明的不受此限。"
    return Insight(
        kind="eligibility",
        title="七天无理由：符合条件" if ok else "七天无理由：可能不符合条件",
        body=body,
        level="info" if ok else "warning",
        source=SRC_NO_REASON,
        due_at=window_end,
        data={"eligible": ok, "checks": [{"ok": p, "text": t} for p, t in checks]},
    )


def postage_insight(case: AfterSale, order: Order | None) -> Insight | None:
    """Who pays the return postage on an open return or exchange."""
    if case.kind not in (AfterSaleKind.RETURN_REFUND, AfterSaleKind.EXCHANGE) or not case.status.is_open:
        return None
    text = " ".join(t for t in (case.reason, case.description) if t)
    fault = any(word in text for word in FAULT_WORDS)
    free = order is not None and order.facts.get("postage_fen") == 0
    if fault:
        who = "质量或描述问题：来回运费由商家承担"
    elif free:
        who = "非质量问题、包邮订单：各段运费由寄件方承担（买家承担寄回运费）"
    else:
        who = "非质量问题：运费由买家承担（包邮订单则各段由寄件方承担）"
    return Insight(
        kind="guide",
        title="退货运费由谁承担",
        body=who + "\n拼多多开放平台不提供退货运费险信息，请在商家后台查看该订单是否有退货包运费。",
        level="info",
        source=SRC_POSTAGE,
        data={"seller_fault": fault, "free_shipping": free},
    )


def case_insights(case: AfterSale | None, order: Order | None) -> Sequence[Insight]:
    """Everything this plugin advises on one Pinduoduo case."""
    if case is None:
        return []
    out = [guide_insight(g) for g in guides_for(case, order)]
    if case.dispute is not None and case.dispute.status is DisputeStatus.RULED_FOR_BUYER:
        out.append(appeal_insight())
    for extra in (no_reason_insight(case, order), postage_insight(case, order)):
        if extra is not None:
            out.append(extra)
    return out
