"""Advice shown on Taobao cases: the shop's late-shipment early warning and 7-day eligibility."""

from __future__ import annotations

from datetime import datetime, timedelta

from hub.clock import parse_duration, utcnow
from hub.domain import Insight, OrderStatus
from hub.platform import CaseContext
from hub.rules import computed_deadline

from .rules import RULE_TABLE, SHIP_WARNING_DEFAULT, SHIP_WARNING_SETTING, SRC_NO_REASON_7D, SRC_SHIP_WARNING


def case_insights(context: CaseContext) -> list[Insight]:
    out: list[Insight] = []
    now = context.now or utcnow()
    order = context.order
    if order is not None:
        warning = ship_warning(context, now)
        if warning is not None:
            out.append(warning)
    case = context.case
    if case is not None and case.facts.get("no_reason") and order is not None and order.signed_at is not None:
        window_end = order.signed_at + timedelta(days=7)
        inside = case.created_at <= window_end
        out.append(
            Insight(
                kind="eligibility",
                title="七天无理由：申请在签收后 7 天内" if inside else "七天无理由：申请已超出签收后 7 天",
                body=(
                    "The request was made within 7 days of the sign-for time: the seller cannot refuse it."
                    if inside
                    else "The request was made more than 7 days after the sign-for time; "
                    "a quality defect with proof is not bound by this window."
                ),
                level="info" if inside else "warning",
                source=SRC_NO_REASON_7D,
                due_at=window_end,
            )
        )
    return out


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
        body=f"Ship before {deadline.due_at.isoformat()} or pay the late-shipment penalty "
        f"({penalty} fen: 5 % of the paid amount, at most 30 yuan).",
        level="danger" if overdue else "warning",
        source=f"{SRC_SHIP_WARNING}; {rule.source}",
        due_at=deadline.due_at,
        amount_fen=penalty,
    )
