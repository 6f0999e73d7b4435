"""One test per rule row; the docstrings cite each row's source (17网's dropship after-sales FAQ)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hub.domain import OnExpiry, Party
from hub.rules import blocked_actions, check_table, check_totality, next_action, next_deadline
from plugins.seventeen.info import INFO
from plugins.seventeen.mapping import map_raw
from plugins.seventeen.rules import FAQ, SHOP_POLICY, STATES, TABLE

from .helpers import entry, order_row, records, return_row

SHIPPED = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 2026-11-02 10:00 Beijing


def mapped(raw):  # type: ignore[no-untyped-def]
    return map_raw(raw.resource, raw.payload, raw.updated_at)


def test_table_is_clean_and_every_row_cites_its_source_in_words() -> None:
    assert check_table(TABLE) == []
    for row in (*TABLE.rules, *TABLE.constraints):
        assert row.source.startswith((FAQ, SHOP_POLICY)), row.id
        assert ".md" not in row.source and "seeds" not in row.source, row.id  # words, never a path
    for rule in TABLE.rules:
        assert rule.start_event and rule.start_event_zh, rule.id
        assert "updated_at" not in rule.anchors, rule.id
        assert rule.policy == rule.source.startswith(SHOP_POLICY), rule.id
    assert {r.id for r in TABLE.rules if r.policy} == {"seventeen.ship_return", "seventeen.refused_send_back"}
    assert all(r.setting for r in TABLE.rules if r.policy)


def test_every_state_the_mapping_produces_has_an_answer() -> None:
    """Totality: every open (kind, status) waiting on the merchant has a clock or a no-clock row."""
    assert TABLE.states == STATES and len(STATES) == 14
    assert check_totality(TABLE, INFO.merchant_side) == []
    assert check_totality(TABLE) == []
    # the two merchant-side states the demo had without a clock now carry one
    for status in ("awaiting_return", "seller_refused"):
        rows = [r for r in TABLE.rules if r.match.covers("return_refund", status) and not r.match.conditional]
        assert rows and all(r.party is Party.MERCHANT and r.duration is not None for r in rows), status


def test_auto_confirm_12_days_after_shipment() -> None:
    """17网 FAQ 备注(1): 自发货起自动确认收货时间为12天; 订单交易成功后不支持线上申请退货."""
    o = mapped(records([[order_row()]])[0]["1726110100001"])
    d = next_deadline(o, TABLE)
    assert d is not None and d.rule_id == "seventeen.auto_confirm"
    assert d.due_at == SHIPPED + timedelta(days=12) and d.on_expiry is OnExpiry.AUTO_CONFIRM
    assert d.party is Party.MERCHANT and d.action == "extend_receipt"


def test_extension_replaces_the_original_deadline() -> None:
    """17网 FAQ 备注(1): 操作延长收货 最多可延长7天 — the extended time replaces the 12-day one."""
    ledger = [
        entry("extend_receipt", "1726110100001", SHIPPED + timedelta(days=10), resource="purchase", days=5)
    ]
    o = mapped(records([[order_row()]], [], ledger)[0]["1726110100001"])
    d = next_deadline(o, TABLE)
    assert d is not None and d.rule_id == "seventeen.auto_confirm_extended"
    assert d.due_at == SHIPPED + timedelta(days=17) and d.on_expiry is OnExpiry.AUTO_CONFIRM
    ledger = [
        entry("extend_receipt", "1726110100001", SHIPPED + timedelta(days=10), resource="purchase", days=30)
    ]
    o = mapped(records([[order_row()]], [], ledger)[0]["1726110100001"])
    assert next_deadline(o, TABLE).due_at == SHIPPED + timedelta(days=19)  # type: ignore[union-attr]


def test_no_deadline_after_trade_success() -> None:
    """17网 FAQ 备注(1): after trade success nothing is pending (and no online return)."""
    o = mapped(
        records([[order_row(status="交易成功", completed_at="2026-11-14 10:00:00")]])[0]["1726110100001"]
    )
    assert next_deadline(o, TABLE) is None


def test_open_application_warns_of_auto_confirm() -> None:
    """17网 FAQ 备注(1): 有售后问题需要处理的情况下 … 操作延长收货."""
    _, returns = records([[order_row()]], [return_row()])
    d = next_deadline(mapped(returns["TH1"]), TABLE)
    assert d is not None and d.rule_id == "seventeen.apply_before_auto_confirm"
    assert d.due_at == SHIPPED + timedelta(days=12)
    _, returns = records([[order_row(status="退货中")]], [return_row()])
    assert next_deadline(mapped(returns["TH1"]), TABLE) is None  # 17网 holds an order in 退货中


def test_unclaimed_parcel_is_scrapped_after_15_days() -> None:
    """17网 FAQ 备注(3): 未在线上申请退货的包裹 … 超过 15 天无人认领,包裹将被集中报废处理."""
    signed = datetime(2026, 11, 8, tzinfo=UTC)
    ledger = [entry("daifa_signed", "X1", signed)]
    _, returns = records([[order_row()]], [], ledger)
    case = mapped(returns["X1"])
    d = next_deadline(case, TABLE)
    assert d is not None and d.rule_id == "seventeen.unclaimed_scrapped"
    assert d.due_at == signed + timedelta(days=15) and d.on_expiry is OnExpiry.SCRAPPED
    assert d.action == "claim_return" and d.party is Party.MERCHANT


def test_processing_3_to_5_days_after_signing_then_overdue() -> None:
    """17网 FAQ 退货流程(4): 代发签收包裹后的 3-5 天内进行退货处理; 大促、节假日可能有延迟 (setting)."""
    _, returns = records(
        [[order_row()]],
        [return_row(status="代发已签收", return_waybill="SF1", daifa_signed_at="2026-11-08 10:00:00")],
    )
    case = mapped(returns["TH1"])
    signed = datetime(2026, 11, 8, 2, tzinfo=UTC)
    d = next_deadline(case, TABLE)
    assert d is not None and d.rule_id == "seventeen.return_processing"
    assert (
        d.due_at == signed + timedelta(days=5)
        and d.on_expiry is OnExpiry.OVERDUE
        and d.party is Party.SUPPLIER
    )
    slow = next_deadline(case, TABLE, settings={"return_processing": "9d"})
    assert slow is not None and slow.due_at == signed + timedelta(days=9)


def test_out_of_stock_three_days_then_ship_what_is_there() -> None:
    """17网 FAQ 缺货: 下单三天有货先发 … 超出三天还未拿到货的话,代发会直接将您有货的商品先行发出."""
    o = mapped(
        records([[order_row(status="缺货", shipped_at="", ship_option="下单三天有货先发")]])[0][
            "1726110100001"
        ]
    )
    d = next_deadline(o, TABLE)
    assert d is not None and d.rule_id == "seventeen.out_of_stock_3d"
    assert d.due_at == datetime(2026, 11, 4, 2, tzinfo=UTC) and d.party is Party.SUPPLIER
    plain = mapped(
        records([[order_row(status="缺货", shipped_at="", ship_option="等齐再发")]])[0]["1726110100001"]
    )
    assert next_deadline(plain, TABLE) is None
    waiting = next_action(plain, TABLE)
    assert waiting is not None and waiting.rule_id == "seventeen.out_of_stock_wait"
    assert waiting.party is Party.SUPPLIER and waiting.due_at is None and waiting.no_clock_reason


def test_constraints() -> None:
    """17网 FAQ: no waybill before applying; no return after trade success; no exchange; discontinued."""
    _, returns = records(
        [[order_row()]], [], [entry("daifa_signed", "X1", datetime(2026, 11, 8, tzinfo=UTC))]
    )
    case = mapped(returns["X1"])
    blocked = blocked_actions(case, TABLE, lang="en")
    assert "enter_return_waybill" in blocked and "exchange" in blocked
    done = replace(case, facts={**case.facts, "order_completed": True})
    assert "apply_return" in blocked_actions(done, TABLE)
    o = mapped(records([[order_row(status="下架退款中", item_status="已下架")]])[0]["1726110100001"])
    assert "apply_return" in blocked_actions(o, TABLE)


def test_every_rule_has_its_section_in_the_rule_doc() -> None:
    """docs/rules/seventeen.md: one `### <rule id>` section per row, with start event and source."""
    import re
    from pathlib import Path

    doc = (Path(__file__).parents[3] / "docs" / "rules" / "seventeen.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^### (\S+)\n(.*?)(?=^##|\Z)", doc, flags=re.M | re.S))
    ids = {r.id for r in (*TABLE.rules, *TABLE.constraints)}
    assert set(sections) == ids
    for rule in TABLE.rules:
        text = sections[rule.id]
        assert "**Statement**" in text and "**Source**" in text and "**Start event**" in text, rule.id
        assert "**Consequence**" in text and "**Figure**" in text, rule.id
        if rule.duration is not None:
            assert ("natural days" if rule.counting == "natural_days" else "elapsed") in text, rule.id
        if rule.policy:
            assert "shop policy" in text and f"`{rule.setting}`" in text, rule.id
    for setting in INFO.settings:
        if setting.default not in (None, "") and setting.name not in ("import_dir", "columns"):
            assert f"`{setting.name}`" in doc, setting.name


def test_a_clock_setting_that_cannot_be_read_fails_the_shop_naming_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from hub.errors import ConfigError
    from plugins.seventeen.rules import check_duration_settings

    from .conftest import NOW, make_adapter

    check_duration_settings({"return_ship_days": "5d", "return_processing": "36h", "sale_ship_window": ""})
    for settings, words in (
        ({"return_ship_days": "36h"}, "whole days"),
        ({"refused_followup_days": "soon"}, "not a duration"),
        ({"return_processing": "0d"}, "longer than zero"),
        ({"sale_ship_window": "2 days"}, "sale_ship_window"),
    ):
        with pytest.raises(ConfigError, match=words):
            make_adapter(settings, tmp_path, lambda: NOW).resources()
