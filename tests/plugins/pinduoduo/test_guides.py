"""The merchant guides for Pinduoduo as data on the case: each one, chosen by reason/kind/state."""

from __future__ import annotations

from typing import Any

import pytest

import plugins.pinduoduo as plugin
from hub.domain import AfterSale, Order, Shop
from hub.platform import CaseContext
from plugins.pinduoduo.guides import GUIDES
from plugins.pinduoduo.insights import case_insights, guides_for, no_reason_insight, postage_insight
from plugins.pinduoduo.mapping import map_after_sale, map_order

SHOP = Shop(name="s", platform="pinduoduo")


def case(reason: str, code: int = 2, list_type: int = 2, remark: str = "", **detail: Any) -> AfterSale:
    return map_after_sale(
        {
            "id": 9,
            "order_sn": "261101-9",
            "after_sales_status": code,
            "after_sales_type": list_type,
            "after_sale_reason": reason,
            "refund_amount": "10.00",
            "updated_time": "2026-11-01 10:00:00",
            "detail": {"remark": remark, "refund_amount": 1000, **detail},
        }
    )


def shipped_order(signed: bool = False) -> Order:
    return map_order(
        {
            "order_sn": "261101-9",
            "order_status": 3 if signed else 2,
            "refund_status": 2,
            "pay_amount": 10,
            "goods_amount": 10,
            "updated_at": "2026-11-01 10:00:00",
            "shipping_time": "2026-10-31 10:00:00",
            "receive_time": "2026-11-01 08:00:00" if signed else "",
        }
    )


def ids(c: AfterSale, order: Order | None = None) -> set[str]:
    return {g.id for g in guides_for(c, order)}


def body(c: AfterSale, guide: str, order: Order | None = None) -> str:
    found = [i for i in case_insights(c, order) if i.data.get("guide") == guide]
    assert found, guide
    assert found[0].kind == "guide" and found[0].source and "merchant guide" in found[0].source
    return found[0].body


def test_every_guide_names_evidence_and_its_source() -> None:
    for g in GUIDES:
        assert g.evidence and g.steps and "merchant guide for Pinduoduo" in g.source, g.id


def test_missing_items() -> None:
    c = case("少件/漏发")
    assert "missing_items" in ids(c)
    text = body(c, "missing_items")
    for must in ("拍照", "快递方责任", "补发", "告知买家发货时间", "仓库称重图", "快递内网重量图"):
        assert must in text, must


def test_wrong_item_offers_four_remedies_and_not_our_goods() -> None:
    c = case("发错货", 3, 3)
    assert {"wrong_item", "not_our_goods"} <= ids(c)
    text = body(c, "wrong_item")
    for must in ("补差价", "运费由商家承担", "退货运费高过商品价", "退货退款"):
        assert must in text, must


def test_not_our_goods_appeal_path_and_evidence() -> None:
    c = case("商品与描述不符", remark="照片是别家商品，不是本店的")
    assert "not_our_goods" in ids(c)
    text = body(c, "not_our_goods")
    assert "【订单售后详情页】—【售后状态】—【维权申诉】" in text
    assert "店铺没有该商品的凭证" in text and "发货商品与面单的合照" in text


def test_appeal_insight_when_platform_ruled_for_buyer() -> None:
    c = case("商品与描述不符", code=5)
    appeal = [i for i in case_insights(c, None) if i.data.get("guide") == "appeal"]
    assert appeal and "维权申诉" in appeal[0].body and appeal[0].data["evidence"]


def test_intervention_guide_while_platform_reviews() -> None:
    c = case("质量问题", code=8)
    assert "intervention" in ids(c)
    assert "分点列出" in body(c, "intervention")


@pytest.mark.parametrize(
    ("reason", "guide", "musts"),
    [
        ("物流不更新", "logistics_no_update", ("快递官网", "约定处理时间", "备注")),
        ("快递超区不派送", "out_of_area", ("转发可到达的快递", "更换可到达的收货地址")),
        ("物流显示签收但未收到货", "signed_not_received", ("代签", "派件员", "退款或补发")),
        ("包裹破损", "damaged_parcel", ("收件人信息的完整外包装照片", "赔偿")),
        ("需要修改地址", "address_change", ("无法修改", "修改收件信息", "快递拦截")),
    ],
)
def test_logistics_guides(reason: str, guide: str, musts: tuple[str, ...]) -> None:
    c = case(reason)
    assert guide in ids(c)
    text = body(c, guide)
    for must in musts:
        assert must in text, must


