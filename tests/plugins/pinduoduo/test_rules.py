"""The rule table: its shape (sources in words, declared states, totality, shop policy as
settings), each row's semantics (docs/rules/pinduoduo.md has each row's long form), and the
sandbox clock proving what happens when PDD's expire_time passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.clock import parse_duration
from hub.domain import AfterSale, DeadlineSource, OnExpiry, Order, Party
from hub.rules import (
    Constraint,
    Rule,
    blocked_actions,
    check_table,
    check_totality,
    next_action,
    next_deadline,
)
from plugins.pinduoduo.adapter import PddAdapter
from plugins.pinduoduo.info import INFO
from plugins.pinduoduo.mapping import map_after_sale, map_order
from plugins.pinduoduo.rules import TABLE
from plugins.pinduoduo.sandbox import FakePddServer
from plugins.pinduoduo.sandbox_data import REFUND_PROCESSING

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


def case(code: int, list_type: int = 2, *, expire: datetime | None = None, **row: Any) -> AfterSale:
    detail = row.pop("detail", {})
    payload: dict[str, Any] = {
        "id": 7,
        "order_sn": "261101-7",
        "after_sales_status": code,
        "after_sales_type": list_type,
        "refund_amount": "10.00",
        "created_time": "2026-11-01 09:00:00",
        "updated_time": "2026-11-01 10:00:00",
        **row,
    }
    if expire is not None:
        detail = {**detail, "expire_time": int(expire.timestamp() * 1000)}
    if detail:
        payload["detail"] = {"refund_amount": 1000, **detail}
    return map_after_sale(payload)


def order(**fields: Any) -> Order:
    base = {
        "order_sn": "261101-7",
        "order_status": 1,
        "refund_status": 1,
        "confirm_status": 1,
        "group_status": 1,
        "pay_amount": 10,
        "goods_amount": 10,
        "created_time": "2026-11-01 09:00:00",
        "pay_time": "2026-11-01 09:01:00",
        "confirm_time": "2026-11-01 09:01:00",
        "updated_at": "2026-11-01 09:01:00",
    }
    base.update(fields)
    return map_order(base)


def test_table_is_well_formed_and_every_row_cites_a_source_in_words() -> None:
    assert check_table(TABLE) == []
    assert check_totality(TABLE) == []
    rows: list[Rule | Constraint] = [*TABLE.rules, *TABLE.constraints]
    for row in rows:
        assert len(row.source) > 20, row.id
        # cited in words: no file outside the repo (only docs/rules/ pages may be named)
        assert ".md" not in row.source.replace("docs/rules/", "") and "../" not in row.source, row.id
    for rule in TABLE.rules:
        assert "updated_at" not in rule.anchors, rule.id
        if rule.has_clock:
            assert rule.start_event and rule.start_event_zh, rule.id
        else:
            assert rule.no_clock_reason and rule.no_clock_reason_zh, rule.id


def test_every_policy_row_is_a_declared_setting_with_its_default() -> None:
    """A figure without a published source is shop policy: a setting the merchant can change."""
    settings = {s.name: s for s in INFO.settings}
    for rule in TABLE.rules:
        if rule.policy:
            assert rule.setting in settings, rule.id
            default = settings[rule.setting].default
            assert default is not None and parse_duration(default) == rule.duration, rule.id
        elif rule.has_clock:
            # published figures: PDD's own stated time, or the 7-day national rule
            assert rule.setting is None, rule.id
            assert rule.duration in (timedelta(0), timedelta(days=7)), rule.id


def test_mapped_states_stay_inside_the_declared_states() -> None:
    from plugins.pinduoduo.mapping import STATUS_CODES

    for code in STATUS_CODES:
        for list_type in (2, 3, 4, 5, 6):
            c = case(code, list_type)
            assert (c.kind.value, c.status.value) in TABLE.states, (code, list_type)


def test_platform_reply_wins_over_the_shop_policy() -> None:
    """pinduoduo.platform_reply: PDD's expire_time is the deadline; auto-agree."""
    due = T0 + timedelta(hours=30)
    d = next_deadline(case(2, expire=due), TABLE, settings={"reply_within": "1h"})
    assert d is not None and d.due_at == due and d.source is DeadlineSource.PLATFORM
    assert (d.rule_id, d.on_expiry, d.party) == (
        "pinduoduo.platform_reply",
        OnExpiry.AUTO_AGREE,
        Party.MERCHANT,
    )


