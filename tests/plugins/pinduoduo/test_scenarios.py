"""Scenario table: raw PDD records (after-sales list rows with their detail, orders) through the
real mapper to the next action an agent sees (party, action, due time, on expiry), via the core's
:func:`hub.rules.next_action`. Times are written in Beijing time; 2026-11-06 is a Friday, so
several rows run over the weekend, and several start at or just before midnight."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from hub.clock import CST
from hub.domain import AfterSale, OnExpiry, Order, Party
from hub.rules import next_action
from plugins.pinduoduo.mapping import map_after_sale, map_order
from plugins.pinduoduo.rules import TABLE

M, B, P = Party.MERCHANT, Party.BUYER, Party.PLATFORM
E = OnExpiry


def bj(text: str) -> datetime:
    """A Beijing wall-clock time ``YYYY-MM-DD HH:MM:SS`` as an aware datetime."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST)


def ms(text: str) -> int:
    """PDD's expire_time as epoch milliseconds."""
    return int(bj(text).timestamp() * 1000)


@dataclass(frozen=True)
class Row:
    name: str
    resource: str  #: after_sale or order
    payload: Mapping[str, Any]
    #: (party, action, due in Beijing time or None, on_expiry, rule id), or None: no next action
    expect: tuple[Party, str, str | None, OnExpiry, str] | None
    since: str | None = None  #: when the store first saw the current status (Beijing time)
    settings: Mapping[str, str] = field(default_factory=dict)


def sale(code: int, kind: int = 2, created: str = "2026-11-06 23:30:00", **detail: Any) -> dict[str, Any]:
    """A list row (list numbering of after_sales_type) with its detail merged under ``detail``."""
    row = {
        "id": 5001,
        "order_sn": "261106-5001",
        "after_sales_status": code,
        "after_sales_type": kind,
        "refund_amount": "35.00",
        "created_time": created,
        "updated_time": detail.pop("updated", created),
        "tracking_number": detail.pop("tracking_number", ""),
        "speed_refund_flag": detail.pop("speed_refund_flag", "0"),
    }
    if "expire" in detail:
        detail["expire_time"] = ms(detail.pop("expire"))
    return {**row, "detail": {"refund_amount": 3500, "after_sales_status": code, **detail}}


def order(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "order_sn": "261106-5001",
        "order_status": 1,
        "refund_status": 1,
        "confirm_status": 1,
        "group_status": 1,
        "pay_amount": 35,
        "goods_amount": 35,
        "created_time": "2026-11-06 20:00:00",
        "pay_time": "2026-11-06 20:01:00",
        "confirm_time": "2026-11-06 23:59:59",
        "updated_at": "2026-11-06 23:59:59",
    }
    return {**base, **fields}


