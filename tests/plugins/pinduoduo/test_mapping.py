"""Pure mapping: every after_sales_status code, every type numbering, money units, time shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from hub.domain import (
    AfterSaleKind,
    AfterSaleStatus,
    DisputeKind,
    DisputeStatus,
    OrderStatus,
    Party,
)
from hub.errors import MappingError
from plugins.pinduoduo.mapping import STATUS_CODES, map_after_sale, map_order, parse_time

# The 2018 doc example of pdd.refund.list.increment.get, verbatim.
LIST_ROW_2018: dict[str, Any] = {
    "id": 301851299,
    "order_sn": "180410-416081954561509",
    "confirm_time": "2018-04-10 17:01:23",
    "after_sale_reason": "货物与描述不符",
    "after_sales_status": 10,
    "after_sales_type": 3,
    "order_amount": "8.00",
    "refund_amount": "8.00",
    "sku_id": "13182332985",
    "outer_id": "04",
    "outer_goods_id": "",
    "discount_amount": "10.00",
    "goods_price": "18.00",
    "goods_number": "1",
    "goods_id": 863369485,
    "goods_name": "我是一个可爱的抱枕",
    "good_image": "http://t01img.yangkeduo.com/x.jpeg",
    "tracking_number": "123456123456",
    "created_time": "2018-04-10 17:03:29",
    "updated_time": "2018-04-10 17:18:03",
}

# The current official pdd.refund.information.get example (unwrapped).
DETAIL_DOC: dict[str, Any] = {
    "id": 10,
    "order_sn": "str",
    "after_sales_status": 0,
    "after_sales_type": 1,
    "after_sales_reason": "str",
    "remark": "联系卖家多次，一直不发货，申请仅退款处理",
    "refund_amount": 1,
    "order_amount": 100,
    "goods_price": 100,
    "goods_number": 1,
    "discount_amount": 0,
    "expire_time": 1638792640659,
    "recreated_at": 1638792640659,
    "confirm_time": 1638792640659,
    "updated_time": "str",
    "join_or_not": "str",
    "dispute_refund_status": 0,
    "speed_refund_flag": 0,
    "shipping_status": 0,
    "user_shipping_status": "str",
    "express_no": "str",
    "shipping_name": "str",
    "images": ["str"],
    "exist_images": False,
    "refund_operator_role": 1,
    "sku_id": "str",
    "part_after_sales_type": 1,
    "part_after_sales_value": 1,
}


def row(code: int, list_type: int = 2, **kw: Any) -> dict[str, Any]:
    base = {
        "id": 555,
        "order_sn": "261101-1",
        "after_sales_status": code,
        "after_sales_type": list_type,
        "after_sale_reason": "不想要了",
        "refund_amount": "19.90",
        "order_amount": "19.90",
        "created_time": "2026-11-01 09:00:00",
        "updated_time": "2026-11-01 10:00:00",
        "tracking_number": "",
    }
    base.update(kw)
    return base


# The expected mapping, written out independently of mapping.STATUS_CODES.
EXPECTED = {
    0: ("closed", "none"),
    2: ("requested", "merchant"),
    3: ("requested", "merchant"),
    4: ("refunding", "platform"),
    5: ("refunding", "platform"),
    6: ("seller_refused", "buyer"),
    7: ("awaiting_return", "buyer"),
    8: ("platform_review", "platform"),
    9: ("closed", "none"),
    10: ("succeeded", "none"),
    11: ("closed", "none"),
    12: ("closed", "none"),
    13: ("closed", "none"),
    14: ("requested", "merchant"),
    15: ("awaiting_return", "buyer"),
    16: ("succeeded", "none"),
    17: ("closed", "none"),
    18: ("reshipped", "buyer"),
    21: ("requested", "merchant"),
    22: ("awaiting_return", "buyer"),
    24: ("closed", "none"),
    25: ("succeeded", "none"),
    27: ("reshipped", "buyer"),
    31: ("awaiting_return", "buyer"),
    32: ("awaiting_reship", "merchant"),
    33: ("return_shipped", "merchant"),
}


def test_every_documented_code_is_tested() -> None:
    assert set(EXPECTED) == set(STATUS_CODES)


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_status_code(code: int) -> None:
    case = map_after_sale(row(code))
    status, awaiting = EXPECTED[code]
    assert case.status.value == status
    assert case.awaiting.value == awaiting
    assert case.platform_status == str(code)
    assert case.facts["after_sales_status_label"] == STATUS_CODES[code].label
    assert not case.warnings


def test_return_shipped_is_3_with_a_waybill() -> None:
    assert map_after_sale(row(3, 3, tracking_number="SF123")).status is AfterSaleStatus.RETURN_SHIPPED
    detail_only = {
        "detail": {**DETAIL_DOC, "after_sales_status": 3, "express_no": "SF1", "updated_time": 1700000000}
    }
    assert map_after_sale(detail_only).status is AfterSaleStatus.RETURN_SHIPPED


def test_exchange_goods_back_awaits_reship() -> None:
    assert map_after_sale(row(14, 4, tracking_number="YT9")).status is AfterSaleStatus.AWAITING_RESHIP


@pytest.mark.parametrize("code", [1, 19, 34, 99])
def test_unknown_status_kept_raw_with_warning(code: int) -> None:
    case = map_after_sale(row(code))
    assert case.status is AfterSaleStatus.REQUESTED  # safe default: a person looks at it
    assert case.platform_status == str(code)
    assert case.facts["status_unknown"] is True
    assert any(str(code) in w for w in case.warnings)


@pytest.mark.parametrize(
    ("list_type", "kind"),
    [
        (2, AfterSaleKind.REFUND_ONLY),
        (3, AfterSaleKind.RETURN_REFUND),
        (4, AfterSaleKind.EXCHANGE),
        (5, AfterSaleKind.RESHIP),
        (6, AfterSaleKind.REPAIR),
    ],
)
def test_list_type_numbering(list_type: int, kind: AfterSaleKind) -> None:
    assert map_after_sale(row(10, list_type)).kind is kind


@pytest.mark.parametrize(
    ("detail_type", "kind"),
    [
        (1, AfterSaleKind.REFUND_ONLY),
        (2, AfterSaleKind.RETURN_REFUND),
        (3, AfterSaleKind.EXCHANGE),
        (4, AfterSaleKind.RESHIP),
        (5, AfterSaleKind.REPAIR),
    ],
)
def test_detail_type_numbering(detail_type: int, kind: AfterSaleKind) -> None:
    """The detail numbers types one lower than the list : the same case, both numberings."""
    list_type = detail_type + 1
    merged = {
        **row(10, list_type),
        "detail": {
            **DETAIL_DOC,
            "id": 555,
            "after_sales_type": detail_type,
            "after_sales_status": 10,
            "refund_amount": 1990,
            "updated_time": "2026-11-01 10:00:00",
        },
    }
    case = map_after_sale(merged)
    assert case.kind is kind
    assert not [w for w in case.warnings if "after_sales_type" in w]


def test_type_disagreement_warns_and_detail_wins() -> None:
    merged = {**row(10, 2), "detail": {"after_sales_type": 2, "refund_amount": 1990, "updated_time": ""}}
    case = map_after_sale(merged)
    assert case.kind is AfterSaleKind.RETURN_REFUND
    assert any("differs" in w for w in case.warnings)


def test_unknown_type_guessed_from_status() -> None:
    case = map_after_sale(row(21, 9))
    assert case.kind is AfterSaleKind.REPAIR and any("after_sales_type 9" in w for w in case.warnings)


def test_list_sample_2018() -> None:
    case = map_after_sale(LIST_ROW_2018)
    assert case.external_id == "301851299" and case.order_external_id == "180410-416081954561509"
    assert case.kind is AfterSaleKind.RETURN_REFUND and case.status is AfterSaleStatus.SUCCEEDED
    assert case.refund_fen == 800 and case.paid_fen == 800
    assert case.return_waybill == "123456123456"
    assert case.updated_at == datetime(2018, 4, 10, 9, 18, 3, tzinfo=UTC)
    assert case.reason == "货物与描述不符"


def test_detail_sample_fen_and_ms_expire() -> None:
    case = map_after_sale(
        {"detail": {**DETAIL_DOC, "after_sales_status": 2, "order_sn": "x", "updated_time": 1638700000}}
    )
    assert case.refund_fen == 1 and case.paid_fen == 100  # integers in the detail are fen
    assert case.platform_deadline is not None
    assert case.platform_deadline.due_at == datetime.fromtimestamp(1638792640.659, UTC)
    # the stated time only: the matching rule row gives the action and effect
    assert case.platform_deadline.on_expiry is None and case.platform_deadline.action is None
    assert case.platform_deadline.party is Party.MERCHANT
    assert case.facts["part_after_sales"] == {"type": "count", "value": 1}


@pytest.mark.parametrize(
    ("list_amount", "detail_amount", "fen"),
    [("8.00", 800, 800), ("0.29", 29, 29), ("19.9", "1990", 1990), (11.01, None, 1101), (None, 12345, 12345)],
)
def test_money_lands_as_exact_fen(list_amount: Any, detail_amount: Any, fen: int) -> None:
    payload = row(10, refund_amount=list_amount)
    if detail_amount is not None:
        payload["detail"] = {"refund_amount": detail_amount}
    case = map_after_sale(payload)
    assert case.refund_fen == fen and not case.warnings


def test_money_disagreement_warns() -> None:
    case = map_after_sale({**row(10, refund_amount="8.00"), "detail": {"refund_amount": 801}})
    assert case.refund_fen == 801 and any("refund_amount differs" in w for w in case.warnings)


def test_intervention_dispute_from_status_8() -> None:
    d = map_after_sale(row(8)).dispute
    assert d is not None and d.kind is DisputeKind.INTERVENTION and d.status is DisputeStatus.UNDER_REVIEW


def test_platform_agreed_is_ruled_for_buyer() -> None:
    d = map_after_sale(row(5)).dispute
    assert d is not None and d.status is DisputeStatus.RULED_FOR_BUYER


def test_platform_refused_is_ruled_for_seller() -> None:
    d = map_after_sale(row(9)).dispute
    assert d is not None and d.status is DisputeStatus.RULED_FOR_SELLER


def test_join_or_not_opens_an_intervention() -> None:
    case = map_after_sale({**row(6), "detail": {"join_or_not": "1", "refund_amount": 1990}})
    assert case.dispute is not None and case.dispute.kind is DisputeKind.INTERVENTION
    assert case.dispute.status is DisputeStatus.UNDER_REVIEW and case.facts["join_or_not"] is True
    assert map_after_sale({**row(6), "detail": {"join_or_not": "0", "refund_amount": 1990}}).dispute is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2018-08-10 19:29:58", datetime(2018, 8, 10, 11, 29, 58, tzinfo=UTC)),
        (1533900598, datetime(2018, 8, 10, 11, 29, 58, tzinfo=UTC)),
        ("1533900598", datetime(2018, 8, 10, 11, 29, 58, tzinfo=UTC)),
        (1533900598000, datetime(2018, 8, 10, 11, 29, 58, tzinfo=UTC)),
        ("1", None),
        ("", None),
        (None, None),
        (0, None),
    ],
)
def test_time_shapes(value: Any, expected: datetime | None) -> None:
    assert parse_time(value, field="t") == expected


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**row(2), "id": None}, "id"),
        ({**row(2), "order_sn": ""}, "order_sn"),
        ({**row(2), "refund_amount": "N/A"}, "refund_amount"),
        ({**row(2), "updated_time": "soon"}, "updated_time"),
        ({**row(2), "refund_amount": None}, "refund_amount"),
        ({**row(2), "after_sales_status": "x"}, "after_sales_status"),
    ],
)
def test_unmappable_records_name_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(MappingError) as info:
        map_after_sale(payload)
    assert info.value.field == field


def test_detail_error_becomes_a_warning() -> None:
    case = map_after_sale({**row(2), "detail_error": "pdd.refund.information.get: 参数错误"})
    assert any("detail not read" in w for w in case.warnings)


# ------------------------------------------------------------------------- orders

ORDER_2018: dict[str, Any] = {
    "order_sn": "180810-364770100011509",
    "confirm_time": "2018-08-10 19:29:58",
    "created_time": "2018-08-10 19:29:58",
    "receiver_name": "展护卫",
    "receiver_phone": "1866716****",
    "pay_amount": 4.5,
    "goods_amount": 4.5,
    "discount_amount": 0,
    "postage": 0,
    "tracking_number": "111122223333",
    "shipping_time": "2018-08-10 19:43:33",
    "order_status": 2,
    "is_lucky_flag": 1,
    "refund_status": 1,
    "updated_at": "2018-08-10 19:43:34",
    "last_ship_time": "2018-08-18 23:59:59",
    "remark": "",
    "receive_time": "",
    "item_list": [
        {
            "goods_id": "2542137428",
            "sku_id": "52494558847",
            "goods_name": "计算器",
            "goods_price": 4.5,
            "goods_spec": "",
            "goods_count": 1,
        }
    ],
}


def test_order_sample_2018() -> None:
    order = map_order(ORDER_2018)
    assert order.external_id == "180810-364770100011509" and order.status is OrderStatus.SHIPPED
    assert order.paid_fen == 450 and order.total_fen == 450
    assert order.shipped_at == datetime(2018, 8, 10, 11, 43, 33, tzinfo=UTC)
    assert order.lines[0].unit_price_fen == 450 and order.lines[0].external_id == "2542137428:52494558847"
    assert order.platform_deadline is None  # shipped: the ship-by time no longer applies


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"order_status": 1}, OrderStatus.PAID),
        ({"order_status": 2}, OrderStatus.SHIPPED),
        ({"order_status": 3}, OrderStatus.COMPLETED),
        ({"refund_status": 2}, OrderStatus.REFUNDING),
        ({"refund_status": 3}, OrderStatus.REFUNDING),
        ({"refund_status": 4}, OrderStatus.CLOSED),
        ({"confirm_status": 2}, OrderStatus.CANCELLED),
        ({"confirm_status": 0, "group_status": 0}, OrderStatus.SHIPPED),
        ({"group_status": 2}, OrderStatus.CLOSED),
        ({"group_status": 1}, OrderStatus.SHIPPED),
    ],
)
def test_order_status(fields: dict[str, Any], status: OrderStatus) -> None:
    assert map_order({**ORDER_2018, **fields}).status is status


def test_unshipped_order_has_pdd_ship_by_deadline() -> None:
    order = map_order({**ORDER_2018, "order_status": 1, "shipping_time": ""})
    assert order.platform_deadline is not None and order.platform_deadline.action == "ship"
    assert order.platform_deadline.due_at == datetime(2018, 8, 18, 15, 59, 59, tzinfo=UTC)


def test_unknown_order_status_warns() -> None:
    order = map_order({**ORDER_2018, "order_status": 9})
    assert order.status is OrderStatus.PAID and any("order_status" in w for w in order.facts["warnings"])


def test_order_numbers_as_strings() -> None:
    order = map_order({**ORDER_2018, "pay_amount": "4.50", "order_status": "3", "receive_time": "1533990000"})
    assert order.paid_fen == 450 and order.status is OrderStatus.COMPLETED and order.signed_at is not None


def test_order_without_sn_is_unmappable() -> None:
    with pytest.raises(MappingError) as info:
        map_order({**ORDER_2018, "order_sn": None})
    assert info.value.field == "order_sn"
