"""The rule table: one test per row (named after it, citing its source), shop policy as settings,
and the sandbox clock proving what happens when PDD's expire_time passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.domain import AfterSale, DeadlineSource, OnExpiry, Order, Party
from hub.rules import Constraint, Rule, blocked_actions, check_table, next_deadline
from plugins.pinduoduo.adapter import PddAdapter
from plugins.pinduoduo.info import INFO
from plugins.pinduoduo.mapping import map_after_sale, map_order
from plugins.pinduoduo.rules import TABLE
from plugins.pinduoduo.sandbox import FakePddServer
from plugins.pinduoduo.sandbox_data import REFUND_PROCESSING

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


def case(code: int, list_type: int = 2, *, expire: datetime | None = None, **row: Any) -> AfterSale:
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
        payload["detail"] = {"expire_time": int(expire.timestamp() * 1000), "refund_amount": 1000}
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
        "updated_at": "2026-11-01 09:01:00",
    }
    base.update(fields)
    return map_order(base)


def test_table_is_well_formed_and_every_row_cites_a_source() -> None:
    assert check_table(TABLE) == []
    rows: list[Rule | Constraint] = [*TABLE.rules, *TABLE.constraints]
    for row in rows:
        assert any(ref in row.source for ref in ("platform-apis.md", "DOMAIN.md", "seed", "shop policy")), (
            row.id
        )


def test_every_policy_row_is_a_declared_setting_with_its_default() -> None:
    """A figure without a published source is shop policy: a setting the merchant can change."""
    settings = {s.name: s for s in INFO.settings}
    for rule in TABLE.rules:
        if rule.id.startswith("pinduoduo.policy_"):
            assert rule.setting in settings, rule.id
            default = settings[rule.setting].default
            assert default is not None
            unit = {"h": 3600, "d": 86400}[default[-1]]
            assert timedelta(seconds=float(default[:-1]) * unit) == rule.duration, rule.id
        else:
            assert rule.setting is None and rule.duration == timedelta(0), rule.id  # PDD's own time


def test_platform_reply() -> None:
    """pinduoduo.platform_reply: PDD's expire_time (platform-apis.md §2.3) is the deadline; auto-agree."""
    due = T0 + timedelta(hours=30)
    d = next_deadline(case(2, expire=due), TABLE, settings={"reply_within": "1h"})
    assert d is not None and d.due_at == due and d.source is DeadlineSource.PLATFORM
    assert (
        d.rule_id == "pinduoduo.platform_reply"
        and d.on_expiry is OnExpiry.AUTO_AGREE
        and d.party is Party.SELLER
    )


def test_platform_confirm_return() -> None:
    """pinduoduo.platform_confirm_return: expire_time on 3 + waybill (platform-apis.md §2.3); auto-refund."""
    due = T0 + timedelta(days=3)
    d = next_deadline(case(3, 3, expire=due, tracking_number="SF1"), TABLE)
    assert d is not None and d.due_at == due and d.rule_id == "pinduoduo.platform_confirm_return"
    assert d.action == "confirm_receipt" and d.on_expiry is OnExpiry.AUTO_REFUND


def test_platform_recall() -> None:
    """pinduoduo.platform_recall: expire_time on 33 同意召回后退款，待商家召回 (platform-apis.md §2.3)."""
    due = T0 + timedelta(hours=5)
    d = next_deadline(case(33, expire=due), TABLE)
    assert d is not None and d.due_at == due and d.rule_id == "pinduoduo.platform_recall"
    assert d.action == "recall_parcel" and d.on_expiry is OnExpiry.AUTO_REFUND


def test_platform_reship() -> None:
    """pinduoduo.platform_reship: expire_time on 32 补寄待商家发货 (platform-apis.md §2.3)."""
    due = T0 + timedelta(hours=20)
    d = next_deadline(case(32, 5, expire=due), TABLE)
    assert (
        d is not None and d.due_at == due and d.rule_id == "pinduoduo.platform_reship" and d.action == "ship"
    )


def test_platform_ship_by() -> None:
    """pinduoduo.platform_ship_by: last_ship_time 承诺发货时间 (platform-apis.md §2.2)."""
    d = next_deadline(order(last_ship_time="2026-11-03 09:01:00"), TABLE)
    assert d is not None and d.rule_id == "pinduoduo.platform_ship_by" and d.source is DeadlineSource.PLATFORM
    assert d.due_at == datetime(2026, 11, 3, 1, 1, tzinfo=UTC)


def test_policy_reply() -> None:
    """pinduoduo.policy_reply: shop policy, DOMAIN.md own procedures [004]: 24 h, changeable."""
    c = case(2)
    since = T0
    d = next_deadline(c, TABLE, status_since=since)
    assert d is not None and d.rule_id == "pinduoduo.policy_reply" and d.due_at == since + timedelta(hours=24)
    assert d.source is DeadlineSource.RULE and d.on_expiry is OnExpiry.OVERDUE
    d2 = next_deadline(c, TABLE, status_since=since, settings={"reply_within": "6h"})
    assert d2 is not None and d2.due_at == since + timedelta(hours=6)


def test_policy_confirm_return() -> None:
    """pinduoduo.policy_confirm_return: shop policy (no published PDD figure), default 48 h."""
    d = next_deadline(case(3, 3, tracking_number="SF1"), TABLE, status_since=T0)
    assert (
        d is not None
        and d.rule_id == "pinduoduo.policy_confirm_return"
        and d.due_at == T0 + timedelta(hours=48)
    )


def test_policy_reship() -> None:
    """pinduoduo.policy_reship: shop policy, same-day dispatch [004], default 24 h."""
    d = next_deadline(case(32, 5), TABLE, status_since=T0, settings={"reship_within": "12h"})
    assert d is not None and d.rule_id == "pinduoduo.policy_reship" and d.due_at == T0 + timedelta(hours=12)


def test_policy_buyer_return() -> None:
    """pinduoduo.policy_buyer_return: Taobao's 7 days as the default [001, 003]; PDD closes (status 12)."""
    d = next_deadline(case(7, 3), TABLE, status_since=T0)
    assert d is not None and d.rule_id == "pinduoduo.policy_buyer_return" and d.party is Party.BUYER
    assert d.due_at == T0 + timedelta(days=7) and d.on_expiry is OnExpiry.AUTO_CLOSE


def test_policy_ship() -> None:
    """pinduoduo.policy_ship: shop policy, the 48 h early warning before 72 h [004]."""
    o = order(last_ship_time="")
    d = next_deadline(o, TABLE)
    assert d is not None and d.rule_id == "pinduoduo.policy_ship"
    assert o.paid_at is not None and d.due_at == o.paid_at + timedelta(hours=24)


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


def test_every_rule_row_has_its_own_test() -> None:
    """One test per row, named after it (test_<row>), so a new row cannot land untested."""
    for rule in TABLE.rules:
        assert f"test_{rule.id.split('.', 1)[1]}" in globals(), rule.id
    assert {c.id for c in TABLE.constraints} == {row[2] for row in CONSTRAINT_ROWS}
