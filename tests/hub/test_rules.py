"""The deadline evaluator: anchors, durations, shop policy, platform deadlines win, constraints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.domain import (
    AfterSale,
    AfterSaleKind,
    AfterSaleStatus,
    DeadlineSource,
    OnExpiry,
    Order,
    OrderStatus,
    Party,
    PlatformDeadline,
)
from hub.rules import (
    Constraint,
    Match,
    Penalty,
    Rule,
    RuleTable,
    blocked_actions,
    check_table,
    next_deadline,
    status_since,
)

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def case(status: AfterSaleStatus = AfterSaleStatus.REQUESTED, **kw) -> AfterSale:
    base = dict(
        external_id="R1",
        order_external_id="O1",
        kind=AfterSaleKind.RETURN_REFUND,
        status=status,
        platform_status="X",
        created_at=T0,
        updated_at=T0 + timedelta(hours=1),
    )
    base.update(kw)
    return AfterSale(**base)


def rule(rid: str, statuses: set[str], anchor: str, hours: float, **kw) -> Rule:
    base = dict(
        id=rid,
        match=Match(statuses=frozenset(statuses)),
        anchor=anchor,
        duration=timedelta(hours=hours),
        party=Party.SELLER,
        action="reply",
        on_expiry=OnExpiry.AUTO_AGREE,
        source="test",
        summary_zh="测试",
        summary_en="test",
    )
    base.update(kw)
    return Rule(**base)


TABLE = RuleTable(
    platform="t",
    rules=(
        rule("t.reply", {"requested"}, "created_at", 72),
        rule(
            "t.escalate",
            {"requested"},
            "created_at",
            72,
            on_expiry=OnExpiry.ESCALATION_OPENS,
            party=Party.BUYER,
        ),
        rule(
            "t.ship_back",
            {"awaiting_return"},
            "status_since",
            24 * 7,
            party=Party.BUYER,
            action="ship_return",
            on_expiry=OnExpiry.AUTO_CLOSE,
        ),
        rule("t.fact", {"return_shipped"}, "fact:shipped_back_at", 240, action="confirm_receipt"),
        rule("t.policy", {"seller_refused"}, "updated_at", 24, setting="refused_window"),
        Rule(
            id="t.ship",
            match=Match(subject="order", statuses=frozenset({"paid"})),
            anchor="paid_at",
            duration=timedelta(hours=72),
            party=Party.SELLER,
            action="ship",
            on_expiry=OnExpiry.PENALTY,
            source="test",
            summary_zh="发货",
            summary_en="ship",
            penalty=Penalty(percent="5", cap_fen=3000),
        ),
    ),
    constraints=(
        Constraint(
            id="t.no_refuse",
            action="refuse",
            match=Match(facts={"no_reason": True}),
            reason_zh="七天无理由",
            reason_en="7-day no-reason",
            source="test",
        ),
    ),
)


def test_earliest_rule_wins_and_ties_keep_table_order():
    d = next_deadline(case(), TABLE)
    assert d is not None and d.rule_id == "t.reply" and d.due_at == T0 + timedelta(hours=72)
    assert d.source == DeadlineSource.RULE and d.on_expiry == OnExpiry.AUTO_AGREE


def test_status_since_anchor_uses_history():
    since = T0 + timedelta(days=2)
    d = next_deadline(case(AfterSaleStatus.AWAITING_RETURN), TABLE, status_since=since)
    assert d is not None and d.due_at == since + timedelta(days=7) and d.party == Party.BUYER


def test_fact_anchor_and_missing_fact():
    assert next_deadline(case(AfterSaleStatus.RETURN_SHIPPED), TABLE) is None
    d = next_deadline(
        case(AfterSaleStatus.RETURN_SHIPPED, facts={"shipped_back_at": (T0 + timedelta(days=1)).isoformat()}),
        TABLE,
    )
    assert d is not None and d.due_at == T0 + timedelta(days=11)


def test_shop_policy_overrides_duration():
    c = case(AfterSaleStatus.SELLER_REFUSED)
    assert next_deadline(c, TABLE).due_at == c.updated_at + timedelta(hours=24)
    assert next_deadline(c, TABLE, settings={"refused_window": "3d"}).due_at == c.updated_at + timedelta(
        days=3
    )


def test_platform_deadline_always_wins_and_keeps_rule():
    stated = T0 + timedelta(hours=100)
    d = next_deadline(case(platform_deadline=PlatformDeadline(due_at=stated)), TABLE)
    assert d is not None and d.due_at == stated and d.source == DeadlineSource.PLATFORM
    assert d.rule_id == "t.reply" and d.on_expiry == OnExpiry.AUTO_AGREE


def test_terminal_case_has_no_deadline():
    assert next_deadline(case(AfterSaleStatus.SUCCEEDED), TABLE) is None


def test_order_penalty_in_fen_capped():
    order = Order(
        external_id="O1",
        status=OrderStatus.PAID,
        platform_status="WAIT_SELLER_SEND_GOODS",
        created_at=T0,
        updated_at=T0,
        paid_at=T0,
        paid_fen=20000,
    )
    d = next_deadline(order, TABLE)
    assert d is not None and d.penalty_fen == 1000 and d.due_at == T0 + timedelta(hours=72)
    big = Order(
        external_id="O2",
        status=OrderStatus.PAID,
        platform_status="x",
        created_at=T0,
        updated_at=T0,
        paid_at=T0,
        paid_fen=100000,
    )
    assert next_deadline(big, TABLE).penalty_fen == 3000


def test_constraints_block_actions_with_reason():
    assert blocked_actions(case(), TABLE) == {}
    blocked = blocked_actions(case(facts={"no_reason": True}), TABLE)
    assert "七天无理由" in blocked["refuse"]


def test_status_since_from_history():
    h = [
        (T0, "requested"),
        (T0 + timedelta(hours=5), "awaiting_return"),
        (T0 + timedelta(hours=9), "awaiting_return"),
    ]
    assert status_since(h, "awaiting_return") == T0 + timedelta(hours=5)
    assert status_since(h, "requested") is None


def test_check_table_finds_problems():
    bad = RuleTable(
        platform="t", rules=(rule("x", set(), "nowhere", 1), rule("x", set(), "created_at", 1, source=" "))
    )
    problems = check_table(bad)
    assert any("duplicate" in p for p in problems) and any("anchor" in p for p in problems)
    assert any("no source" in p for p in problems)
    assert check_table(TABLE) == []
