"""Scenario table: raw TOP records (trades, refunds, Tmall disputes) through the real mapper to the
next action an agent sees (party, action, due time, on expiry), via the core's
:func:`hub.rules.next_action`. Times are written in Beijing time; 2026-11-06 is a Friday, so
several rows run over the weekend, and several start at or just before midnight."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from hub.clock import CST
from hub.domain import AfterSale, OnExpiry, Order, Party
from hub.rules import next_action
from plugins.taobao.mapping import map_dispute, map_refund, map_trade
from plugins.taobao.rules import RULE_TABLE

M, B, P = Party.MERCHANT, Party.BUYER, Party.PLATFORM
E = OnExpiry


def bj(text: str) -> datetime:
    """A Beijing wall-clock time ``YYYY-MM-DD HH:MM:SS`` as aware UTC."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST).astimezone(CST)


@dataclass(frozen=True)
class Row:
    name: str
    resource: str  #: refund, dispute or trade
    payload: Mapping[str, Any]
    #: (party, action, due in Beijing time or None, on_expiry, rule id), or None: no next action
    expect: tuple[Party, str, str | None, OnExpiry, str] | None
    since: str | None = None  #: when the store first saw the current status (Beijing time)
    settings: Mapping[str, str] = field(default_factory=dict)


def refund(status: str, created: str = "2026-11-06 23:30:00", **fields: Any) -> dict[str, Any]:
    return {
        "refund_id": "9001",
        "tid": "8001",
        "oid": "8001",
        "status": status,
        "created": created,
        "modified": fields.pop("modified", created),
        "refund_fee": "59.00",
        "total_fee": "59.00",
        "has_good_return": False,
        "order_status": "WAIT_BUYER_CONFIRM_GOODS",
        "reason": "不想要了",
        **fields,
    }


def dispute(status: str, created: str = "2026-11-06 10:00:00", **fields: Any) -> dict[str, Any]:
    return {
        "refund_id": "7001",
        "biz_order_id": "8002",
        "status": status,
        "dispute_request": "换货",
        "created": created,
        "modified": fields.pop("modified", created),
        "refund_fee": "0.00",
        "order_status": "WAIT_BUYER_CONFIRM_GOODS",
        **fields,
    }


def trade(status: str, paid: str | None = "2026-11-06 23:59:59", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "tid": "8001",
        "status": status,
        "payment": "200.00",
        "total_fee": "200.00",
        "created": "2026-11-06 20:00:00",
        "modified": fields.pop("modified", paid or "2026-11-06 20:00:00"),
        "orders": {
            "order": [{"oid": "8001", "status": status, "payment": "200.00", "price": "200.00", "num": 1}]
        },
    }
    if paid:
        base["pay_time"] = paid
    return {**base, **fields}


def trace(*steps: tuple[str, str]) -> dict[str, Any]:
    return {"transit_step_info": [{"action": a, "status_desc": a, "status_time": t} for a, t in steps]}


SHIPPED = "2026-11-06 15:00:00"

