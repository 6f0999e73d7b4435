"""Mapping TOP records, one test per status and edge case, from TOP's documented samples."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from hub.domain import AfterSaleKind, AfterSaleStatus, DisputeKind, DisputeStatus, OrderStatus
from hub.errors import MappingError
from plugins.taobao.mapping import map_dispute, map_refund, map_trade

# A trade built from TOP's documented fields: the trade inside the envelope.
TRADE: dict[str, Any] = {
    "tid": 2231958349,
    "status": "WAIT_SELLER_SEND_GOODS",
    "type": "fixed",
    "payment": "200.07",
    "total_fee": "198.00",
    "post_fee": "10.00",
    "created": "2024-05-01 10:00:00",
    "pay_time": "2024-05-01 10:01:10",
    "modified": "2024-05-01 10:01:12",
    "consign_time": None,
    "buyer_nick": "tbtest561",
    "seller_nick": "demo_shop",
    "orders": {
        "order": [
            {
                "oid": 2231958349,
                "status": "WAIT_SELLER_SEND_GOODS",
                "refund_status": "NO_REFUND",
                "num_iid": 4345345,
                "sku_id": "5938271",
                "outer_sku_id": "SKU-1",
                "title": "T恤",
                "price": "99.00",
                "num": 2,
                "payment": "200.07",
                "total_fee": "198.00",
            }
        ]
    },
}
# Refund detail: a JSON transcription of TOP's official XML example.
REFUND_DETAIL: dict[str, Any] = {
    "address": "杭州市西湖区华星路99号",
    "advance_status": 1,
    "alipay_no": "2009101504179117",
    "attribute": "{}",
    "buyer_nick": "tbtest561",
    "company_name": "申通快递",
    "created": "2000-01-01 00:00:00",
    "cs_status": 1,
    "desc": "hello world",
    "good_return_time": "2000-01-01 00:00:00",
    "good_status": "BUYER_RECEIVED",
    "has_good_return": True,
    "modified": "2000-01-01 00:00:00",
    "num": 1,
    "num_iid": 4345345,
    "oid": 2231884277,
    "operation_contraint": "refund_onweb",
    "order_status": "WAIT_BUYER_CONFIRM_GOODS",
    "outer_id": "ISBN-001",
    "payment": "200.07",
    "price": "200.07",
    "reason": "退还邮费",
    "refund_fee": "10.00",
    "refund_id": "83477",
    "refund_phase": "onsale",
    "refund_remind_timeout": {"exist_timeout": True, "remind_type": 1, "timeout": "2000-01-08 00:00:00"},
    "refund_version": 1546853812000,
    "sid": "1200722815552",
    "status": "WAIT_SELLER_AGREE",
    "tid": 2231884277,
    "title": "T恤",
    "total_fee": "200.07",
    "dispute_type": "REFUND_AND_RETURN",
}
# A refund list entry built from TOP's documented fields.
REFUND_LIST_ITEM: dict[str, Any] = {
    "refund_id": "83477",
    "tid": 2231884277,
    "oid": 2231884277,
    "status": "SUCCESS",
    "refund_fee": "10.00",
    "total_fee": "200.07",
    "payment": "190.07",
    "created": "2024-05-02 09:00:00",
    "modified": "2024-05-02 12:00:00",
    "good_status": "BUYER_NOT_RECEIVED",
    "has_good_return": False,
    "reason": "不想要了",
    "refund_phase": "onsale",
    "dispute_type": "REFUND",
    "order_status": "TRADE_CLOSED",
}


def trade(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(TRADE), **changes}


def refund(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(REFUND_DETAIL), **changes}


# -- trades --------------------------------------------------------------------------------------


def test_sample_trade_maps_money_times_and_lines() -> None:
    order = map_trade(TRADE)
    assert order.external_id == "2231958349"
    assert order.status is OrderStatus.PAID and order.platform_status == "WAIT_SELLER_SEND_GOODS"
    assert order.paid_fen == 20007 and order.total_fen == 19800  # "200.07" → 20007 fen exactly
    assert order.created_at == datetime(2024, 5, 1, 2, 0, tzinfo=UTC)  # Beijing 10:00 → 02:00 UTC
    assert order.paid_at == datetime(2024, 5, 1, 2, 1, 10, tzinfo=UTC)
    assert order.updated_at == datetime(2024, 5, 1, 2, 1, 12, tzinfo=UTC)
    assert order.shipped_at is None
    (line,) = order.lines
    assert (line.external_id, line.quantity, line.unit_price_fen, line.paid_fen) == (
        "2231958349",
        2,
        9900,
        20007,
    )
    assert line.refund_status == "NO_REFUND"
    assert order.facts["unshipped"] is True and order.warnings == ()  # NO_REFUND is accepted quietly


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("TRADE_NO_CREATE_PAY", OrderStatus.PENDING_PAYMENT),
        ("WAIT_BUYER_PAY", OrderStatus.PENDING_PAYMENT),
        ("PAY_PENDING", OrderStatus.PENDING_PAYMENT),
        ("WAIT_PRE_AUTH_CONFIRM", OrderStatus.PENDING_PAYMENT),
        ("WAIT_SELLER_SEND_GOODS", OrderStatus.PAID),
        ("PAID_FORBID_CONSIGN", OrderStatus.PAID),
        ("SELLER_CONSIGNED_PART", OrderStatus.SHIPPED),
        ("WAIT_BUYER_CONFIRM_GOODS", OrderStatus.SHIPPED),
        ("TRADE_BUYER_SIGNED", OrderStatus.SHIPPED),
        ("TRADE_FINISHED", OrderStatus.COMPLETED),
        ("TRADE_CLOSED", OrderStatus.CLOSED),
        ("TRADE_CLOSED_BY_TAOBAO", OrderStatus.CANCELLED),
    ],
)
def test_each_trade_status(status: str, expected: OrderStatus) -> None:
    assert map_trade(trade(status=status)).status is expected


def test_open_refund_on_a_sub_order_holds_the_order() -> None:
    t = trade(status="WAIT_BUYER_CONFIRM_GOODS")
    t["orders"]["order"][0]["refund_status"] = "WAIT_SELLER_AGREE"
    order = map_trade(t)
    assert order.status is OrderStatus.REFUNDING and order.platform_status == "WAIT_BUYER_CONFIRM_GOODS"


def test_finished_refund_on_a_sub_order_leaves_the_status() -> None:
    t = trade(status="TRADE_FINISHED")
    t["orders"]["order"][0]["refund_status"] = "CLOSED"
    assert map_trade(t).status is OrderStatus.COMPLETED


def test_unknown_trade_status_is_kept_raw_with_a_warning() -> None:
    order = map_trade(trade(status="TRADE_SOMETHING_NEW"))
    assert order.status is OrderStatus.PAID and order.platform_status == "TRADE_SOMETHING_NEW"
    assert "TRADE_SOMETHING_NEW" in order.warnings[0]


def test_unknown_sub_order_refund_status_warns() -> None:
    t = trade()
    t["orders"]["order"][0]["refund_status"] = "NEW_REFUND_STATE"
    assert "NEW_REFUND_STATE" in map_trade(t).warnings[0]


def test_simplified_orders_list_and_string_numbers() -> None:
    t = trade(tid="2231958349", orders=[{**TRADE["orders"]["order"][0], "num": "2", "oid": "2231958349"}])
    order = map_trade(t)
    assert order.lines[0].quantity == 2 and order.external_id == "2231958349"


def test_fields_filtered_trade_still_maps() -> None:
    order = map_trade(
        {
            "tid": 1,
            "status": "TRADE_FINISHED",
            "created": "2024-05-01 10:00:00",
            "modified": "2024-05-03 10:00:00",
        }
    )
    assert order.status is OrderStatus.COMPLETED and order.lines == () and order.paid_fen == 0


def test_presale_trade_is_marked() -> None:
    order = map_trade(trade(type="step", step_trade_status="FRONT_PAID_FINAL_PAID"))
    assert order.facts["presale"] is True


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tid": None}, "tid_str"),
        ({"modified": "2024/05/01"}, "modified"),
        ({"payment": "abc"}, "payment"),
        ({"created": None}, "created"),
    ],
)
def test_malformed_trade_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(MappingError) as info:
        map_trade(trade(**changes))
    assert info.value.field == field


def test_malformed_line_names_the_nested_field() -> None:
    t = trade()
    t["orders"]["order"][0]["price"] = "9.999"
    with pytest.raises(MappingError) as info:
        map_trade(t)
    assert info.value.field == "orders[0].price"


# -- refunds -------------------------------------------------------------------------------------


def test_sample_refund_detail() -> None:
    case = map_refund(REFUND_DETAIL)
    assert (case.external_id, case.order_external_id, case.line_external_id) == (
        "83477",
        "2231884277",
        "2231884277",
    )
    assert case.kind is AfterSaleKind.RETURN_REFUND and case.status is AfterSaleStatus.REQUESTED
    assert case.refund_fen == 1000 and case.paid_fen == 20007
    assert case.version == 1546853812000
    assert case.return_waybill == "1200722815552"
    assert case.facts["operation_contraint"] == "refund_onweb"
    assert case.facts["good_return_time"] == "1999-12-31T16:00:00+00:00"
    assert case.dispute is None  # cs_status 1: 不需客服介入
    # refund_remind_timeout: the platform's own deadline
    assert case.platform_deadline is not None
    assert case.platform_deadline.due_at == datetime(2000, 1, 7, 16, 0, tzinfo=UTC)
    assert case.facts["remind_type"] == 1


def test_sample_refund_list_item() -> None:
    case = map_refund(REFUND_LIST_ITEM)
    assert case.kind is AfterSaleKind.REFUND_ONLY and case.status is AfterSaleStatus.SUCCEEDED
    assert case.facts["not_received"] is True
    assert case.platform_deadline is None and case.version is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("WAIT_SELLER_AGREE", AfterSaleStatus.REQUESTED),
        ("WAIT_BUYER_RETURN_GOODS", AfterSaleStatus.AWAITING_RETURN),
        ("WAIT_SELLER_CONFIRM_GOODS", AfterSaleStatus.RETURN_SHIPPED),
        ("SELLER_REFUSE_BUYER", AfterSaleStatus.SELLER_REFUSED),
        ("CLOSED", AfterSaleStatus.CLOSED),
        ("SUCCESS", AfterSaleStatus.SUCCEEDED),
        ("WAIT_BUYER_CONFIRM_EXCHANGE_SELLER_SEND_GOODS", AfterSaleStatus.RESHIPPED),
        ("EXCHANGE_TRANSFORM_TO_REFUND", AfterSaleStatus.CLOSED),
        ("WAIT_SELLER_CONSIGN_GOODS", AfterSaleStatus.AWAITING_RESHIP),
    ],
)
def test_each_refund_status(status: str, expected: AfterSaleStatus) -> None:
    case = map_refund(refund(status=status))
    assert case.status is expected and case.platform_status == status and case.warnings == ()


def test_closed_refund_has_no_platform_deadline() -> None:
    assert map_refund(refund(status="CLOSED")).platform_deadline is None


def test_exist_timeout_false_means_no_platform_deadline() -> None:
    r = refund(
        refund_remind_timeout={"exist_timeout": False, "remind_type": 3, "timeout": "2000-01-08 00:00:00"}
    )
    assert map_refund(r).platform_deadline is None


@pytest.mark.parametrize(
    ("dispute_type", "has_return", "kind"),
    [
        ("REFUND", False, AfterSaleKind.REFUND_ONLY),
        ("REFUND_AND_RETURN", True, AfterSaleKind.RETURN_REFUND),
        ("TMALL_EXCHANGE", True, AfterSaleKind.EXCHANGE),
        ("TAOBAO_EXCHANGE", True, AfterSaleKind.EXCHANGE),
        ("REPAIR", True, AfterSaleKind.REPAIR),
        ("RESHIPPING", False, AfterSaleKind.RESHIP),
        ("OTHERS", True, AfterSaleKind.RETURN_REFUND),
        (None, False, AfterSaleKind.REFUND_ONLY),
        (None, True, AfterSaleKind.RETURN_REFUND),
    ],
)
def test_kind_from_dispute_type_and_has_good_return(
    dispute_type: str | None, has_return: bool, kind: AfterSaleKind
) -> None:
    case = map_refund(refund(dispute_type=dispute_type, has_good_return=has_return))
    assert case.kind is kind and case.warnings == ()


def test_has_good_return_as_string() -> None:
    assert map_refund(refund(dispute_type=None, has_good_return="false")).kind is AfterSaleKind.REFUND_ONLY


def test_return_status_makes_a_refund_only_request_a_return() -> None:
    case = map_refund(refund(dispute_type=None, has_good_return=False, status="WAIT_SELLER_CONFIRM_GOODS"))
    assert case.kind is AfterSaleKind.RETURN_REFUND


def test_special_refund_price_protection_is_compensation() -> None:
    assert map_refund(refund(special_refund_type="priceProtect")).kind is AfterSaleKind.COMPENSATION


def test_unknown_dispute_type_warns_and_falls_back() -> None:
    case = map_refund(refund(dispute_type="NEW_TYPE", has_good_return=False))
    assert case.kind is AfterSaleKind.REFUND_ONLY and "NEW_TYPE" in case.warnings[0]


def test_unknown_refund_status_is_kept_raw_and_safe() -> None:
    case = map_refund(refund(status="WAIT_SOMETHING_NEW"))
    assert case.status is AfterSaleStatus.REQUESTED and case.platform_status == "WAIT_SOMETHING_NEW"
    assert "WAIT_SOMETHING_NEW" in case.warnings[0]


def test_no_reason_and_unshipped_facts() -> None:
    case = map_refund(refund(reason="七天无理由退换货", order_status="WAIT_SELLER_SEND_GOODS"))
    assert case.facts["no_reason"] is True and case.facts["unshipped"] is True


@pytest.mark.parametrize(
    ("cs", "refund_status", "dispute", "case_status", "appeal"),
    [
        (2, "SELLER_REFUSE_BUYER", DisputeStatus.OPEN, AfterSaleStatus.PLATFORM_REVIEW, False),
        (3, "SELLER_REFUSE_BUYER", DisputeStatus.UNDER_REVIEW, AfterSaleStatus.PLATFORM_REVIEW, False),
        (4, "WAIT_SELLER_AGREE", DisputeStatus.UNDER_REVIEW, AfterSaleStatus.PLATFORM_REVIEW, False),
        (5, "WAIT_SELLER_AGREE", DisputeStatus.UNDER_REVIEW, AfterSaleStatus.PLATFORM_REVIEW, False),
        (6, "SUCCESS", DisputeStatus.RULED_FOR_BUYER, AfterSaleStatus.SUCCEEDED, False),
        (6, "CLOSED", DisputeStatus.RULED_FOR_SELLER, AfterSaleStatus.CLOSED, False),
        (7, "CLOSED", DisputeStatus.WITHDRAWN, AfterSaleStatus.CLOSED, False),
        (8, "SUCCESS", DisputeStatus.RULED_FOR_BUYER, AfterSaleStatus.SUCCEEDED, False),
        (9, "CLOSED", DisputeStatus.RULED_FOR_SELLER, AfterSaleStatus.CLOSED, False),
        (10, "SELLER_REFUSE_BUYER", DisputeStatus.EVIDENCE_REQUIRED, AfterSaleStatus.PLATFORM_REVIEW, False),
        (11, "SUCCESS", DisputeStatus.RULED_FOR_BUYER, AfterSaleStatus.SUCCEEDED, True),
    ],
)
def test_cs_status_becomes_an_intervention(
    cs: int, refund_status: str, dispute: DisputeStatus, case_status: AfterSaleStatus, appeal: bool
) -> None:
    case = map_refund(refund(cs_status=str(cs), status=refund_status))  # numbers as strings
    assert case.dispute is not None
    assert case.dispute.kind is DisputeKind.INTERVENTION
    assert case.dispute.status is dispute and case.dispute.appeal_open is appeal
    assert case.dispute.platform_status == f"cs_status={cs}"
    assert case.status is case_status


def test_unknown_cs_status_warns() -> None:
    case = map_refund(refund(cs_status=42, status="SELLER_REFUSE_BUYER"))
    assert case.dispute is not None and case.dispute.status is DisputeStatus.UNDER_REVIEW
    assert "cs_status 42" in case.warnings[0]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"refund_id": None}, "refund_id"),
        ({"refund_fee": "12.3.4"}, "refund_fee"),
        ({"created": "yesterday"}, "created"),
        ({"modified": None}, "modified"),
        ({"refund_version": "v1"}, "refund_version"),
        ({"has_good_return": "maybe"}, "has_good_return"),
        (
            {"refund_remind_timeout": {"exist_timeout": True, "timeout": "soon"}},
            "refund_remind_timeout.timeout",
        ),
    ],
)
def test_malformed_refund_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(MappingError) as info:
        map_refund(refund(**changes))
    assert info.value.field == field


# -- Tmall disputes (numeric statuses) -------------------------------------------------------------


def dispute(**changes: Any) -> dict[str, Any]:
    base = {
        "refund_id": "900017",
        "biz_order_id": "3231958349",
        "oid": 3231958349,
        "status": "1",
        "dispute_request": "换货",
        "created": "2024-05-02 09:00:00",
        "modified": "2024-05-02 12:00:00",
        "refund_fee": "129.00",
        "reason": "尺码不合适",
        "good_status": "BUYER_RECEIVED",
    }
    return {**base, **changes}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("1", AfterSaleStatus.REQUESTED),
        ("2", AfterSaleStatus.AWAITING_RETURN),
        ("3", AfterSaleStatus.RETURN_SHIPPED),
        ("4", AfterSaleStatus.CLOSED),
        ("5", AfterSaleStatus.SUCCEEDED),
        ("6", AfterSaleStatus.SELLER_REFUSED),
        ("12", AfterSaleStatus.AWAITING_RESHIP),
        ("13", AfterSaleStatus.RESHIPPED),
        ("14", AfterSaleStatus.REFUNDING),
    ],
)
def test_each_exchange_status(status: str, expected: AfterSaleStatus) -> None:
    case = map_dispute(dispute(status=status))
    assert case.kind is AfterSaleKind.EXCHANGE and case.status is expected and case.platform_status == status


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("1", AfterSaleStatus.REQUESTED),
        ("2", AfterSaleStatus.AWAITING_RETURN),
        ("3", AfterSaleStatus.RETURN_SHIPPED),
        ("4", AfterSaleStatus.CLOSED),
        ("5", AfterSaleStatus.SUCCEEDED),
        ("6", AfterSaleStatus.SELLER_REFUSED),
        ("7", AfterSaleStatus.RESHIPPED),
        ("8", AfterSaleStatus.REQUESTED),
    ],
)
def test_each_refund_dispute_status(status: str, expected: AfterSaleStatus) -> None:
    case = map_dispute(dispute(status=status, dispute_request="退货退款"))
    assert case.kind is AfterSaleKind.RETURN_REFUND and case.status is expected


def test_the_same_number_means_different_things_by_type() -> None:
    # 7 exists only for refunds; for an exchange it is unknown → kept raw, safe default, warning.
    case = map_dispute(dispute(status="7"))
    assert case.status is AfterSaleStatus.REQUESTED and "'7'" in case.warnings[0]
    assert map_dispute(dispute(status="7", dispute_request="仅退款")).warnings == ()


def test_dispute_time_out_is_the_platform_deadline() -> None:
    case = map_dispute(dispute(time_out="2024-05-05 09:00:00"))
    assert case.platform_deadline is not None
    assert case.platform_deadline.due_at == datetime(2024, 5, 5, 1, 0, tzinfo=UTC)
    assert case.order_external_id == "3231958349" and case.refund_fen == 12900


def test_malformed_dispute_names_the_field() -> None:
    with pytest.raises(MappingError) as info:
        map_dispute(dispute(status=None))
    assert info.value.field == "status"


# -- Chinese status labels (the workbench shows ``platform_status_label`` beside the raw code) -------


@pytest.mark.parametrize(
    ("status", "label"),
    [
        ("WAIT_SELLER_SEND_GOODS", "等待卖家发货，即：买家已付款"),
        ("TRADE_FINISHED", "交易成功"),
        ("TRADE_CLOSED_BY_TAOBAO", "付款以前，卖家或买家主动关闭交易"),
        ("PAID_FORBID_CONSIGN", "拼团中订单或者发货强管控的订单，已付款但禁止发货"),
    ],
)
def test_trade_status_label(status: str, label: str) -> None:
    """TOP trade status enum, 中文."""
    assert map_trade(trade(status=status)).facts["platform_status_label"] == label


def test_every_mapped_status_has_a_label() -> None:
    from plugins.taobao import mapping as m

    assert set(m.TRADE_STATUS) == set(m.TRADE_STATUS_ZH)
    assert set(m.REFUND_STATUS) == set(m.REFUND_STATUS_ZH)
    assert set(m.DISPUTE_REFUND_STATUS) == set(m.DISPUTE_REFUND_STATUS_ZH)
    assert set(m.DISPUTE_EXCHANGE_STATUS) == set(m.DISPUTE_EXCHANGE_STATUS_ZH)


@pytest.mark.parametrize(
    ("status", "label"),
    [
        ("WAIT_SELLER_AGREE", "买家已经申请退款，等待卖家同意"),
        ("WAIT_BUYER_RETURN_GOODS", "卖家已经同意退款，等待买家退货"),
        ("WAIT_SELLER_CONFIRM_GOODS", "买家已经退货，等待卖家确认收货"),
        ("SELLER_REFUSE_BUYER", "卖家拒绝退款"),
        ("CLOSED", "退款关闭"),
        ("SUCCESS", "退款成功"),
    ],
)
def test_refund_status_label(status: str, label: str) -> None:
    """TOP refund status enum, 中文; the refund's order status and cs_status too."""
    case = map_refund(refund(status=status, cs_status=10))
    assert case.facts["platform_status_label"] == label
    assert case.facts["order_status_label"] == "等待买家确认收货，即：卖家已发货"
    assert case.facts["cs_status_label"] == "举证中"


