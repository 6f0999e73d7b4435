"""Mapping: purchases to Orders (role purchase, links), returns to AfterSale cases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.domain import AfterSaleKind, AfterSaleStatus, OrderRole, OrderStatus
from hub.errors import MappingError
from plugins.seventeen.mapping import map_raw, recipient_key, sale_ids_in, sku_key

from .helpers import entry, order_row, records, return_row


def mapped(raw):  # type: ignore[no-untyped-def]
    return map_raw(raw.resource, raw.payload, raw.updated_at)


def test_purchase_becomes_a_purchase_order_with_link_hints() -> None:
    purchases, _ = records([[order_row(), order_row(color="白色", quantity="2")]])
    o = mapped(purchases["1726110100001"])
    assert o.role is OrderRole.PURCHASE and o.status is OrderStatus.SHIPPED and o.platform_status == "已发货"
    assert [ln.quantity for ln in o.lines] == [1, 2] and o.lines[1].paid_fen == 11600
    assert o.recipient_key == "张伟:1234"
    assert o.links[0].sale_external_id == "4000000000000001"
    assert o.links[0].recipient_key == "张伟:1234" and o.links[0].day == "2026-11-01"
    assert o.links[0].sku_keys == ("黑色/m", "白色/m")
    assert o.facts["auto_confirm_at"] == "2026-11-14T02:00:00+00:00"  # shipped 11-02 10:00 CST + 12 days
    assert o.updated_at == datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # the latest time the rows carry


def test_remark_without_sale_id_still_links_by_recipient() -> None:
    o = mapped(records([[order_row(remark="")]])[0]["1726110100001"])
    assert (
        len(o.links) == 1 and o.links[0].sale_external_id is None and o.links[0].recipient_key == "张伟:1234"
    )


def test_sale_ids_from_remarks() -> None:
    assert sale_ids_in("淘宝 4000000000000001 / PDD 261101-900000000000001") == [
        "4000000000000001",
        "261101-900000000000001",
    ]
    assert sale_ids_in("tb:3845671234567890123,电话13800131234") == ["3845671234567890123"]
    assert sale_ids_in("尽快发货") == [] and sale_ids_in(None) == []
    assert recipient_key(" 李 娜 ", "+86 139 0000 5678") == "李娜:5678" and recipient_key("", "1") is None
    assert sku_key("黑色", " XL ") == "黑色/xl"


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("待付款", OrderStatus.PENDING_PAYMENT),
        ("拿货中", OrderStatus.PAID),
        ("缺货", OrderStatus.PAID),
        ("已发货", OrderStatus.SHIPPED),
        ("交易成功", OrderStatus.COMPLETED),
        ("退货中", OrderStatus.REFUNDING),
        ("已退款", OrderStatus.CLOSED),
        ("已取消", OrderStatus.CANCELLED),
    ],
)
def test_order_statuses(text: str, status: OrderStatus) -> None:
    assert mapped(records([[order_row(status=text)]])[0]["1726110100001"]).status is status


def test_unknown_order_status_is_kept_with_a_warning() -> None:
    o = mapped(records([[order_row(status="仓库盘点中")]])[0]["1726110100001"])
    assert o.status is OrderStatus.SHIPPED and o.platform_status == "仓库盘点中"
    assert "仓库盘点中" in o.warnings[0]


def test_out_of_stock_and_discontinued_facts() -> None:
    o = mapped(
        records(
            [[order_row(status="缺货", shipped_at="", line_status="缺货", ship_option="下单三天有货先发")]]
        )[0]["1726110100001"]
    )
    assert o.facts["out_of_stock"] and o.facts["ship_available_after_3d"] and not o.facts["discontinued"]
    o = mapped(records([[order_row(status="下架退款中", item_status="已下架")]])[0]["1726110100001"])
    assert o.status is OrderStatus.REFUNDING and o.facts["discontinued"]


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("待审核", AfterSaleStatus.REQUESTED),
        ("代发已同意", AfterSaleStatus.AWAITING_RETURN),
        ("已寄回", AfterSaleStatus.RETURN_SHIPPED),
        ("代发已签收", AfterSaleStatus.RETURN_SHIPPED),
        ("退款中", AfterSaleStatus.REFUNDING),
        ("退货成功", AfterSaleStatus.SUCCEEDED),
        ("退货失败", AfterSaleStatus.SELLER_REFUSED),
        ("已寄回商家", AfterSaleStatus.CLOSED),
        ("已取消", AfterSaleStatus.CLOSED),
    ],
)
def test_return_statuses(text: str, status: AfterSaleStatus) -> None:
    _, returns = records([[order_row()]], [return_row(status=text, refund_amount="50.00")])
    case = mapped(returns["TH1"])
    assert case.status is status and case.platform_status == text and case.warnings == ()
    # the amount asked for: the stall's accepted refund once known, else the expected refund
    # (the stall's price × pieces; no 档口现价 column here, so the price paid, 58.00)
    assert case.refund_fen == (
        5000 if status in (AfterSaleStatus.SUCCEEDED, AfterSaleStatus.REFUNDING) else 5800
    )
    assert case.paid_fen == 5800 and case.facts["expected_refund_fen"] == 5800


def test_return_case_fields() -> None:
    _, returns = records([[order_row(current_price="48.00")]], [return_row(return_waybill="SF123")])
    case = mapped(returns["TH1"])
    assert case.kind is AfterSaleKind.RETURN_REFUND and case.order_external_id == "1726110100001"
    assert case.line_external_id == "1726110100001:A8821:黑色:M"
    assert case.paid_fen == 5800 and case.facts["expected_refund_fen"] == 4800  # the stall's current price
    assert case.refund_fen == 4800  # what 17网 will refund, shown on the work list
    assert case.return_waybill == "SF123" and case.facts["auto_confirm_at"]


def test_exchange_is_a_return_with_a_warning() -> None:
    _, returns = records([[order_row()]], [return_row(type="换货")])
    case = mapped(returns["TH1"])
    assert case.kind is AfterSaleKind.RETURN_REFUND and case.facts["exchange_requested"]
    assert "不支持换货" in case.warnings[0]


def test_refund_only_and_unknown_type_and_status() -> None:
    _, returns = records([[order_row()]], [return_row(type="仅退款")])
    assert mapped(returns["TH1"]).kind is AfterSaleKind.REFUND_ONLY
    _, returns = records([[order_row()]], [return_row(type="维修", status="待仓库质检")])
    case = mapped(returns["TH1"])
    assert case.kind is AfterSaleKind.RETURN_REFUND and case.status is AfterSaleStatus.REQUESTED
    assert len(case.warnings) == 2 and case.platform_status == "待仓库质检"


def test_unmappable_rows_name_the_field() -> None:
    _, returns = records([[order_row()]], [return_row(order_id="")])
    with pytest.raises(MappingError, match="order_id"):
        mapped(returns["TH1"])
    _, returns = records([[order_row()]], [return_row(quantity="0")])
    with pytest.raises(MappingError, match="quantity"):
        mapped(returns["TH1"])


def test_ledger_steps_after_the_export_move_the_case_on() -> None:
    at = datetime(2026, 11, 6, tzinfo=UTC)
    ledger = [entry("daifa_agreed", "TH1", at, return_address="广州 代发仓")]
    _, returns = records([[order_row()]], [return_row()], ledger)
    case = mapped(returns["TH1"])
    assert case.status is AfterSaleStatus.AWAITING_RETURN and case.facts["return_address"] == "广州 代发仓"
    assert case.updated_at == at


def test_an_export_newer_than_a_step_wins_but_keeps_its_details() -> None:
    at = datetime(2026, 11, 6, tzinfo=UTC)
    ledger = [entry("daifa_agreed", "TH1", at, return_address="广州 代发仓")]
    _, returns = records(
        [[order_row()]], [return_row(status="已寄回", updated_at="2026-11-08 10:00:00")], ledger
    )
    case = mapped(returns["TH1"])
    assert case.status is AfterSaleStatus.RETURN_SHIPPED and case.facts["return_address"] == "广州 代发仓"


def test_a_ledger_only_return_is_a_case() -> None:
    at = datetime(2026, 11, 6, tzinfo=UTC)
    _, returns = records([[order_row()]], [], [entry("apply_return", "1726110100001-R1", at, quantity="1")])
    case = mapped(returns["1726110100001-R1"])
    assert case.status is AfterSaleStatus.REQUESTED and case.created_at == at and case.facts["applied"]