ROWS: list[Row] = [
    # --- requests: PDD's own expire_time first ----------------------------------------------------
    Row(
        "refund request with PDD's time",
        "after_sale",
        sale(2, expire="2026-11-08 23:30:00"),
        (M, "reply", "2026-11-08 23:30:00", E.AUTO_AGREE, "pinduoduo.platform_reply"),
    ),
    Row(
        "refund before shipment: hold the parcel (PDD's time)",
        "after_sale",
        sale(2, expire="2026-11-07 23:30:00", shipping_status=0),
        (M, "hold_and_refund", "2026-11-07 23:30:00", E.AUTO_AGREE, "pinduoduo.unshipped_refund"),
    ),
    Row(
        "refund without PDD's time: shop policy 24 h over midnight",
        "after_sale",
        sale(2),
        (M, "reply", "2026-11-07 23:30:00", E.OVERDUE, "pinduoduo.policy_reply"),
    ),
    Row(
        "refund at midnight without PDD's time",
        "after_sale",
        sale(2, created="2026-11-07 00:00:00"),
        (M, "reply", "2026-11-08 00:00:00", E.OVERDUE, "pinduoduo.policy_reply"),
    ),
    Row(
        "a later update never moves the clock",
        "after_sale",
        sale(2, updated="2026-11-07 20:00:00"),
        (M, "reply", "2026-11-07 23:30:00", E.OVERDUE, "pinduoduo.policy_reply"),
        since="2026-11-07 20:00:00",
    ),
    Row(
        "re-submitted after a rejection: the clock restarts",
        "after_sale",
        sale(2, recreated_at="2026-11-08 10:00:00", updated="2026-11-08 10:00:00"),
        (M, "reply", "2026-11-09 10:00:00", E.OVERDUE, "pinduoduo.policy_reply"),
    ),
    Row(
        "refund before shipment without PDD's time",
        "after_sale",
        sale(2, shipping_status=0),
        (M, "hold_and_refund", "2026-11-07 23:30:00", E.OVERDUE, "pinduoduo.unshipped_refund_policy"),
    ),
    Row(
        "the shop's own 6 h",
        "after_sale",
        sale(2),
        (M, "reply", "2026-11-07 05:30:00", E.OVERDUE, "pinduoduo.policy_reply"),
        settings={"reply_within": "6h"},
    ),
    Row(
        "return request with PDD's time",
        "after_sale",
        sale(3, 3, expire="2026-11-09 09:00:00"),
        (M, "reply", "2026-11-09 09:00:00", E.AUTO_AGREE, "pinduoduo.platform_reply"),
    ),
    Row(
        "return request without PDD's time",
        "after_sale",
        sale(3, 3),
        (M, "reply", "2026-11-07 23:30:00", E.OVERDUE, "pinduoduo.policy_reply"),
    ),
    Row(
        "exchange request with PDD's time",
        "after_sale",
        sale(14, 4, expire="2026-11-08 12:00:00"),
        (M, "reply", "2026-11-08 12:00:00", E.AUTO_AGREE, "pinduoduo.platform_reply"),
    ),
    Row(
        "repair request without PDD's time",
        "after_sale",
        sale(21, 6),
        (M, "reply", "2026-11-07 23:30:00", E.OVERDUE, "pinduoduo.policy_reply"),
    ),
    Row(
        "unknown status: check, no invented clock",
        "after_sale",
        sale(99),
        (M, "check_in_backend", None, E.NOTHING, "pinduoduo.requested_unknown"),
    ),
    Row(
        "unknown status with PDD's time",
        "after_sale",
        sale(99, expire="2026-11-08 08:00:00"),
        (M, "check_in_backend", "2026-11-08 08:00:00", E.NOTHING, "pinduoduo.requested_unknown"),
    ),
    # --- refunds under way -------------------------------------------------------------------------
    Row(
        "merchant agreed, refunding: nothing to do",
        "after_sale",
        sale(4),
        (P, "refund", None, E.NOTHING, "pinduoduo.refunding"),
    ),
    Row(
        "instant refund (极速退款): never ship",
        "after_sale",
        sale(4, speed_refund_flag="1"),
        (M, "do_not_ship", None, E.NOTHING, "pinduoduo.speed_refund_hold"),
    ),
    Row(
        "PDD ruled for the buyer: appeal within 72 h (shop policy)",
        "after_sale",
        sale(5, updated="2026-11-07 21:00:00"),
        (M, "appeal", "2026-11-10 21:00:00", E.WINDOW_CLOSES, "pinduoduo.appeal_window"),
        since="2026-11-07 21:00:00",
    ),
    Row(
        "PDD is reviewing: evidence within 24 h",
        "after_sale",
        sale(8, updated="2026-11-07 23:59:59"),
        (M, "submit_evidence", "2026-11-08 23:59:59", E.RULED_AGAINST, "pinduoduo.evidence_within"),
        since="2026-11-07 23:59:59",
    ),
    Row(
        "PDD is reviewing: the shop's own 12 h",
        "after_sale",
        sale(8),
        (M, "submit_evidence", "2026-11-08 12:00:00", E.RULED_AGAINST, "pinduoduo.evidence_within"),
        since="2026-11-08 00:00:00",
        settings={"evidence_within": "12h"},
    ),
    # --- after a rejection ---------------------------------------------------------------------------
    Row(
        "rejected: the buyer decides, no published period",
        "after_sale",
        sale(6),
        (B, "modify_or_escalate", None, E.AUTO_CLOSE, "pinduoduo.buyer_after_rejection"),
    ),
    # --- the buyer's leg -------------------------------------------------------------------------------
    Row(
        "return agreed Saturday: the buyer ships (7 days, policy)",
        "after_sale",
        sale(7, 3, updated="2026-11-07 10:00:00"),
        (B, "ship_return", "2026-11-14 10:00:00", E.AUTO_CLOSE, "pinduoduo.policy_buyer_return"),
        since="2026-11-07 10:00:00",
    ),
    Row(
        "exchange: the buyer sends the goods back",
        "after_sale",
        sale(15, 4),
        (B, "ship_return", "2026-11-15 00:00:00", E.AUTO_CLOSE, "pinduoduo.policy_buyer_return"),
        since="2026-11-08 00:00:00",
    ),
    Row(
        "repair: the buyer sends the item",
        "after_sale",
        sale(22, 6),
        (B, "ship_return", "2026-11-15 00:00:00", E.AUTO_CLOSE, "pinduoduo.policy_buyer_return"),
        since="2026-11-08 00:00:00",
    ),
    Row(
        "refund on refusal: the buyer refuses the parcel, no return clock",
        "after_sale",
        sale(31, 3),
        (B, "refuse_delivery", None, E.NOTHING, "pinduoduo.refuse_delivery"),
        since="2026-11-08 00:00:00",
    ),
    # --- returns on their way back ----------------------------------------------------------------------
    Row(
        "return shipped with PDD's time",
        "after_sale",
        sale(3, 3, tracking_number="SF100", expire="2026-11-12 18:00:00"),
        (M, "confirm_receipt", "2026-11-12 18:00:00", E.AUTO_REFUND, "pinduoduo.platform_confirm_return"),
    ),
    Row(
        "return shipped without PDD's time: 48 h (policy)",
        "after_sale",
        sale(3, 3, tracking_number="SF100", updated="2026-11-07 22:00:00"),
        (M, "confirm_receipt", "2026-11-09 22:00:00", E.OVERDUE, "pinduoduo.policy_confirm_return"),
        since="2026-11-07 22:00:00",
    ),
    Row(
        "return shipped: the shop's own 72 h",
        "after_sale",
        sale(3, 3, tracking_number="SF100"),
        (M, "confirm_receipt", "2026-11-10 22:00:00", E.OVERDUE, "pinduoduo.policy_confirm_return"),
        since="2026-11-07 22:00:00",
        settings={"confirm_return_within": "72h"},
    ),
    Row(
        "recall the parcel before PDD's time",
        "after_sale",
        sale(33, expire="2026-11-07 12:00:00"),
        (M, "recall_parcel", "2026-11-07 12:00:00", E.AUTO_REFUND, "pinduoduo.platform_recall"),
    ),
    Row(
        "recall without PDD's time",
        "after_sale",
        sale(33),
        (M, "recall_parcel", None, E.AUTO_REFUND, "pinduoduo.recall_without_time"),
        since="2026-11-07 12:00:00",
    ),
    # --- reship / exchange goods out ---------------------------------------------------------------
    Row(
        "reship with PDD's time",
        "after_sale",
        sale(32, 5, expire="2026-11-08 16:00:00"),
        (M, "ship", "2026-11-08 16:00:00", E.OVERDUE, "pinduoduo.platform_reship"),
    ),
    Row(
        "reship without PDD's time: 24 h (policy)",
        "after_sale",
        sale(32, 5),
        (M, "ship", "2026-11-08 16:30:00", E.OVERDUE, "pinduoduo.policy_reship"),
        since="2026-11-07 16:30:00",
    ),
    Row(
        "exchange goods came back: send the new ones",
        "after_sale",
        sale(14, 4, tracking_number="YT200"),
        (M, "ship", "2026-11-09 00:00:00", E.OVERDUE, "pinduoduo.policy_reship"),
        since="2026-11-08 00:00:00",
    ),
    Row(
        "exchange goods sent: the buyer confirms",
        "after_sale",
        sale(18, 4),
        (B, "confirm_receipt", None, E.AUTO_CONFIRM, "pinduoduo.buyer_confirms"),
    ),
    Row(
        "repaired goods sent: the buyer confirms",
        "after_sale",
        sale(27, 6),
        (B, "confirm_receipt", None, E.AUTO_CONFIRM, "pinduoduo.buyer_confirms"),
    ),
    Row("refund succeeded: nothing to do", "after_sale", sale(10), None),
    Row("buyer let it lapse: closed", "after_sale", sale(12), None),
    Row("buyer cancelled: closed", "after_sale", sale(11), None),
    # --- orders: the ship clock starts at group formation ----------------------------------------------
    Row(
        "PDD's promised ship time",
        "order",
        order(last_ship_time="2026-11-08 23:59:59"),
        (M, "ship", "2026-11-08 23:59:59", E.PENALTY, "pinduoduo.platform_ship_by"),
    ),
    Row(
        "group still forming: no ship clock yet",
        "order",
        order(group_status=0, confirm_status=0, last_ship_time="2026-11-08 20:01:00"),
        (P, "wait_for_group", None, E.NOTHING, "pinduoduo.group_forming"),
    ),
    Row(
        "group formed Friday 23:59:59 (paid 20:01): 48 h from formation",
        "order",
        order(),
        (M, "ship", "2026-11-08 23:59:59", E.PENALTY, "pinduoduo.ship_after_group"),
    ),
    Row(
        "group formed at midnight",
        "order",
        order(confirm_time="2026-11-07 00:00:00"),
        (M, "ship", "2026-11-09 00:00:00", E.PENALTY, "pinduoduo.ship_after_group"),
    ),
    Row(
        "no group data: from payment",
        "order",
        order(group_status=None, confirm_time=None, pay_time="2026-11-07 00:00:00"),
        (M, "ship", "2026-11-09 00:00:00", E.PENALTY, "pinduoduo.ship_after_group"),
    ),
    Row(
        "the shop's own 24 h",
        "order",
        order(),
        (M, "ship", "2026-11-07 23:59:59", E.PENALTY, "pinduoduo.ship_after_group"),
        settings={"ship_within": "24h"},
    ),
    Row(
        "unshipped with an after-sales case: hold, not ship",
        "order",
        order(refund_status=2, last_ship_time="2026-11-08 23:59:59"),
        (M, "hold_and_answer_refund", None, E.NOTHING, "pinduoduo.order_refund_hold"),
    ),
    Row(
        "shipped, not received: nothing",
        "order",
        order(order_status=2, shipping_time="2026-11-07 09:00:00"),
        None,
    ),
    Row(
        "received Saturday 22:00: 7 natural days from Sunday",
        "order",
        order(order_status=3, shipping_time="2026-11-07 09:00:00", receive_time="2026-11-07 22:00:00"),
        (
            B,
            "no_reason_return_window",
            "2026-11-15 00:00:00",
            E.WINDOW_CLOSES,
            "pinduoduo.no_reason_window_7d",
        ),
    ),
    Row(
        "received at midnight: the day after counts",
        "order",
        order(order_status=3, shipping_time="2026-11-07 09:00:00", receive_time="2026-11-08 00:00:00"),
        (
            B,
            "no_reason_return_window",
            "2026-11-16 00:00:00",
            E.WINDOW_CLOSES,
            "pinduoduo.no_reason_window_7d",
        ),
    ),
    Row(
        "received, after-sales open: the window still shows",
        "order",
        order(
            order_status=3,
            refund_status=2,
            shipping_time="2026-11-07 09:00:00",
            receive_time="2026-11-08 10:00:00",
        ),
        (
            B,
            "no_reason_return_window",
            "2026-11-16 00:00:00",
            E.WINDOW_CLOSES,
            "pinduoduo.no_reason_window_7d",
        ),
    ),
    Row("group failed: closed", "order", order(group_status=2), None),
    Row("cancelled: nothing", "order", order(confirm_status=2), None),
]