ROWS: list[Row] = [
    # --- refund requests: the 72-hour answer rule, over the weekend and at midnight ----------------
    Row(
        "refund over the weekend",
        "refund",
        refund("WAIT_SELLER_AGREE"),
        (M, "reply", "2026-11-09 23:30:00", E.AUTO_AGREE, "taobao.refund_reply_72h"),
    ),
    Row(
        "refund at midnight",
        "refund",
        refund("WAIT_SELLER_AGREE", created="2026-11-07 00:00:00"),
        (M, "reply", "2026-11-10 00:00:00", E.AUTO_AGREE, "taobao.refund_reply_72h"),
    ),
    Row(
        "refund one second before midnight",
        "refund",
        refund("WAIT_SELLER_AGREE", created="2026-11-06 23:59:59"),
        (M, "reply", "2026-11-09 23:59:59", E.AUTO_AGREE, "taobao.refund_reply_72h"),
    ),
    Row(
        "a later message never moves the clock",
        "refund",
        refund("WAIT_SELLER_AGREE", modified="2026-11-08 18:00:00"),
        (M, "reply", "2026-11-09 23:30:00", E.AUTO_AGREE, "taobao.refund_reply_72h"),
        since="2026-11-08 18:00:00",
    ),
    Row(
        "unshipped refund: hold the parcel, never ship",
        "refund",
        refund("WAIT_SELLER_AGREE", order_status="WAIT_SELLER_SEND_GOODS"),
        (M, "hold_and_refund", "2026-11-09 23:30:00", E.AUTO_AGREE, "taobao.unshipped_refund_72h"),
    ),
    Row(
        "return request",
        "refund",
        refund("WAIT_SELLER_AGREE", has_good_return=True, reason="尺码不合适"),
        (M, "reply", "2026-11-09 23:30:00", E.AUTO_AGREE, "taobao.return_reply_72h"),
    ),
    Row(
        "7-day no-reason return request",
        "refund",
        refund("WAIT_SELLER_AGREE", has_good_return=True, reason="七天无理由退换货"),
        (M, "reply", "2026-11-09 23:30:00", E.AUTO_AGREE, "taobao.return_reply_72h"),
    ),
    Row(
        "the platform's own timeout wins",
        "refund",
        refund(
            "WAIT_SELLER_AGREE",
            refund_remind_timeout={"exist_timeout": True, "remind_type": 1, "timeout": "2026-11-08 12:00:00"},
        ),
        (M, "reply", "2026-11-08 12:00:00", E.AUTO_AGREE, "taobao.refund_reply_72h"),
    ),
    Row(
        "price protection (compensation)",
        "refund",
        refund("WAIT_SELLER_AGREE", special_refund_type="priceProtect"),
        (M, "reply", "2026-11-09 23:30:00", E.AUTO_AGREE, "taobao.refund_reply_72h"),
    ),
    Row(
        "exchange request: shop policy 72 h",
        "refund",
        refund("WAIT_SELLER_AGREE", dispute_type="TAOBAO_EXCHANGE"),
        (M, "reply", "2026-11-09 23:30:00", E.OVERDUE, "taobao.exchange_reply"),
    ),
    Row(
        "exchange request: the shop's own 24 h",
        "refund",
        refund("WAIT_SELLER_AGREE", dispute_type="TAOBAO_EXCHANGE"),
        (M, "reply", "2026-11-07 23:30:00", E.OVERDUE, "taobao.exchange_reply"),
        settings={"exchange_reply_within": "24h"},
    ),
    Row(
        "repair request",
        "refund",
        refund("WAIT_SELLER_AGREE", dispute_type="REPAIR"),
        (M, "reply", "2026-11-09 23:30:00", E.OVERDUE, "taobao.exchange_reply"),
    ),
    Row(
        "reship request",
        "refund",
        refund("WAIT_SELLER_AGREE", dispute_type="RESHIPPING"),
        (M, "reply", "2026-11-09 23:30:00", E.OVERDUE, "taobao.exchange_reply"),
    ),
    Row(
        "unknown refund status: check, no invented clock",
        "refund",
        refund("WAIT_SOMETHING_NEW"),
        (M, "check_in_backend", None, E.NOTHING, "taobao.requested_unknown"),
    ),
    # --- after a refusal ----------------------------------------------------------------------------
    Row(
        "refused: escalation opens 72 h after the request",
        "refund",
        refund("SELLER_REFUSE_BUYER", modified="2026-11-07 09:00:00"),
        (B, "modify_or_escalate", "2026-11-09 23:30:00", E.ESCALATION_OPENS, "taobao.escalation_72h"),
        since="2026-11-07 09:00:00",
    ),
    # --- the return leg -------------------------------------------------------------------------------
    Row(
        "return agreed on Saturday: 7 days for the buyer",
        "refund",
        refund("WAIT_BUYER_RETURN_GOODS", has_good_return=True, modified="2026-11-07 10:00:00"),
        (B, "ship_return", "2026-11-14 10:00:00", E.AUTO_CLOSE, "taobao.buyer_return_7d"),
        since="2026-11-07 10:00:00",
    ),
    Row(
        "return agreed one second before midnight",
        "refund",
        refund("WAIT_BUYER_RETURN_GOODS", has_good_return=True, modified="2026-11-07 23:59:59"),
        (B, "ship_return", "2026-11-14 23:59:59", E.AUTO_CLOSE, "taobao.buyer_return_7d"),
        since="2026-11-07 23:59:59",
    ),
    Row(
        "return shipped: 10 days from good_return_time",
        "refund",
        refund(
            "WAIT_SELLER_CONFIRM_GOODS",
            has_good_return=True,
            good_return_time="2026-11-08 08:00:00",
            modified="2026-11-11 09:00:00",
        ),
        (M, "confirm_receipt", "2026-11-18 08:00:00", E.AUTO_REFUND, "taobao.seller_confirm_10d"),
        since="2026-11-11 09:00:00",
    ),
    Row(
        "return shipped without good_return_time: from the status",
        "refund",
        refund("WAIT_SELLER_CONFIRM_GOODS", has_good_return=True, modified="2026-11-09 00:00:00"),
        (M, "confirm_receipt", "2026-11-19 00:00:00", E.AUTO_REFUND, "taobao.seller_confirm_10d"),
        since="2026-11-09 00:00:00",
    ),
    Row(
        "exchange goods sent back: shop policy 10 days",
        "refund",
        refund(
            "WAIT_SELLER_CONFIRM_GOODS",
            dispute_type="TAOBAO_EXCHANGE",
            good_return_time="2026-11-08 08:00:00",
        ),
        (M, "confirm_receipt", "2026-11-18 08:00:00", E.OVERDUE, "taobao.exchange_confirm_return"),
    ),
    Row(
        "exchange: send the new goods within a day",
        "refund",
        refund("WAIT_SELLER_CONSIGN_GOODS", dispute_type="TAOBAO_EXCHANGE", modified="2026-11-07 16:30:00"),
        (M, "ship", "2026-11-08 16:30:00", E.OVERDUE, "taobao.reship_24h"),
        since="2026-11-07 16:30:00",
    ),
    Row(
        "exchange goods on their way: the buyer confirms",
        "refund",
        refund("WAIT_BUYER_CONFIRM_EXCHANGE_SELLER_SEND_GOODS", dispute_type="TAOBAO_EXCHANGE"),
        (B, "confirm_receipt", None, E.AUTO_CONFIRM, "taobao.buyer_confirm_exchange"),
    ),
    # --- Taobao customer service (客服介入) -----------------------------------------------------------
    Row(
        "intervention asked: prepare the evidence (24 h)",
        "refund",
        refund("SELLER_REFUSE_BUYER", cs_status=2, modified="2026-11-07 22:00:00"),
        (M, "submit_evidence", "2026-11-08 22:00:00", E.OVERDUE, "taobao.intervention_reply"),
        since="2026-11-07 22:00:00",
    ),
    Row(
        "intervention: the shop's own 6 h",
        "refund",
        refund("SELLER_REFUSE_BUYER", cs_status=3),
        (M, "submit_evidence", "2026-11-07 04:00:00", E.OVERDUE, "taobao.intervention_reply"),
        since="2026-11-06 22:00:00",
        settings={"intervention_reply_within": "6h"},
    ),
    Row(
        "举证中: evidence within 24 h, else ruled on what Taobao has",
        "refund",
        refund("SELLER_REFUSE_BUYER", cs_status=10, modified="2026-11-08 09:00:00"),
        (M, "submit_evidence", "2026-11-08 09:00:00", E.RULED_AGAINST, "taobao.evidence_upload"),
        since="2026-11-07 09:00:00",
    ),
    Row(
        "举证中 with the platform's timeout",
        "refund",
        refund(
            "SELLER_REFUSE_BUYER",
            cs_status=10,
            refund_remind_timeout={"exist_timeout": True, "timeout": "2026-11-10 18:00:00"},
        ),
        (M, "submit_evidence", "2026-11-10 18:00:00", E.RULED_AGAINST, "taobao.evidence_upload"),
        since="2026-11-07 09:00:00",
    ),
    Row(
        "appeal opened while the refund is open",
        "refund",
        refund("WAIT_SELLER_AGREE", cs_status=11),
        (M, "appeal", "2026-11-10 09:00:00", E.WINDOW_CLOSES, "taobao.appeal_window"),
        since="2026-11-07 09:00:00",
    ),
    Row(
        "unknown intervention step: Taobao decides",
        "refund",
        refund("SELLER_REFUSE_BUYER", cs_status=42),
        (P, "review", None, E.NOTHING, "taobao.platform_review"),
        since="2026-11-07 09:00:00",
    ),
    Row("refund succeeded: nothing to do", "refund", refund("SUCCESS"), None),
    Row("refund closed: nothing to do", "refund", refund("CLOSED"), None),
    # --- Tmall exchange disputes -------------------------------------------------------------------
    Row(
        "Tmall exchange with its own time_out",
        "dispute",
        dispute("1", time_out="2026-11-08 10:00:00"),
        (M, "reply", "2026-11-08 10:00:00", E.OVERDUE, "taobao.exchange_reply"),
    ),
    Row(
        "Tmall exchange without time_out",
        "dispute",
        dispute("1"),
        (M, "reply", "2026-11-09 10:00:00", E.OVERDUE, "taobao.exchange_reply"),
    ),
    Row(
        "Tmall exchange: the buyer returns the goods",
        "dispute",
        dispute("2"),
        (B, "ship_return", "2026-11-14 09:00:00", E.AUTO_CLOSE, "taobao.buyer_return_7d"),
        since="2026-11-07 09:00:00",
    ),
    Row(
        "Tmall exchange: goods back, confirm",
        "dispute",
        dispute("3", good_return_time="2026-11-08 20:00:00"),
        (M, "confirm_receipt", "2026-11-18 20:00:00", E.OVERDUE, "taobao.exchange_confirm_return"),
    ),
    Row(
        "Tmall exchange: send the new goods",
        "dispute",
        dispute("12"),
        (M, "ship", "2026-11-08 09:00:00", E.OVERDUE, "taobao.reship_24h"),
        since="2026-11-07 09:00:00",
    ),
    Row(
        "Tmall exchange: the buyer receives",
        "dispute",
        dispute("13"),
        (B, "confirm_receipt", None, E.AUTO_CONFIRM, "taobao.buyer_confirm_exchange"),
    ),
    Row(
        "Tmall exchange: the buyer must change the request",
        "dispute",
        dispute("6"),
        (B, "modify_or_escalate", "2026-11-09 10:00:00", E.ESCALATION_OPENS, "taobao.escalation_72h"),
    ),
    Row(
        "Tmall return: confirm the return address first",
        "dispute",
        dispute("8", dispute_request="退货退款"),
        (M, "confirm_return_address", "2026-11-09 10:00:00", E.OVERDUE, "taobao.return_address"),
    ),
    Row(
        "Tmall return address with Tmall's time_out",
        "dispute",
        dispute("8", dispute_request="退货退款", time_out="2026-11-07 10:00:00"),
        (M, "confirm_return_address", "2026-11-07 10:00:00", E.OVERDUE, "taobao.return_address"),
    ),
    Row(
        "Tmall refund request (dispute table)",
        "dispute",
        dispute("1", dispute_request="仅退款"),
        (M, "reply", "2026-11-09 10:00:00", E.AUTO_AGREE, "taobao.refund_reply_72h"),
    ),
    Row(
        "Tmall exchange turned into a refund",
        "dispute",
        dispute("14"),
        (M, "agree_refund", None, E.OVERDUE, "taobao.tmall_refund_requested"),
    ),
    # --- orders: ship clocks ----------------------------------------------------------------------
    Row(
        "paid Friday 23:59:59: ship by Monday 23:59:59 or pay 5 %",
        "trade",
        trade("WAIT_SELLER_SEND_GOODS"),
        (M, "ship", "2026-11-09 23:59:59", E.PENALTY, "taobao.late_shipment_72h"),
    ),
    Row(
        "paid at midnight",
        "trade",
        trade("WAIT_SELLER_SEND_GOODS", paid="2026-11-07 00:00:00"),
        (M, "ship", "2026-11-10 00:00:00", E.PENALTY, "taobao.late_shipment_72h"),
    ),
    Row(
        "the shop's listings all promise 48 h",
        "trade",
        trade("WAIT_SELLER_SEND_GOODS"),
        (M, "ship", "2026-11-08 23:59:59", E.PENALTY, "taobao.late_shipment_72h"),
        settings={"default_ship_within": "48h"},
    ),
    Row(
        "the listing promises 24 h",
        "trade",
        trade("WAIT_SELLER_SEND_GOODS", consign_interval=24),
        (M, "ship", "2026-11-07 23:59:59", E.PENALTY, "taobao.ship_promised"),
    ),
    Row(
        "latest ship date: the end of that Beijing day",
        "trade",
        trade("WAIT_SELLER_SEND_GOODS", delivery_time="2026-11-08"),
        (M, "ship", "2026-11-09 00:00:00", E.PENALTY, "taobao.ship_promised"),
    ),
    Row(
        "latest ship time to the second",
        "trade",
        trade("WAIT_SELLER_SEND_GOODS", delivery_time="2026-11-08 18:00:00"),
        (M, "ship", "2026-11-08 18:00:00", E.PENALTY, "taobao.ship_promised"),
    ),
    Row(
        "part shipped: the rest is still owed",
        "trade",
        trade("SELLER_CONSIGNED_PART"),
        (M, "ship", "2026-11-09 23:59:59", E.PENALTY, "taobao.late_shipment_72h"),
    ),
    Row(
        "presale without a ship time: no 72 h clock",
        "trade",
        trade("WAIT_SELLER_SEND_GOODS", type="step", step_trade_status="FRONT_PAID_FINAL_PAID"),
        (M, "ship", None, E.NOTHING, "taobao.presale_ship"),
    ),
    Row(
        "presale with its send_time",
        "trade",
        trade(
            "WAIT_SELLER_SEND_GOODS",
            type="step",
            step_trade_status="FRONT_PAID_FINAL_PAID",
            send_time="2026-11-20 12:00:00",
        ),
        (M, "ship", "2026-11-20 12:00:00", E.PENALTY, "taobao.ship_promised"),
    ),
    Row(
        "unshipped with an open refund: hold, not ship",
        "trade",
        trade(
            "WAIT_SELLER_SEND_GOODS",
            orders={
                "order": [
                    {
                        "oid": "8001",
                        "status": "WAIT_SELLER_SEND_GOODS",
                        "refund_status": "WAIT_SELLER_AGREE",
                        "payment": "200.00",
                    }
                ]
            },
        ),
        (M, "hold_and_answer_refund", None, E.NOTHING, "taobao.order_refund_hold"),
    ),
    Row(
        "a line refunded at once (极速退款): ship only the rest",
        "trade",
        trade(
            "WAIT_SELLER_SEND_GOODS",
            orders={
                "order": [
                    {"oid": "8001", "status": "TRADE_CLOSED", "refund_status": "SUCCESS", "payment": "80.00"},
                    {"oid": "8003", "status": "WAIT_SELLER_SEND_GOODS", "payment": "120.00"},
                ]
            },
        ),
        (M, "ship_remaining_lines", "2026-11-09 23:59:59", E.PENALTY, "taobao.ship_remaining_lines"),
    ),
    Row(
        "shipping forbidden by Taobao",
        "trade",
        trade("PAID_FORBID_CONSIGN"),
        (P, "wait", None, E.NOTHING, "taobao.ship_forbidden"),
    ),
    Row("unpaid order: nothing yet", "trade", trade("WAIT_BUYER_PAY", paid=None), None),
    # --- orders: after shipment -------------------------------------------------------------------
    Row(
        "shipped, not picked up: check within 24 h (fake shipment)",
        "trade",
        trade(
            "WAIT_BUYER_CONFIRM_GOODS",
            consign_time=SHIPPED,
            logistics_trace=trace(("CONSIGN", SHIPPED)),
        ),
        (M, "check_pickup", "2026-11-07 15:00:00", E.OVERDUE, "taobao.pickup_check"),
    ),
    Row(
        "shipped and picked up: nothing until sign-for",
        "trade",
        trade(
            "WAIT_BUYER_CONFIRM_GOODS",
            consign_time=SHIPPED,
            logistics_trace=trace(("CONSIGN", SHIPPED), ("GOT", "2026-11-06 18:00:00")),
        ),
        None,
    ),
    Row(
        "shipped, trace not read: nothing",
        "trade",
        trade("WAIT_BUYER_CONFIRM_GOODS", consign_time=SHIPPED),
        None,
    ),
    Row(
        "signed Saturday 23:59: the 7 natural days start Sunday 00:00",
        "trade",
        trade(
            "WAIT_BUYER_CONFIRM_GOODS",
            consign_time=SHIPPED,
            logistics_trace=trace(("GOT", "2026-11-06 18:00:00"), ("SIGNED", "2026-11-07 23:59:00")),
        ),
        (B, "no_reason_return_window", "2026-11-15 00:00:00", E.WINDOW_CLOSES, "taobao.no_reason_window_7d"),
    ),
    Row(
        "signed Sunday 00:00:01: a day later",
        "trade",
        trade(
            "WAIT_BUYER_CONFIRM_GOODS",
            consign_time=SHIPPED,
            logistics_trace=trace(("GOT", "2026-11-06 18:00:00"), ("SIGNED", "2026-11-08 00:00:01")),
        ),
        (B, "no_reason_return_window", "2026-11-16 00:00:00", E.WINDOW_CLOSES, "taobao.no_reason_window_7d"),
    ),
    Row(
        "signed per the status words only",
        "trade",
        trade(
            "WAIT_BUYER_CONFIRM_GOODS",
            consign_time=SHIPPED,
            logistics_trace={
                "transit_step_info": [
                    {"status_desc": "您的快件已签收，签收人：本人", "status_time": "2026-11-09 12:00:00"}
                ]
            },
        ),
        (B, "no_reason_return_window", "2026-11-17 00:00:00", E.WINDOW_CLOSES, "taobao.no_reason_window_7d"),
    ),
    Row(
        "trade success after sign-for: the no-reason window comes first",
        "trade",
        trade(
            "TRADE_FINISHED",
            consign_time=SHIPPED,
            end_time="2026-11-10 09:00:00",
            logistics_trace=trace(("GOT", "2026-11-06 18:00:00"), ("SIGNED", "2026-11-08 10:00:00")),
        ),
        (B, "no_reason_return_window", "2026-11-16 00:00:00", E.WINDOW_CLOSES, "taobao.no_reason_window_7d"),
    ),
    Row(
        "trade success, no trace: the shop's 15-day quality window",
        "trade",
        trade("TRADE_FINISHED", consign_time=SHIPPED, end_time="2026-11-10 09:00:00"),
        (B, "quality_claim_window", "2026-11-26 00:00:00", E.WINDOW_CLOSES, "taobao.quality_claim_15d"),
    ),
    Row("closed after a refund: nothing", "trade", trade("TRADE_CLOSED"), None),
]


