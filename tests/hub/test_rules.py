"""The next-action evaluator: anchors (in order), elapsed and natural-day counting in Beijing time,
no-clock rows, shop policy, platform deadlines win, totality, constraints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.clock import CST
from hub.domain import (
    AfterSale,
    AfterSaleKind,
    AfterSaleStatus,
    DeadlineSource,
    Dispute,
    DisputeKind,
    DisputeStatus,
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
    anchor_time,
    blocked_actions,
    check_table,
    check_totality,
    due_time,
    next_action,
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


def rule(rid: str, statuses: set[str], anchor: str | tuple[str, ...], hours: float | None, **kw) -> Rule:
    base = dict(
        id=rid,
        match=Match(statuses=frozenset(statuses)),
        anchor=anchor,
        duration=None if hours is None else timedelta(hours=hours),
        party=Party.MERCHANT,
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
        rule("t.policy", {"seller_refused"}, "status_since", 24, setting="refused_window", policy=True),
        Rule(
            id="t.ship",
            match=Match(subject="order", statuses=frozenset({"paid"})),
            anchor="paid_at",
            duration=timedelta(hours=72),
            party=Party.MERCHANT,
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
    # never the record's modified time: without a status-entry time there is no clock yet
    a = next_action(case(AfterSaleStatus.AWAITING_RETURN), TABLE)
    assert a is not None and a.due_at is None and a.party == Party.BUYER and a.no_clock_reason


def test_fact_anchor_and_missing_fact():
    assert next_deadline(case(AfterSaleStatus.RETURN_SHIPPED), TABLE) is None
    waiting = next_action(case(AfterSaleStatus.RETURN_SHIPPED), TABLE)
    assert waiting is not None and waiting.party == Party.MERCHANT and waiting.action == "confirm_receipt"
    assert waiting.due_at is None and "not known yet" in (waiting.no_clock_reason or "")
    d = next_deadline(
        case(AfterSaleStatus.RETURN_SHIPPED, facts={"shipped_back_at": (T0 + timedelta(days=1)).isoformat()}),
        TABLE,
    )
    assert d is not None and d.due_at == T0 + timedelta(days=11)


def test_shop_policy_overrides_duration_and_says_policy():
    c = case(AfterSaleStatus.SELLER_REFUSED)
    since = T0 + timedelta(hours=3)
    a = next_action(c, TABLE, status_since=since)
    assert a is not None and a.due_at == since + timedelta(hours=24)
    assert a.source == DeadlineSource.POLICY
    b = next_action(c, TABLE, status_since=since, settings={"refused_window": "3d"})
    assert b is not None and b.due_at == since + timedelta(days=3) and b.source == DeadlineSource.POLICY


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


def test_party_seller_is_an_alias_of_merchant():
    assert Party.SELLER is Party.MERCHANT
    assert Party("seller") is Party.MERCHANT and Party.parse(" Seller ") is Party.MERCHANT
    assert Party.parse("supplier") is Party.SUPPLIER
    assert [p.value for p in Party] == ["merchant", "buyer", "platform", "supplier", "none"]
    with pytest.raises(ValueError, match=r"unknown party .stall.*merchant"):
        Party.parse("stall")
    # on a sourcing platform the platform's "seller" is our supplier and its "buyer" is us
    assert Party.MERCHANT.from_side(Party.BUYER) is Party.SUPPLIER
    assert Party.BUYER.from_side(Party.BUYER) is Party.MERCHANT
    assert Party.BUYER.from_side(Party.MERCHANT) is Party.BUYER


def test_anchor_fallback_order():
    requested = T0 + timedelta(days=2)
    anchors = ("fact:requested_at", "created_at")
    assert anchor_time(case(), anchors) == T0
    assert anchor_time(case(facts={"requested_at": requested.isoformat()}), anchors) == requested
    # the first anchor the subject has wins, even when a later one is earlier
    order = Order(
        external_id="O1",
        status=OrderStatus.PAID,
        platform_status="x",
        created_at=T0,
        updated_at=T0,
        paid_at=T0 + timedelta(hours=1),
    )
    assert anchor_time(order, ("shipped_at", "paid_at", "created_at")) == T0 + timedelta(hours=1)
    assert anchor_time(order, ("shipped_at", "signed_at")) is None


def test_resubmission_restarts_the_reply_clock():
    table = RuleTable(
        platform="t", rules=(rule("t.reply", {"requested"}, ("fact:requested_at", "created_at"), 72),)
    )
    first = next_action(case(), table)
    assert first is not None and first.due_at == T0 + timedelta(hours=72)
    again = T0 + timedelta(days=4)
    resubmitted = next_action(case(facts={"requested_at": again.isoformat()}), table)
    assert resubmitted is not None and resubmitted.due_at == again + timedelta(hours=72)


def test_status_since_prefers_the_platforms_field():
    stated = T0 + timedelta(hours=7)
    c = case(AfterSaleStatus.AWAITING_RETURN, facts={"status_since": stated.isoformat()})
    assert anchor_time(c, "status_since", T0 + timedelta(days=1)) == stated
    assert anchor_time(case(), "status_since", T0 + timedelta(days=1)) == T0 + timedelta(days=1)


def test_updated_at_is_not_an_anchor():
    with pytest.raises(ValueError, match="unknown anchor 'updated_at'"):
        anchor_time(case(), "updated_at")
    problems = check_table(RuleTable(platform="t", rules=(rule("t.x", {"requested"}, "updated_at", 1),)))
    assert problems == ["t.x: unknown anchor 'updated_at'"]


def test_fact_time_without_zone_is_refused_naming_the_fact():
    with pytest.raises(ValueError, match="fact 'requested_at' of R1"):
        anchor_time(case(facts={"requested_at": "2026-11-01 08:00:00"}), "fact:requested_at")


def bj(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=CST).astimezone(UTC)


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # 23:59:59 and 00:00:00 Beijing are different days: one second moves the due time a day
        (bj(2026, 11, 6, 23, 59, 59), 7, bj(2026, 11, 14)),
        (bj(2026, 11, 7, 0, 0, 0), 7, bj(2026, 11, 15)),
        # 16:00 UTC is already the next day in Beijing
        (datetime(2026, 11, 6, 15, 59, tzinfo=UTC), 7, bj(2026, 11, 14)),
        (datetime(2026, 11, 6, 16, 0, tzinfo=UTC), 7, bj(2026, 11, 15)),
        # weekends are natural days too: Friday evening + 1 day ends at Sunday 00:00
        (bj(2026, 11, 6, 21, 0), 1, bj(2026, 11, 8)),
        (bj(2026, 11, 7, 10, 0), 1, bj(2026, 11, 9)),  # Saturday -> Monday 00:00
        (bj(2026, 11, 8, 23, 30), 0, bj(2026, 11, 9)),  # Sunday night, zero days: that midnight
        # across a month end
        (bj(2026, 11, 30, 12, 0), 3, bj(2026, 12, 4)),
    ],
)
def test_natural_days_count_from_the_next_beijing_midnight(start, days, due):
    assert due_time(start, timedelta(days=days), "natural_days") == due
    table = RuleTable(
        platform="t",
        rules=(rule("t.nd", {"awaiting_return"}, "status_since", 24 * days, counting="natural_days"),),
    )
    a = next_action(case(AfterSaleStatus.AWAITING_RETURN), table, status_since=start)
    assert a is not None and a.due_at == due and a.due_at.tzinfo == UTC


def test_elapsed_counting_ignores_midnight_and_weekends():
    start = bj(2026, 11, 6, 23, 59, 59)  # a Friday
    assert due_time(start, timedelta(hours=72)) == bj(2026, 11, 9, 23, 59, 59)
    assert due_time(start, timedelta(days=7), "elapsed") == start + timedelta(days=7)


def test_natural_days_need_whole_days():
    with pytest.raises(ValueError, match="whole days"):
        due_time(T0, timedelta(hours=36), "natural_days")
    bad = RuleTable(
        platform="t", rules=(rule("t.x", {"requested"}, "created_at", 36, counting="natural_days"),)
    )
    assert check_table(bad) == ["t.x: natural_days counting needs whole days"]
    with pytest.raises(ValueError, match="unknown counting"):
        due_time(T0, timedelta(days=1), "weekdays")


def test_no_clock_row_gives_party_and_reason():
    table = RuleTable(
        platform="t",
        rules=(
            rule(
                "t.exchange",
                {"awaiting_reship"},
                "status_since",
                None,
                action="reship",
                no_clock_reason="the platform sets no reship deadline",
                no_clock_reason_zh="平台未规定补寄时限",
            ),
        ),
    )
    a = next_action(case(AfterSaleStatus.AWAITING_RESHIP), table, status_since=T0)
    assert a is not None and a.party == Party.MERCHANT and a.action == "reship"
    assert a.due_at is None and a.source is None
    assert (
        a.no_clock_reason == "the platform sets no reship deadline"
        and a.no_clock_reason_zh == "平台未规定补寄时限"
    )
    assert a.as_dict()["due_at"] is None and a.as_deadline() is None
    assert check_table(table) == []
    missing = RuleTable(platform="t", rules=(rule("t.y", {"requested"}, "created_at", None),))
    assert check_table(missing) == ["t.y: no duration and no no_clock_reason/no_clock_reason_zh"]


def test_a_clock_beats_a_no_clock_row():
    table = RuleTable(
        platform="t",
        rules=(
            rule("t.none", {"requested"}, "created_at", None, no_clock_reason="x", no_clock_reason_zh="x"),
            rule("t.clock", {"requested"}, "created_at", 48),
        ),
    )
    a = next_action(case(), table)
    assert a is not None and a.rule_id == "t.clock" and a.due_at == T0 + timedelta(hours=48)


def test_consequence_words_derived_or_stated():
    a = next_action(case(), TABLE)
    assert (
        a is not None
        and a.consequence_zh == "平台自动同意"
        and a.consequence_en.startswith("the platform agrees")
    )
    own = RuleTable(
        platform="t",
        rules=(
            rule(
                "t.r",
                {"requested"},
                "created_at",
                72,
                consequence_zh="平台自动同意退款",
                consequence_en="the platform agrees the refund automatically",
            ),
        ),
    )
    b = next_action(case(), own)
    assert b is not None and b.consequence_zh == "平台自动同意退款"
    assert b.as_dict()["consequence"] == "the platform agrees the refund automatically"
    order = Order(
        external_id="O1",
        status=OrderStatus.PAID,
        platform_status="x",
        created_at=T0,
        updated_at=T0,
        paid_at=T0,
        paid_fen=20000,
    )
    c = next_action(order, TABLE)
    assert c is not None and c.penalty_fen == 1000 and c.consequence_zh == "违约赔付 ¥10.00"
    assert c.consequence_en == "penalty ¥10.00"


def test_every_on_expiry_has_labels():
    for expiry in OnExpiry:
        assert expiry.label("zh") and expiry.label("en") and expiry.label("zh") != expiry.label("en")


def test_uncovered_open_case_gets_the_usual_party_without_a_clock():
    empty = RuleTable(platform="t")
    a = next_action(case(), empty)
    assert a is not None and a.party == Party.MERCHANT and a.action == "reply" and a.due_at is None
    assert "no row" in (a.no_clock_reason or "")
    # on a sourcing platform the same status waits on the supplier
    b = next_action(case(), empty, merchant_side=Party.BUYER)
    assert b is not None and b.party == Party.SUPPLIER
    c = next_action(case(AfterSaleStatus.AWAITING_RETURN), empty, merchant_side=Party.BUYER)
    assert c is not None and c.party == Party.MERCHANT


def test_dispute_match():
    table = RuleTable(
        platform="t",
        rules=(
            rule(
                "t.evidence",
                {"platform_review"},
                "status_since",
                48,
                action="submit_evidence",
                match=Match(
                    statuses=frozenset({"platform_review"}), dispute_statuses=frozenset({"evidence_required"})
                ),
            ),
            rule(
                "t.review",
                {"platform_review"},
                "status_since",
                None,
                party=Party.PLATFORM,
                action="review",
                no_clock_reason="the platform decides",
                no_clock_reason_zh="平台处理中",
            ),
        ),
    )
    evidence = Dispute(kind=DisputeKind.INTERVENTION, status=DisputeStatus.EVIDENCE_REQUIRED)
    a = next_action(case(AfterSaleStatus.PLATFORM_REVIEW, dispute=evidence), table, status_since=T0)
    assert a is not None and a.party == Party.MERCHANT and a.due_at == T0 + timedelta(hours=48)
    b = next_action(case(AfterSaleStatus.PLATFORM_REVIEW), table, status_since=T0)
    assert b is not None and b.party == Party.PLATFORM and b.due_at is None


def test_check_totality():
    reply = rule("t.reply", {"requested"}, ("fact:requested_at", "created_at"), 72)
    table = RuleTable(
        platform="t",
        rules=(
            reply,
            # conditional only: covers part of return_shipped, so return_shipped stays uncovered
            rule(
                "t.confirm",
                {"return_shipped"},
                "status_since",
                240,
                match=Match(statuses=frozenset({"return_shipped"}), facts={"x": True}),
            ),
            # a merchant row whose anchors a case may lack is no answer either
            rule("t.reship", {"awaiting_reship"}, "fact:goods_back_at", 48),
            rule("t.buyer", {"awaiting_return"}, "status_since", 168, party=Party.BUYER),
            rule(
                "t.ex",
                {"requested"},
                "status_since",
                None,
                match=Match(kinds=frozenset({"exchange"}), statuses=frozenset({"requested"})),
                no_clock_reason="r",
                no_clock_reason_zh="r",
            ),
        ),
        states=frozenset(
            {
                ("return_refund", "requested"),
                ("exchange", "requested"),
                ("return_refund", "return_shipped"),
                ("exchange", "awaiting_reship"),
                ("return_refund", "awaiting_return"),
                ("return_refund", "refunding"),  # platform: no row needed
                ("refund_only", "seller_refused"),  # buyer: no row needed
                ("refund_only", "succeeded"),  # terminal
                ("refund_only", "bogus"),  # not a status at all
            }
        ),
    )
    assert check_totality(table) == [
        ("exchange", "awaiting_reship"),
        ("refund_only", "bogus"),
        ("return_refund", "return_shipped"),
    ]
    # seen from a sourcing platform, "requested" waits on the supplier: no gap there
    sourcing = RuleTable(
        platform="s", states=frozenset({("refund_only", "requested"), ("refund_only", "awaiting_return")})
    )
    assert check_totality(sourcing, Party.BUYER) == [("refund_only", "awaiting_return")]
    assert check_totality(TABLE) == []  # no states declared: nothing to check