#: Rows no PDD record can reach through the mapper, with why (the rest must each have a scenario).
UNREACHABLE: dict[str, str] = {
    # completed orders always reach the no-reason window first: receive_time is both anchors
    "pinduoduo.quality_claim_15d": "due after the no-reason window on the same completion time",
    "pinduoduo.awaiting_return": "every awaiting_return code (7, 15, 22, 31) has its own row",
    "pinduoduo.return_shipped": "every return_shipped code (3, 33) has its own row",
    "pinduoduo.awaiting_reship": "awaiting_reship without expire_time always has a status_since clock",
}


def _subject(row: Row) -> AfterSale | Order:
    return map_after_sale(row.payload) if row.resource == "after_sale" else map_order(row.payload)


def test_the_table_is_large_enough_and_names_are_unique() -> None:
    assert len(ROWS) >= 40
    assert len({r.name for r in ROWS}) == len(ROWS)


def test_every_rule_row_is_exercised_by_a_scenario() -> None:
    exercised = {r.expect[4] for r in ROWS if r.expect is not None}
    assert {rule.id for rule in TABLE.rules} - exercised == set(UNREACHABLE)


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_scenario(row: Row) -> None:
    subject = _subject(row)
    since = bj(row.since) if row.since else None
    action = next_action(subject, TABLE, status_since=since, settings=dict(row.settings))
    if row.expect is None:
        assert action is None or action.party is Party.NONE, action
        return
    party, verb, due, expiry, rule_id = row.expect
    assert action is not None
    assert (action.party, action.action, action.on_expiry, action.rule_id) == (party, verb, expiry, rule_id)
    if due is None:
        assert action.due_at is None and action.no_clock_reason
    else:
        assert action.due_at is not None and action.due_at.astimezone(CST) == bj(due), action.due_at
    assert action.consequence_zh and action.consequence_en


def test_quality_window_follows_the_no_reason_window() -> None:
    """pinduoduo.quality_claim_15d: the shop's 15 natural days from completion, later than 7."""
    done = map_order(order(order_status=3, receive_time="2026-11-07 22:00:00"))
    rule = TABLE.rule("pinduoduo.quality_claim_15d")
    from hub.rules import rule_action

    window = rule_action(rule, done)
    assert window.due_at is not None and window.due_at.astimezone(CST) == bj("2026-11-23 00:00:00")
    assert window.party is Party.BUYER and window.on_expiry is OnExpiry.WINDOW_CLOSES