def test_policy_reply_counts_from_the_request_and_is_a_setting() -> None:
    """pinduoduo.policy_reply: 24 h from the request (never from a later modification), changeable."""
    c = case(2)
    d = next_deadline(c, TABLE, status_since=T0 + timedelta(hours=5))
    assert (
        d is not None
        and d.rule_id == "pinduoduo.policy_reply"
        and d.due_at == c.created_at + timedelta(hours=24)
    )
    assert d.source is DeadlineSource.POLICY and d.on_expiry is OnExpiry.OVERDUE
    d2 = next_deadline(c, TABLE, settings={"reply_within": "6h"})
    assert d2 is not None and d2.due_at == c.created_at + timedelta(hours=6)


def test_resubmission_restarts_the_reply_clock() -> None:
    """recreated_at (the buyer re-submitted after a rejection) is the fact requested_at."""
    c = case(2, detail={"recreated_at": "2026-11-03 20:00:00"})
    assert c.facts["requested_at"] == datetime(2026, 11, 3, 12, 0, tzinfo=UTC).isoformat()
    d = next_deadline(c, TABLE)
    assert d is not None and d.due_at == datetime(2026, 11, 4, 12, 0, tzinfo=UTC)


def test_unshipped_refund_holds_the_parcel() -> None:
    """pinduoduo.unshipped_refund / _policy: shipping_status 0: the action is hold and refund."""
    due = T0 + timedelta(hours=10)
    d = next_action(case(2, expire=due, detail={"shipping_status": 0}), TABLE)
    assert d is not None and d.action == "hold_and_refund" and d.rule_id == "pinduoduo.unshipped_refund"
    p = next_action(case(2, detail={"shipping_status": 0}), TABLE)
    assert (
        p is not None and p.rule_id == "pinduoduo.unshipped_refund_policy" and p.action == "hold_and_refund"
    )


def test_speed_refund_is_never_ship() -> None:
    """pinduoduo.speed_refund_hold: 极速退款: PDD already refunded; the merchant must not ship."""
    a = next_action(case(4, speed_refund_flag="1"), TABLE)
    assert a is not None and (a.party, a.action) == (Party.MERCHANT, "do_not_ship") and a.due_at is None


def test_refusal_of_delivery_has_no_return_clock() -> None:
    """pinduoduo.refuse_delivery: status 31: the buyer refuses the parcel; no 7-day return clock."""
    a = next_action(case(31, 3), TABLE, status_since=T0)
    assert a is not None and a.rule_id == "pinduoduo.refuse_delivery" and a.due_at is None
    assert (a.party, a.action) == (Party.BUYER, "refuse_delivery")


def test_group_forming_orders_do_not_ship_yet() -> None:
    """pinduoduo.group_forming / ship_after_group: the ship clock starts at 成团, not payment."""
    forming = order(group_status=0, confirm_status=0, last_ship_time="2026-11-03 09:01:00")
    a = next_action(forming, TABLE)
    assert a is not None and a.rule_id == "pinduoduo.group_forming" and a.due_at is None
    assert forming.platform_deadline is None
    formed = order(pay_time="2026-11-01 09:01:00", confirm_time="2026-11-02 15:00:00")
    d = next_deadline(formed, TABLE)
    assert d is not None and d.rule_id == "pinduoduo.ship_after_group"
    assert d.due_at == datetime(2026, 11, 2, 7, 0, tzinfo=UTC) + timedelta(hours=48)
    assert d.on_expiry is OnExpiry.PENALTY and d.source is DeadlineSource.POLICY


def test_platform_ship_by() -> None:
    """pinduoduo.platform_ship_by: last_ship_time 承诺发货时间 is PDD's own."""
    d = next_deadline(order(last_ship_time="2026-11-03 09:01:00"), TABLE)
    assert d is not None and d.rule_id == "pinduoduo.platform_ship_by" and d.source is DeadlineSource.PLATFORM
    assert d.due_at == datetime(2026, 11, 3, 1, 1, tzinfo=UTC)


def test_closed_cases_have_no_deadline() -> None:
    assert next_deadline(case(10, expire=T0), TABLE) is None


