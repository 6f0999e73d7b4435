"""One test per rule-table row (docs/rules/taobao.md has each row's long form); the sandbox clock
proves each expiry."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from hub.clock import parse_duration
from hub.domain import AfterSale, AfterSaleStatus, DeadlineSource, OnExpiry, Order, OrderStatus, Party, Shop
from hub.platform import CaseContext
from hub.rules import (
    blocked_actions,
    check_table,
    check_totality,
    computed_deadline,
    next_action,
    next_deadline,
)
from plugins.taobao.adapter import TaobaoAdapter
from plugins.taobao.info import INFO
from plugins.taobao.insights import case_insights
from plugins.taobao.mapping import map_refund, map_trade
from plugins.taobao.rules import RULE_TABLE
from plugins.taobao.sandbox import Plan, TaobaoSandbox

from .conftest import add_refund, case_of

MINUTE = timedelta(minutes=1)


def test_every_row_has_a_source_and_the_table_is_sound() -> None:
    assert check_table(RULE_TABLE) == []
    assert check_totality(RULE_TABLE) == []
    for row in (*RULE_TABLE.rules, *RULE_TABLE.constraints):
        assert len(row.source) > 20, row.id
        # cited in words: no file outside the repo (only docs/rules/ pages may be named)
        assert ".md" not in row.source.replace("docs/rules/", "") and "../" not in row.source, row.id
    for row in RULE_TABLE.rules:
        assert "updated_at" not in row.anchors, row.id
        assert row.has_clock or (row.no_clock_reason and row.no_clock_reason_zh), row.id
        if row.has_clock:
            assert row.start_event and row.start_event_zh, row.id
        if row.policy:
            assert row.setting and any(s.name == row.setting for s in INFO.settings), row.id


async def _expires(
    sandbox: TaobaoSandbox, adapter: TaobaoAdapter, case: AfterSale, due: datetime
) -> AfterSale:
    """Move the sandbox to a minute before ``due`` (nothing happens), then past it; return the case."""
    clock = sandbox.gateway.clock
    sandbox.gateway.advance(due - clock.now() - MINUTE)
    before = case_of(adapter, await adapter.fetch_one("refund", case.external_id))
    assert before.status is case.status, "the platform acted before the rule's time"
    sandbox.gateway.advance(2 * MINUTE)
    return case_of(adapter, await adapter.fetch_one("refund", case.external_id))


async def test_refund_reply_72h_then_auto_agreed(sandbox: TaobaoSandbox, taobao: TaobaoAdapter) -> None:
    """taobao.refund_reply_72h — Taobao: 72 h without an answer, the refund is agreed."""
    assert sandbox.taobao is not None
    now = sandbox.gateway.clock.now()
    r = add_refund(sandbox.taobao, now)
    case = case_of(taobao, await taobao.fetch_one("refund", str(r.refund_id)))
    deadline = computed_deadline(RULE_TABLE.rule("taobao.refund_reply_72h"), case)
    assert deadline is not None and deadline.due_at == now + timedelta(hours=72)
    assert (deadline.party, deadline.action, deadline.on_expiry) == (
        Party.SELLER,
        "reply",
        OnExpiry.AUTO_AGREE,
    )
    # The platform's stated timeout is the same moment, and wins.
    shown = next_deadline(case, RULE_TABLE)
    assert shown is not None and shown.source is DeadlineSource.PLATFORM and shown.due_at == deadline.due_at
    assert shown.rule_id == "taobao.refund_reply_72h"
    after = await _expires(sandbox, taobao, case, deadline.due_at)
    assert after.status is AfterSaleStatus.SUCCEEDED


async def test_return_reply_72h_then_return_agreed(sandbox: TaobaoSandbox, taobao: TaobaoAdapter) -> None:
    """taobao.return_reply_72h — 72 h from the request, then the return agreement is made."""
    assert sandbox.taobao is not None
    now = sandbox.gateway.clock.now()
    r = add_refund(sandbox.taobao, now, has_return=True, reason="尺码不合适")
    case = case_of(taobao, await taobao.fetch_one("refund", str(r.refund_id)))
    deadline = next_deadline(case, RULE_TABLE)
    assert deadline is not None and deadline.rule_id == "taobao.return_reply_72h"
    assert deadline.due_at == now + timedelta(hours=72) and deadline.on_expiry is OnExpiry.AUTO_AGREE
    after = await _expires(sandbox, taobao, case, deadline.due_at)
    assert after.status is AfterSaleStatus.AWAITING_RETURN  # the return agreement, made automatically


async def test_escalation_opens_72h_after_the_request(sandbox: TaobaoSandbox, taobao: TaobaoAdapter) -> None:
    """taobao.escalation_72h — either side may ask Taobao to step in from 72 h after the request."""
    assert sandbox.taobao is not None
    now = sandbox.gateway.clock.now()
    r = add_refund(
        sandbox.taobao,
        now - timedelta(hours=10),
        status="SELLER_REFUSE_BUYER",
        refused_at=now,
        plan=Plan(escalate=True),
    )
    case = case_of(taobao, await taobao.fetch_one("refund", str(r.refund_id)))
    deadline = next_deadline(case, RULE_TABLE)
    assert deadline is not None and deadline.rule_id == "taobao.escalation_72h"
    assert deadline.due_at == case.created_at + timedelta(hours=72)
    assert (deadline.party, deadline.on_expiry) == (Party.BUYER, OnExpiry.ESCALATION_OPENS)
    after = await _expires(sandbox, taobao, case, deadline.due_at)
    assert after.status is AfterSaleStatus.PLATFORM_REVIEW  # the buyer asked Taobao to step in
    assert after.dispute is not None and after.dispute.platform_status == "cs_status=2"


async def test_buyer_ships_return_within_7_days_else_closed(
    sandbox: TaobaoSandbox, taobao: TaobaoAdapter
) -> None:
    """taobao.buyer_return_7d — the buyer ships the return within 7 days of the agreement."""
    assert sandbox.taobao is not None
    now = sandbox.gateway.clock.now()
    r = add_refund(
        sandbox.taobao,
        now - timedelta(days=1),
        status="WAIT_BUYER_RETURN_GOODS",
        has_return=True,
        agreed_at=now,
    )
    r.touch(now)
    case = case_of(taobao, await taobao.fetch_one("refund", str(r.refund_id)))
    deadline = next_deadline(case, RULE_TABLE, status_since=now)  # entered awaiting_return at the agreement
    assert deadline is not None and deadline.rule_id == "taobao.buyer_return_7d"
    assert deadline.due_at == now + timedelta(days=7) and deadline.on_expiry is OnExpiry.AUTO_CLOSE
    rule_only = computed_deadline(RULE_TABLE.rule("taobao.buyer_return_7d"), case, status_since=now)
    assert rule_only is not None and rule_only.due_at == deadline.due_at
    after = await _expires(sandbox, taobao, case, deadline.due_at)
    assert after.status is AfterSaleStatus.CLOSED


async def test_seller_confirms_within_10_days_else_refunded(
    sandbox: TaobaoSandbox, taobao: TaobaoAdapter
) -> None:
    """taobao.seller_confirm_10d — the seller confirms the return within 10 days, else Taobao refunds."""
    assert sandbox.taobao is not None
    now = sandbox.gateway.clock.now()
    r = add_refund(
        sandbox.taobao,
        now - timedelta(days=2),
        status="WAIT_SELLER_CONFIRM_GOODS",
        has_return=True,
        agreed_at=now - timedelta(days=1),
        good_return_time=now,
        company_name="中通快递",
        sid="7589001",
    )
    r.touch(now)
    case = case_of(taobao, await taobao.fetch_one("refund", str(r.refund_id)))
    deadline = computed_deadline(RULE_TABLE.rule("taobao.seller_confirm_10d"), case)
    assert deadline is not None and deadline.due_at == now + timedelta(days=10)
    assert (deadline.action, deadline.on_expiry) == ("confirm_receipt", OnExpiry.AUTO_REFUND)
    after = await _expires(sandbox, taobao, case, deadline.due_at)
    assert after.status is AfterSaleStatus.SUCCEEDED


def test_seller_confirm_10d_counts_from_the_status_without_good_return_time() -> None:
    """taobao.seller_confirm_10d — no good_return_time: the anchor falls back to entering the status."""
    case = map_refund(
        {
            "refund_id": "1",
            "tid": "2",
            "status": "WAIT_SELLER_CONFIRM_GOODS",
            "has_good_return": True,
            "created": "2024-05-01 10:00:00",
            "modified": "2024-05-03 10:00:00",
        }
    )
    since = datetime(2024, 5, 3, 2, 0, tzinfo=UTC)
    deadline = next_deadline(case, RULE_TABLE, status_since=since)
    assert deadline is not None and deadline.rule_id == "taobao.seller_confirm_10d"
    assert deadline.due_at == since + timedelta(days=10)


async def test_late_shipment_penalty_72h_after_payment(sandbox: TaobaoSandbox, taobao: TaobaoAdapter) -> None:
    """taobao.late_shipment_72h — 72 h, 5 % of the paid amount, at most 30 yuan."""
    assert sandbox.taobao is not None
    trade = next(
        t
        for t in sandbox.taobao.trades.values()
        if t.status == "WAIT_SELLER_SEND_GOODS"
        and t.step_trade_status is None
        and all(o.refund_id is None for o in t.orders)
    )
    now = sandbox.gateway.clock.now()
    trade.pay_time, trade.modified = now - timedelta(hours=1), now  # paid an hour ago
    trade.consign_interval = None  # the listing promises nothing: Taobao's 72 h applies
    raw = await taobao.fetch_one("trade", str(trade.tid))
    assert raw is not None
    order = taobao.map_record(raw)
    assert isinstance(order, Order) and order.paid_at is not None
    deadline = next_deadline(order, RULE_TABLE)
    assert deadline is not None and deadline.rule_id == "taobao.late_shipment_72h"
    assert deadline.due_at == order.paid_at + timedelta(hours=72) and deadline.on_expiry is OnExpiry.PENALTY
    assert deadline.penalty_fen == min(3000, (order.paid_fen * 5 + 50) // 100)
    # Taobao does nothing by itself: past the time the order is still unshipped and now late.
    sandbox.gateway.advance(deadline.due_at - sandbox.gateway.clock.now() + MINUTE)
    raw = await taobao.fetch_one("trade", str(trade.tid))
    assert raw is not None and taobao.map_record(raw).status is OrderStatus.PAID
    assert sandbox.gateway.clock.now() > deadline.due_at


@pytest.mark.parametrize(
    ("payment", "penalty"), [("200.07", 1000), ("600.00", 3000), ("1000.00", 3000), ("0.29", 1)]
)
def test_late_shipment_penalty_in_fen_capped_at_30_yuan(payment: str, penalty: int) -> None:
    """taobao.late_shipment_72h — 5 % of the paid amount, at most 30 yuan, computed in fen."""
    order = map_trade(
        {
            "tid": 1,
            "status": "WAIT_SELLER_SEND_GOODS",
            "payment": payment,
            "created": "2024-05-01 10:00:00",
            "pay_time": "2024-05-01 10:00:00",
            "modified": "2024-05-01 10:00:00",
        }
    )
    deadline = next_deadline(order, RULE_TABLE)
    assert deadline is not None and deadline.penalty_fen == penalty


def test_presale_orders_are_not_late_at_72h() -> None:
    """taobao.presale_ship — presale orders are outside the 72-hour rule: no clock without send_time."""
    order = map_trade(
        {
            "tid": 1,
            "status": "WAIT_SELLER_SEND_GOODS",
            "payment": "10.00",
            "type": "step",
            "step_trade_status": "FRONT_PAID_FINAL_PAID",
            "created": "2024-05-01 10:00:00",
            "pay_time": "2024-05-01 10:00:00",
            "modified": "2024-05-01 10:00:00",
        }
    )
    assert next_deadline(order, RULE_TABLE) is None
    shown = next_action(order, RULE_TABLE)
    assert shown is not None and shown.rule_id == "taobao.presale_ship" and shown.no_clock_reason


def test_no_reason_window_7_days_from_sign_for() -> None:
    """taobao.no_reason_window_7d — 7 natural days from the day after the logistics sign-for."""
    order = map_trade(
        {
            "tid": 1,
            "status": "WAIT_BUYER_CONFIRM_GOODS",
            "payment": "10.00",
            "created": "2024-05-01 10:00:00",
            "pay_time": "2024-05-01 10:00:00",
            "consign_time": "2024-05-02 10:00:00",
            "modified": "2024-05-02 10:00:00",
        }
    )
    assert next_deadline(order, RULE_TABLE) is None  # no sign-for time known: no window shown
    signed = datetime(2024, 5, 4, 1, 0, tzinfo=UTC)  # 09:00 Beijing, 4 May
    facts = {**order.facts, "signed_at": signed.isoformat()}
    deadline = next_deadline(dataclasses.replace(order, signed_at=signed, facts=facts), RULE_TABLE)
    assert deadline is not None and deadline.rule_id == "taobao.no_reason_window_7d"
    # 00:00 Beijing on 12 May (5 May + 7 days) = 16:00 UTC on 11 May
    assert deadline.due_at == datetime(2024, 5, 11, 16, 0, tzinfo=UTC) and deadline.party is Party.BUYER


def test_platform_timeout_overrides_the_computed_time() -> None:
    """refund_remind_timeout.timeout (the platform's own time) wins over the computed one."""
    case = map_refund(
        {
            "refund_id": "1",
            "tid": "2",
            "status": "WAIT_SELLER_AGREE",
            "has_good_return": False,
            "created": "2024-05-01 10:00:00",
            "modified": "2024-05-01 10:00:00",
            "refund_remind_timeout": {
                "exist_timeout": True,
                "remind_type": 1,
                "timeout": "2024-05-03 18:00:00",
            },
        }
    )
    computed = computed_deadline(RULE_TABLE.rule("taobao.refund_reply_72h"), case)
    assert computed is not None and computed.due_at == datetime(2024, 5, 4, 2, 0, tzinfo=UTC)
    shown = next_deadline(case, RULE_TABLE)
    assert shown is not None and shown.source is DeadlineSource.PLATFORM
    assert shown.due_at == datetime(2024, 5, 3, 10, 0, tzinfo=UTC)
    assert shown.rule_id == "taobao.refund_reply_72h" and shown.on_expiry is OnExpiry.AUTO_AGREE


# -- constraints ----------------------------------------------------------------------------------


def _refund_payload(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "refund_id": "1",
        "tid": "2",
        "status": "WAIT_SELLER_AGREE",
        "has_good_return": True,
        "created": "2024-05-01 10:00:00",
        "modified": "2024-05-01 10:00:00",
        "reason": "尺码不合适",
        "order_status": "WAIT_BUYER_CONFIRM_GOODS",
    }
    return {**base, **fields}


def _refund_case(**fields: object) -> AfterSale:
    base = {
        "refund_id": "1",
        "tid": "2",
        "status": "WAIT_SELLER_AGREE",
        "has_good_return": True,
        "created": "2024-05-01 10:00:00",
        "modified": "2024-05-01 10:00:00",
        "reason": "尺码不合适",
        "order_status": "WAIT_BUYER_CONFIRM_GOODS",
    }
    return map_refund({**base, **fields})


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"reason": "七天无理由退换货"}, "taobao.no_refuse_no_reason"),
        ({"operation_contraint": "cannot_refuse"}, "taobao.no_refuse_constraint"),
        ({"order_status": "WAIT_SELLER_SEND_GOODS", "has_good_return": False}, "taobao.no_refuse_unshipped"),
    ],
)
def test_seller_cannot_refuse(fields: dict[str, object], constraint: str, taobao: TaobaoAdapter) -> None:
    """taobao.no_refuse_* — 七天无理由 has no refuse button; operation_contraint=cannot_refuse;
    taobao.refund.refuse cannot refuse when 卖家未发货."""
    case = _refund_case(**fields)
    row = next(c for c in RULE_TABLE.constraints if c.id == constraint)
    assert blocked_actions(case, RULE_TABLE)["refuse"].endswith(f"[{row.source}]")
    refuse = next(a for a in taobao.available_actions(case, None) if a.action == "refuse")
    assert not refuse.enabled and refuse.reason is not None and row.reason_zh in refuse.reason
    assert "refuse" not in blocked_actions(_refund_case(), RULE_TABLE)


