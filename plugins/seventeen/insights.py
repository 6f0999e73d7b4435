"""What the plugin shows on a case (``hub_case_insights``): eligibility, upstream steps, conflicts.

On a 17网 return: can it go back, for how much, and what the merchant must do next on 17网.
On a Taobao or Pinduoduo case whose order is fulfilled by a linked 17网 purchase: the return chain
(:mod:`.chain`), so the merchant knows what the buyer's return costs them *before* agreeing.
"""

from __future__ import annotations

from collections.abc import Sequence

from hub.clock import utcnow
from hub.domain import AfterSale, Insight, Order, OrderRole
from hub.platform import CaseContext

from .chain import Conflict, Plan, Purchase, PurchaseMoney, plan, shortage_conflict, yuan
from .eligibility import SOURCE as ELIGIBILITY_SOURCE
from .mapping import NO_EXCHANGE
from .rules import NO_EXCHANGE as NO_EXCHANGE_RULE
from .rules import REFUND_BASIS_SOURCE

PLATFORM = "seventeen"


def _eligibility_insight(p: Plan, order: Order) -> Insight | None:
    e = p.eligibility
    if e is None:
        return None
    level = {"returnable": "info", "partly": "warning", "not_returnable": "danger"}[e.verdict.value]
    money = PurchaseMoney.of(order)
    figures = f"金额说明：{yuan(e.cost_fen)} 是这 {e.total} 件的货款（拿货价）"
    if money.fees_fen:
        figures += f"；本单{money.breakdown()}，17网退货只按档口当前售价退货款，运费、代发费不退"
    else:
        figures += "；17网退货按档口当前售价退货款"
    return Insight(
        kind="eligibility",
        title=f"17网采购单 {order.external_id}：{e.summary_zh()}",
        # the reasons' sources are in ``source``; the body does not repeat them
        body="\n".join([*(r.text_zh for r in e.reasons), *e.notes, figures + "。"]),
        level=level,
        source="; ".join(dict.fromkeys(r.source for r in e.reasons)) or ELIGIBILITY_SOURCE,
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


def conflict_insight(c: Conflict, purchase_order: str) -> Insight:
    return Insight(
        kind="warning",
        title=c.title,
        body=c.body,
        level=c.level,
        source=c.source,
        due_at=c.due_at,
        amount_fen=c.amount_fen,
        data={"conflict": c.code, "purchase_order": purchase_order},
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
                title=f"17网：{step.title}",
                body=step.body,
                level="info",
                source=step.source,
                due_at=step.due_at,
                data={"step": step.code, "purchase_order": order.external_id},
            )
        )
    out.extend(conflict_insight(c, order.external_id) for c in p.conflicts)
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
        money = PurchaseMoney.of(order)
        out.append(
            Insight(
                kind="guide",
                title=f"17网预计退 {yuan(p.eligibility.expected_refund_fen)}，货款由你承担 {yuan(carried)}",
                body=f"你要退买家 {yuan(downstream.refund_fen)}；这批货在17网的货款 "
                f"{yuan(p.eligibility.cost_fen)}，17网预计退 "
                f"{yuan(p.eligibility.expected_refund_fen)}{money.fee_note()}。",
                level="warning" if carried else "info",
                source=REFUND_BASIS_SOURCE,
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
        for linked in context.linked:
            if linked.order.role is OrderRole.SALE:
                c = shortage_conflict(context.order, linked.order, context.shop.settings)
                if c is not None:
                    out.append(conflict_insight(c, context.order.external_id))
        if case.facts.get("exchange_requested"):
            out.insert(
                0,
                Insight(
                    kind="warning",
                    title="17网不支持换货",
                    body=NO_EXCHANGE,
                    level="warning",
                    source=NO_EXCHANGE_RULE.source,
                ),
            )
        return out
    out = []
    for linked in context.linked:
        if linked.shop.platform != PLATFORM or linked.order.role is not OrderRole.PURCHASE:
            continue
        purchase = Purchase(order=linked.order, cases=list(linked.cases), settings=linked.shop.settings)
        p = plan(purchase, now, sale_case=case, sale_order=context.order)
        goods = "、".join(
            f"{i.get('style_no')} {i.get('color')}/{i.get('size')} ×{i.get('quantity')}"
            for i in linked.order.facts.get("items") or []
        )
        out.append(
            Insight(
                kind="link",
                title=f"由17网采购单 {linked.order.external_id} 代发",
                body="；".join(x for x in (goods, PurchaseMoney.of(linked.order).breakdown()) if x),
                source="17网 代发",
                data={"purchase_order": linked.order.external_id, "shop": linked.shop.name},
            )
        )
        out.extend(plan_insights(p, downstream=case))
        if context.order is not None:
            short = shortage_conflict(linked.order, context.order, linked.shop.settings)
            if short is not None:
                out.append(conflict_insight(short, linked.order.external_id))
    return out