CONSTRAINT_ROWS = [
    (case(99), "agree_refund", "pinduoduo.unknown_status_no_agree"),
    (case(99, 3), "agree_return", "pinduoduo.unknown_status_no_return"),
    (case(7, 3), "agree_refund", "pinduoduo.agree_only_pending"),
    (case(14, 4), "agree_refund", "pinduoduo.agree_not_exchange_repair"),
    (case(2, 2), "agree_return", "pinduoduo.return_only_for_returns"),
    (case(3, 3, tracking_number="SF1"), "agree_return", "pinduoduo.return_only_requested"),
]


@pytest.mark.parametrize(("subject", "action", "constraint"), CONSTRAINT_ROWS)
def test_constraint_rows(subject: AfterSale, action: str, constraint: str) -> None:
    row = next(c for c in TABLE.constraints if c.id == constraint)
    assert row.match.matches(subject)
    assert action in blocked_actions(subject, TABLE)


def test_every_constraint_has_a_test() -> None:
    assert {c.id for c in TABLE.constraints} == {row[2] for row in CONSTRAINT_ROWS}


def test_agreeable_cases_are_not_blocked() -> None:
    assert "agree_refund" not in blocked_actions(case(2), TABLE)
    assert not {"agree_refund", "agree_return"} & set(blocked_actions(case(3, 3), TABLE))


async def test_sandbox_clock_proves_expire_time_auto_agrees(
    server: FakePddServer, adapter: PddAdapter
) -> None:
    """When expire_time passes, PDD agrees by itself (platform_reply's on_expiry) and the refund completes."""
    c = next(c for c in server.cases.values() if c.status == 2 and c.expire is not None)
    raw = await adapter._fetch_case(str(c.id), c.order_sn)
    assert raw is not None
    before = adapter.map_record(raw)
    assert isinstance(before, AfterSale)
    d = next_deadline(before, TABLE)
    assert d is not None and d.source is DeadlineSource.PLATFORM and d.on_expiry is OnExpiry.AUTO_AGREE
    server.advance(d.due_at - server.clock.now() - timedelta(seconds=1))
    still = adapter.map_record(await adapter._fetch_case(str(c.id), c.order_sn))  # type: ignore[arg-type]
    assert isinstance(still, AfterSale) and still.platform_status == "2"
    server.advance(timedelta(seconds=2))
    after = adapter.map_record(await adapter._fetch_case(str(c.id), c.order_sn))  # type: ignore[arg-type]
    assert isinstance(after, AfterSale) and after.platform_status == "4" and after.updated_at == d.due_at
    assert after.facts["refund_operator_role"] == "4"  # 系统
    server.advance(REFUND_PROCESSING)
    done = adapter.map_record(await adapter._fetch_case(str(c.id), c.order_sn))  # type: ignore[arg-type]
    assert isinstance(done, AfterSale) and done.platform_status == "10"


async def test_sandbox_clock_return_request_lapses_to_awaiting_return(
    server: FakePddServer, adapter: PddAdapter
) -> None:
    c = next(c for c in server.cases.values() if c.status == 3 and not c.waybill and c.expire is not None)
    assert c.expire is not None
    server.advance(c.expire - server.clock.now() + timedelta(seconds=1))
    raw = await adapter._fetch_case(str(c.id), c.order_sn)
    assert raw is not None
    mapped = adapter.map_record(raw)
    assert isinstance(mapped, AfterSale) and mapped.platform_status == "7"
    d = next_deadline(mapped, TABLE, status_since=mapped.updated_at)
    assert d is not None and d.rule_id == "pinduoduo.policy_buyer_return"


def test_every_row_has_its_section_in_the_rule_document() -> None:
    """docs/rules/pinduoduo.md: one section per rule id, headed exactly ``### <rule id>``; every
    shop-policy setting is listed in its settings table."""
    from pathlib import Path

    doc = (Path(__file__).parents[3] / "docs" / "rules" / "pinduoduo.md").read_text(encoding="utf-8")
    headings = {line[4:].strip() for line in doc.splitlines() if line.startswith("### ")}
    for row in (*TABLE.rules, *TABLE.constraints):
        assert row.id in headings, row.id
    for rule in TABLE.rules:
        if rule.setting:
            assert f"| `{rule.setting}` |" in doc, rule.setting
