"""Which handling guides a Pinduoduo case gets (pure): by its reason, kind, status and order."""

from __future__ import annotations

from collections.abc import Sequence

from hub.domain import AfterSale, AfterSaleKind, DisputeStatus, Insight, Order, OrderStatus

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


def case_insights(case: AfterSale | None, order: Order | None) -> Sequence[Insight]:
    """Everything this plugin advises on one Pinduoduo case."""
    if case is None:
        return []
    out = [guide_insight(g) for g in guides_for(case, order)]
    if case.dispute is not None and case.dispute.status is DisputeStatus.RULED_FOR_BUYER:
        out.append(appeal_insight())
    return out