def test_the_workbench_reads_the_label() -> None:
    from hub.web.present import status_label

    assert (
        status_label(map_refund(refund(status="WAIT_SELLER_AGREE")).facts) == "买家已经申请退款，等待卖家同意"
    )
    assert status_label(map_trade(trade(status="TRADE_FINISHED")).facts) == "交易成功"
    assert status_label(map_dispute(dispute(status="12")).facts) == "待发出换货商品"


def test_unknown_status_has_no_label() -> None:
    assert "platform_status_label" not in map_refund(refund(status="WAIT_SOMETHING_NEW")).facts
    assert "platform_status_label" not in map_trade(trade(status="TRADE_SOMETHING_NEW")).facts


@pytest.mark.parametrize(
    ("request_kind", "status", "label"),
    [
        ("换货", "1", "换货待处理"),
        ("换货", "6", "待买家修改"),
        ("换货", "14", "请退款"),
        ("仅退款", "1", "买家已经申请退款，等待卖家同意"),
        ("退货退款", "8", "等待卖家确认退货地址"),
        ("仅退款", "6", "卖家拒绝退款"),
    ],
)
def test_tmall_dispute_status_label(request_kind: str, status: str, label: str) -> None:
    """TOP tmall.dispute.receive.get: numeric statuses, one table per dispute type."""
    case = map_dispute(dispute(status=status, dispute_request=request_kind))
    assert case.facts["platform_status_label"] == label


def test_warnings_are_in_chinese_first() -> None:
    order = map_trade(trade(status="TRADE_SOMETHING_NEW"))
    assert order.warnings[0].startswith("未知的交易状态")
    case = map_refund(refund(status="WAIT_SOMETHING_NEW"))
    assert case.warnings[0].startswith("未知的退款状态")