@pytest.mark.parametrize("action", ["agree_refund", "refuse", "agree_return", "refuse_return", "review"])
def test_refund_onweb_must_be_handled_on_the_web(action: str) -> None:
    """taobao.onweb_* — operation_contraint = refund_onweb (需要到网页版操作)."""
    case = _refund_case(operation_contraint="refund_onweb")
    assert action in blocked_actions(case, RULE_TABLE)
    assert action not in blocked_actions(_refund_case(), RULE_TABLE)


async def test_sandbox_refuses_like_the_rule_says(sandbox: TaobaoSandbox, taobao: TaobaoAdapter) -> None:
    """The platform agrees with the constraint rows: a forced refusal of a 七天无理由 request is rejected."""
    assert sandbox.taobao is not None
    r = add_refund(sandbox.taobao, sandbox.gateway.clock.now(), has_return=True, reason="七天无理由退换货")
    from hub.errors import PlatformRequestError

    with pytest.raises(PlatformRequestError, match="七天无理由"):
        await taobao.client.call(
            "taobao.refund.refuse", {"refund_id": r.refund_id, "refuse_message": "不同意退货"}
        )


# -- shop policy: the late-shipment early warning ---------------------------------------------------


def _unshipped(paid_hours_ago: float, now: datetime) -> Order:
    paid = now - timedelta(hours=paid_hours_ago)
    text = (paid + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
    return map_trade(
        {
            "tid": 1,
            "status": "WAIT_SELLER_SEND_GOODS",
            "payment": "100.00",
            "created": text,
            "pay_time": text,
            "modified": text,
        }
    )


@pytest.mark.parametrize(
    ("hours", "setting", "level"),
    [
        (10, None, None),
        (30, None, "warning"),
        (80, None, "danger"),
        (10, "64h", "warning"),
        (30, "24h", None),
    ],
)
def test_late_shipment_early_warning_is_a_shop_setting(
    hours: float, setting: str | None, level: str | None
) -> None:
    """late_ship_warning — shop policy: list unshipped orders at least 48 h before the 72 h limit."""
    now = datetime(2024, 5, 10, 2, 0, tzinfo=UTC)
    settings = {"late_ship_warning": setting} if setting else {}
    shop = Shop(name="s", platform="taobao", settings=settings)
    insights = case_insights(CaseContext(shop=shop, case=None, order=_unshipped(hours, now), now=now))
    warnings = [i for i in insights if i.kind == "warning"]
    if level is None:
        assert warnings == []
    else:
        assert warnings[0].level == level and warnings[0].amount_fen == 500
        # the penalty in yuan, in Chinese; the fen amount is in amount_fen only
        assert "¥5.00" in warnings[0].body and "违约金" in warnings[0].body
        assert "fen" not in warnings[0].body and "500" not in warnings[0].body


# -- interventions (客服介入): platform timeout, else shop policy; the evidence guide -------------------


def _intervention(cs: int, **fields: object) -> AfterSale:
    return _refund_case(status="SELLER_REFUSE_BUYER", cs_status=cs, modified="2024-05-03 10:00:00", **fields)


MODIFIED_UTC = datetime(2024, 5, 3, 2, 0, tzinfo=UTC)  # 2024-05-03 10:00:00 Beijing time


@pytest.mark.parametrize(
    ("cs", "rule_id", "setting"),
    [
        (10, "taobao.evidence_upload", "evidence_upload_within"),
        (2, "taobao.intervention_reply", "intervention_reply_within"),
        (3, "taobao.intervention_reply", "intervention_reply_within"),
        (4, "taobao.intervention_reply", "intervention_reply_within"),
        (5, "taobao.intervention_reply", "intervention_reply_within"),
    ],
)
def test_intervention_without_platform_timeout_gets_the_shop_policy_deadline(
    cs: int, rule_id: str, setting: str
) -> None:
    """taobao.evidence_upload / taobao.intervention_reply — shop policy (no published figure): a
    policy Rule naming a setting whose default is in the plugin's settings."""
    case = _intervention(cs)
    assert case.status is AfterSaleStatus.PLATFORM_REVIEW and case.platform_deadline is None
    row = RULE_TABLE.rule(rule_id)
    assert row.setting == setting and row.policy and "shop policy" in row.source
    default = next(s.default for s in INFO.settings if s.name == setting)
    assert default is not None and parse_duration(default) == row.duration
    shown = next_deadline(case, RULE_TABLE, status_since=MODIFIED_UTC)
    assert shown is not None and shown.rule_id == rule_id and shown.source is DeadlineSource.POLICY
    assert shown.due_at == MODIFIED_UTC + parse_duration(default)
    assert (shown.party, shown.action) == (Party.MERCHANT, "submit_evidence")
    assert shown.on_expiry is (OnExpiry.RULED_AGAINST if cs == 10 else OnExpiry.OVERDUE)
    # the shop changes its own policy
    custom = next_deadline(case, RULE_TABLE, status_since=MODIFIED_UTC, settings={setting: "6h"})
    assert custom is not None and custom.due_at == MODIFIED_UTC + timedelta(hours=6)


def test_evidence_deadline_never_counts_from_the_refunds_last_change() -> None:
    """TOP gives no time for entering 举证中: the evidence row counts from when the case entered its
    status (the store's history), never from ``modified``: a later message must not move the clock."""
    case = _intervention(10)
    early = MODIFIED_UTC - timedelta(days=2)
    shown = next_deadline(case, RULE_TABLE, status_since=early)
    assert shown is not None and shown.due_at == early + timedelta(hours=24)
    later = dataclasses.replace(case, updated_at=MODIFIED_UTC + timedelta(days=1))
    again = next_deadline(later, RULE_TABLE, status_since=early)
    assert again is not None and again.due_at == shown.due_at


def test_intervention_platform_timeout_wins_over_the_shop_policy() -> None:
    """refund_remind_timeout: the platform's own time always wins; the rule lends it party and action."""
    remind = {"exist_timeout": True, "remind_type": 1, "timeout": "2024-05-05 12:00:00"}
    case = _intervention(10, refund_remind_timeout=remind)
    assert case.platform_deadline is not None
    shown = next_deadline(case, RULE_TABLE, status_since=MODIFIED_UTC)
    assert shown is not None and shown.source is DeadlineSource.PLATFORM
    assert shown.due_at == datetime(2024, 5, 5, 4, 0, tzinfo=UTC)
    assert shown.rule_id == "taobao.evidence_upload" and shown.action == "submit_evidence"


def test_closed_intervention_has_no_policy_deadline() -> None:
    for cs, status in ((8, "SUCCESS"), (9, "CLOSED"), (6, "CLOSED"), (11, "SUCCESS")):
        case = _refund_case(status=status, cs_status=cs)
        assert next_deadline(case, RULE_TABLE) is None
        assert not [r for r in RULE_TABLE.matching(case) if r.id.startswith("taobao.intervention")]


async def test_sandbox_intervention_case_gets_a_deadline(
    sandbox: TaobaoSandbox, taobao: TaobaoAdapter
) -> None:
    """The sandbox states no timeout during an intervention (exist_timeout false): the policy row applies."""
    assert sandbox.taobao is not None
    now = sandbox.gateway.clock.now()
    r = add_refund(
        sandbox.taobao,
        now - timedelta(days=5),
        status="SELLER_REFUSE_BUYER",
        has_return=True,
        reason="质量问题",
        cs_status=10,
        cs_since=now,
    )
    case = case_of(taobao, await taobao.fetch_one("refund", str(r.refund_id)))
    assert case.platform_deadline is None and case.facts["cs_status"] == 10
    shown = next_deadline(case, RULE_TABLE, status_since=now)
    assert shown is not None and shown.rule_id == "taobao.evidence_upload"


def _shop() -> Shop:
    return Shop(name="s", platform="taobao", settings={})


@pytest.mark.parametrize(
    ("cs", "title_part", "level"), [(10, "举证中", "warning"), (3, "客服介入中", "info")]
)
def test_intervention_guide_lists_the_evidence_to_gather(cs: int, title_part: str, level: str) -> None:
    """The merchant's evidence list: chat screenshots, waybill, weight records, photos, inspection report."""
    case = _intervention(cs)
    guides = [
        i
        for i in case_insights(CaseContext(shop=_shop(), case=case, order=None))
        if i.kind == "guide" and "客服" in i.body
    ]
    assert len(guides) == 1
    guide = guides[0]
    assert title_part in guide.title and guide.level == level
    for item in ("聊天记录截图", "面单", "称重", "照片", "鉴定报告", "质检"):
        assert item in guide.body, item
    assert guide.source is not None and "docs/rules/taobao.md#taobao.evidence_upload" in guide.source
    assert not any(c.isascii() and c.isalpha() for c in guide.title)  # Chinese title


def test_no_guide_without_an_open_intervention() -> None:
    for case in (_refund_case(), _refund_case(status="SUCCESS", cs_status=8)):
        insights = case_insights(CaseContext(shop=_shop(), case=case, order=None))
        assert not [i for i in insights if i.kind == "guide" and "客服" in i.body]


def test_appeal_open_is_mentioned_in_the_guide() -> None:
    case = _refund_case(status="WAIT_SELLER_AGREE", cs_status=11)
    assert case.dispute is not None and case.dispute.appeal_open and case.dispute.status.is_open
    (guide,) = [
        i
        for i in case_insights(CaseContext(shop=_shop(), case=case, order=None))
        if i.kind == "guide" and "客服" in i.body
    ]
    assert "申诉" in guide.body


@pytest.mark.parametrize(
    ("days", "level", "phrase"), [(3, "info", "卖家不能拒绝"), (9, "warning", "质量问题证明")]
)
def test_no_reason_eligibility_is_in_chinese(days: int, level: str, phrase: str) -> None:
    """taobao.no_reason_window_7d — 7 days from the logistics sign-for time, as an eligibility insight."""
    signed = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
    order = dataclasses.replace(_unshipped(100, signed), signed_at=signed)
    case = dataclasses.replace(
        _refund_case(reason="七天无理由退换货"), created_at=signed + timedelta(days=days)
    )
    insights = case_insights(CaseContext(shop=_shop(), case=case, order=order, now=signed))
    (item,) = [i for i in insights if i.kind == "eligibility"]
    assert item.level == level and phrase in item.body and "七天无理由" in item.title


def test_every_row_has_its_section_in_the_rule_document() -> None:
    """docs/rules/taobao.md: one section per rule id, headed exactly ``### <rule id>``; every
    shop-policy setting is listed in its settings table."""
    from pathlib import Path

    doc = (Path(__file__).parents[3] / "docs" / "rules" / "taobao.md").read_text(encoding="utf-8")
    headings = {line[4:].strip() for line in doc.splitlines() if line.startswith("### ")}
    for row in (*RULE_TABLE.rules, *RULE_TABLE.constraints):
        assert row.id in headings, row.id
    for rule in RULE_TABLE.rules:
        if rule.setting:
            assert f"| `{rule.setting}` |" in doc, rule.setting


async def test_adapter_learns_the_intervention_step_and_the_resubmission(
    make_adapter: Callable[..., TaobaoAdapter], sandbox: TaobaoSandbox
) -> None:
    """TOP states neither when a cs_status was entered nor when a refused request was re-submitted:
    the adapter remembers the first version showing each (its ``modified``), across restarts, so
    the evidence clock counts from 举证中 and the reply clock restarts at the re-submission — and a
    later message moves neither."""
    assert sandbox.taobao is not None
    adapter = make_adapter(sandbox.taobao)

    def seen(status: str, cs: int, modified: str) -> AfterSale:
        payload = _refund_payload(status=status, cs_status=cs, modified=modified)
        mapped = adapter.map_record(adapter._raw("refund", payload, "refund_id"))
        assert isinstance(mapped, AfterSale)
        return mapped

    seen("SELLER_REFUSE_BUYER", 2, "2024-05-02 10:00:00")
    evidence = seen("SELLER_REFUSE_BUYER", 10, "2024-05-03 09:00:00")
    entered = datetime(2024, 5, 3, 1, 0, tzinfo=UTC)
    early = entered - timedelta(days=1)  # the store saw platform_review since cs_status 2
    shown = next_deadline(evidence, RULE_TABLE, status_since=early)
    assert shown is not None and shown.rule_id == "taobao.evidence_upload"
    assert shown.due_at == entered + timedelta(hours=24)
    later = seen("SELLER_REFUSE_BUYER", 10, "2024-05-03 20:00:00")
    again = next_deadline(later, RULE_TABLE, status_since=early)
    assert again is not None and again.due_at == shown.due_at

    await adapter.close()
    restarted = make_adapter(sandbox.taobao)
    adapter = restarted
    seen("SELLER_REFUSE_BUYER", 1, "2024-05-04 10:00:00")
    resubmitted = seen("WAIT_SELLER_AGREE", 1, "2024-05-05 08:00:00")
    reply = next_deadline(resubmitted, RULE_TABLE)
    assert reply is not None and reply.rule_id == "taobao.return_reply_72h"
    assert reply.due_at == datetime(2024, 5, 5, 0, 0, tzinfo=UTC) + timedelta(hours=72)


async def test_sandbox_listing_promise_and_missing_pickup(
    sandbox: TaobaoSandbox, taobao: TaobaoAdapter
) -> None:
    """Through the adapter: a listing promising 24 h gives taobao.ship_promised; a parcel no courier
    picked up (the trace has only the shipment) gives taobao.pickup_check 24 h after shipping."""
    assert sandbox.taobao is not None
    promised = next(t for t in sandbox.taobao.trades.values() if t.consign_interval is not None)
    raw = await taobao.fetch_one("trade", str(promised.tid))
    assert raw is not None
    order = taobao.map_record(raw)
    assert isinstance(order, Order) and order.paid_at is not None
    shown = next_action(order, RULE_TABLE)
    if order.facts.get("open_refund"):
        assert shown is not None and shown.rule_id == "taobao.order_refund_hold"
    else:
        assert shown is not None and shown.rule_id == "taobao.ship_promised"
        assert shown.due_at == order.paid_at + timedelta(hours=24)
    lost = next(t for t in sandbox.taobao.trades.values() if t.pickup_after is None)
    raw = await taobao.fetch_one("trade", str(lost.tid))
    assert raw is not None
    order = taobao.map_record(raw)
    assert isinstance(order, Order) and order.shipped_at is not None and order.facts.get("trace_read")
    shown = next_action(order, RULE_TABLE)
    assert shown is not None and shown.rule_id == "taobao.pickup_check"
    assert shown.due_at == order.shipped_at + timedelta(hours=24)