def _subject(row: Row) -> AfterSale | Order:
    if row.resource == "refund":
        return map_refund(row.payload)
    if row.resource == "dispute":
        return map_dispute(row.payload)
    return map_trade(row.payload)


def test_the_table_is_large_enough_and_names_are_unique() -> None:
    assert len(ROWS) >= 40
    assert len({r.name for r in ROWS}) == len(ROWS)


def test_every_rule_row_is_exercised_by_a_scenario() -> None:
    exercised = {r.expect[4] for r in ROWS if r.expect is not None}
    assert {rule.id for rule in RULE_TABLE.rules} <= exercised


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_scenario(row: Row) -> None:
    subject = _subject(row)
    since = bj(row.since) if row.since else None
    action = next_action(subject, RULE_TABLE, status_since=since, settings=dict(row.settings))
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


def test_late_shipment_penalty_is_computed_in_fen() -> None:
    action = next_action(map_trade(trade("WAIT_SELLER_SEND_GOODS")), RULE_TABLE)
    assert action is not None and action.penalty_fen == 1000  # 5 % of 200 yuan, under the 30-yuan cap


def test_weekend_changes_nothing_for_elapsed_clocks() -> None:
    """Taobao's 72 h counts every hour, weekends included."""
    fri = next_action(map_refund(refund("WAIT_SELLER_AGREE", created="2026-11-06 12:00:00")), RULE_TABLE)
    assert fri is not None and fri.due_at is not None
    assert fri.due_at - bj("2026-11-06 12:00:00") == timedelta(hours=72)