def test_interception_for_refund_on_shipped_unsigned_parcel() -> None:
    c = case("不想要了")
    assert "interception" in ids(c, shipped_order(signed=False))
    assert "interception" not in ids(c, shipped_order(signed=True))
    assert "interception" not in ids(case("不想要了", 3, 3), shipped_order(signed=False))


def test_no_guide_for_an_unrelated_reason() -> None:
    assert case_insights(case("不想要了"), None) == []


def test_hook_only_speaks_for_pinduoduo() -> None:
    c = case("少件/漏发")
    mine = plugin.hub_case_insights(CaseContext(shop=SHOP, case=c, order=None))
    assert mine and mine[0].data["guide"] == "missing_items"
    other = Shop(name="t", platform="taobao")
    assert plugin.hub_case_insights(CaseContext(shop=other, case=c, order=None)) is None
    assert plugin.hub_case_insights(CaseContext(shop=SHOP, case=None, order=None)) == []


def _pdd_case(code: int, list_type: int, reason: str, created: str = "2026-11-10 10:00:00") -> AfterSale:
    return map_after_sale(
        {
            "id": 1,
            "order_sn": "261106-1",
            "after_sales_status": code,
            "after_sales_type": list_type,
            "after_sale_reason": reason,
            "refund_amount": "35.00",
            "created_time": created,
            "updated_time": created,
        }
    )


def _pdd_order(receive: str | None, postage: float = 0) -> Order:
    fields = {
        "order_sn": "261106-1",
        "order_status": 3 if receive else 2,
        "refund_status": 2,
        "confirm_status": 1,
        "group_status": 1,
        "pay_amount": 35,
        "goods_amount": 35,
        "postage": postage,
        "pay_time": "2026-11-06 20:00:00",
        "updated_at": "2026-11-10 10:00:00",
    }
    if receive:
        fields["receive_time"] = receive
    return map_order(fields)


@pytest.mark.parametrize(
    ("reason", "receive", "created", "eligible"),
    [
        ("七天无理由退货", "2026-11-07 22:00:00", "2026-11-14 23:59:59", True),  # last second of the window
        ("七天无理由退货", "2026-11-07 22:00:00", "2026-11-15 00:00:00", False),  # natural days: closed
        ("七天无理由，吊牌未剪", "2026-11-07 22:00:00", "2026-11-10 10:00:00", True),  # negated: fine
        ("七天无理由，已经洗过了", "2026-11-07 22:00:00", "2026-11-10 10:00:00", False),
        ("七天无理由退货", None, "2026-11-10 10:00:00", True),  # no receipt yet: says so
    ],
)
def test_no_reason_eligibility(reason: str, receive: str | None, created: str, eligible: bool) -> None:
    item = no_reason_insight(_pdd_case(3, 3, reason, created), _pdd_order(receive))
    assert item is not None and item.kind == "eligibility" and item.data["eligible"] is eligible
    assert "七天无理由" in item.title


def test_no_eligibility_insight_without_the_reason() -> None:
    assert no_reason_insight(_pdd_case(3, 3, "尺码不合适"), _pdd_order("2026-11-07 22:00:00")) is None


@pytest.mark.parametrize(
    ("reason", "postage", "who"),
    [("质量问题，开线", 0, "商家承担"), ("不想要了", 0, "寄件方承担"), ("不想要了", 6, "买家承担")],
)
def test_who_pays_the_return_postage(reason: str, postage: float, who: str) -> None:
    item = postage_insight(_pdd_case(3, 3, reason), _pdd_order("2026-11-07 22:00:00", postage))
    assert item is not None and who in item.body.splitlines()[0]
    assert postage_insight(_pdd_case(2, 2, reason), None) is None  # refund only: nothing comes back
