"""What the plugin shows on a case (``hub_case_insights``): eligibility, upstream steps, conflicts.

On a 17网 return: can it go back, for how much, and what the merchant must do next on 17网.
On a Taobao or Pinduoduo case whose order is fulfilled by a linked 17网 purchase: the return chain
(:mod:`.chain`), so the merchant knows what the buyer's return costs them *before* agreeing.
"""

from __future__ import annotations

from collections.abc import Sequence

from hub.clock import utcnow
from hub.domain import AfterSale, Insight, Order, OrderRole
from hub.money import fen_to_yuan
from hub.platform import CaseContext

from .chain import Plan, Purchase, plan
from .mapping import NO_EXCHANGE

PLATFORM = "seventeen"


def _eligibility_insight(p: Plan, order: Order) -> Insight | None:
    e = p.eligibility
    if e is None:
        return None
    level = {"returnable": "info", "partly": "warning", "not_returnable": "danger"}[e.verdict.value]
    reasons = [f"{r.text_zh} / {r.text_en} [{r.source}]" for r in e.reasons]
    return Insight(
        kind="eligibility",
        title=f"17网 {order.external_id}: {e.summary_en()}",
        body="\n".join([*reasons, *e.notes]),
        level=level,
        source="; ".join(dict.fromkeys(r.source for r in e.reasons))
        or "seeds/003 售后代发 什么情况下档口可能不接受退货",
        amount_fen=e.expected_refund_fen,
        data={
            "verdict": e.verdict.value,
            "returnable": e.returnable,
            "total": e.total,
            "reasons": [r.code for r in e.reasons],
            "cost_fen": e.cost_fen,
            "expected_refund_fen": e.expected_refund_fen,
            "carried_fen": e.carried_fen,
            "price_known": e.price_known,
            "purchase_order": order.external_id,
        },
    )


def plan_insights(p: Plan, *, downstream: AfterSale | None = None) -> list[Insight]:
    order = p.purchase.order
    out: list[Insight] = []
    elig = _eligibility_insight(p, order)
    if elig:
        out.append(elig)
    for step in p.steps:
        if step.done:
            continue
        out.append(
            Insight(
                kind="upstream_step",
                title=f"17网: {step.title_zh}",
                body="\n".join(x for x in (step.title_en, step.body) if x),
                level="info",
                source=step.source,
                due_at=step.due_at,
                data={"step": step.code, "purchase_order": order.external_id},
            )
        )
    for c in p.conflicts:
        out.append(
            Insight(
                kind="warning",
                title=c.title,
                body=c.body,
                level=c.level,
                source=c.source,
                due_at=c.due_at,
                amount_fen=c.amount_fen,
                data={"conflict": c.code, "purchase_order": order.external_id},
            )
        )
    if downstream is not None and p.eligibility is not None:
        carried = p.eligibility.carried_fen
        if carried or any(
            c.code in ("trade_success", "refund_only_downstream", "upstream_refused") for c in p.conflicts
        ):
            carried = max(
                [
                    carried,
                    *(
                        c.amount_fen or 0
                        for c in p.conflicts
                        if c.code in ("trade_success", "refund_only_downstream", "upstream_refused")
                    ),
                ]
            )
        out.append(
            Insight(
                kind="guide",
                title=f"Upstream 17网 refund ≈ ¥{fen_to_yuan(p.eligibility.expected_refund_fen)}; "
                f"you carry ¥{fen_to_yuan(carried)}",
                body=f"downstream refund ¥{fen_to_yuan(downstream.refund_fen)}; paid 17网 "
                f"¥{fen_to_yuan(p.eligibility.cost_fen)} for these goods",
                level="warning" if carried else "info",
                source="seeds/003 售后代发 退货都能按照买的原价退吗",
                amount_fen=carried,
                data={
                    "downstream_refund_fen": downstream.refund_fen,
                    "upstream_refund_fen": p.eligibility.expected_refund_fen,
                    "carried_fen": carried,
                    "purchase_order": order.external_id,
                },
            )
        )
    return out


def case_insights(context: CaseContext) -> Sequence[Insight]:
    """The hook's body: see the module docstring."""
    case = context.case
    if case is None:
        return []
    now = context.now or utcnow()
    if context.shop.platform == PLATFORM:
        if context.order is None:
            return []
        p = plan(Purchase(order=context.order, cases=[case], settings=context.shop.settings), now)
        out = plan_insights(p)
        if case.facts.get("exchange_requested"):
            out.insert(
                0,
                Insight(
                    kind="warning",
                    title="17网 has no exchange",
                    body=NO_EXCHANGE,
                    level="warning",
                    source="seeds/003 售后代发 可以换货吗",
                ),
            )
        return out
    out = []
    for linked in context.linked:
        if linked.shop.platform != PLATFORM or linked.order.role is not OrderRole.PURCHASE:
            continue
        purchase = Purchase(order=linked.order, cases=list(linked.cases), settings=linked.shop.settings)
        p = plan(purchase, now, sale_case=case, sale_order=context.order)
        out.append(
            Insight(
                kind="link",
                title=f"Fulfilled by 17网 purchase {linked.order.external_id}",
                body=", ".join(
                    f"{i.get('style_no')} {i.get('color')}/{i.get('size')} ×{i.get('quantity')}"
                    for i in linked.order.facts.get("items") or []
                ),
                source="17网 代发",
                data={"purchase_order": linked.order.external_id, "shop": linked.shop.name},
            )
        )
        out.extend(plan_insights(p, downstream=case))
    return out
