"""A 17网 shortage flagged against the linked sale's ship deadline (17网 FAQ, out-of-stock questions:
with 下单三天有货先发, 代发 keeps trying for 3 days, then ships what is in stock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import plugins.seventeen as plugin
from hub.domain import (
    AfterSale,
    AfterSaleKind,
    AfterSaleStatus,
    Order,
    OrderRole,
    OrderStatus,
    PlatformDeadline,
    Shop,
)
from hub.platform import CaseContext, LinkedOrder
from plugins.seventeen.chain import SaleShipDue, sale_ship_due, shortage_conflict
from plugins.seventeen.mapping import map_raw

from .helpers import order_row, records

SEVENTEEN = Shop(name="17网代发", platform="seventeen")
SALE_SHOP = Shop(name="淘宝店", platform="taobao")
ORDERED = datetime(2026, 11, 6, 14, 0, tzinfo=UTC)  # 17网 order: Friday 22:00 Beijing


def purchase(option: str = "下单三天有货先发", status: str = "缺货") -> Order:
    rows = [
        order_row(
            status=status, shipped_at="", waybill="", ship_option=option, created_at="2026-11-06 22:00:00"
        )
    ]
    raw = records([rows])[0]["1726110100001"]
    order = map_raw(raw.resource, raw.payload, raw.updated_at)
    assert isinstance(order, Order)
    return order


def sale(**kw: object) -> Order:
    base: dict[str, object] = {
        "external_id": "4000000000000001",
        "status": OrderStatus.PAID,
        "platform_status": "WAIT_SELLER_SEND_GOODS",
        "created_at": ORDERED - timedelta(hours=2),
        "updated_at": ORDERED,
        "paid_at": ORDERED - timedelta(hours=2),
    }
    base.update(kw)
    return Order(**base)  # type: ignore[arg-type]


def test_sale_ship_due_from_the_sale_order_data() -> None:
    stated = sale(platform_deadline=PlatformDeadline(due_at=ORDERED + timedelta(hours=30), action="ship"))
    assert sale_ship_due(stated, {}) == SaleShipDue(ORDERED + timedelta(hours=30), "platform")
    fact = sale(facts={"ship_by": (ORDERED + timedelta(hours=70)).isoformat()})
    assert sale_ship_due(fact, {}).source == "fact"  # type: ignore[union-attr]
    policy = sale_ship_due(sale(), {"sale_ship_window": "72h"})
    assert policy is not None and policy.source == "policy"
    assert policy.due_at == ORDERED + timedelta(hours=70)
    assert sale_ship_due(sale(status=OrderStatus.SHIPPED), {}) is None


def test_three_day_shortage_misses_the_sale_ship_clock() -> None:
    """The sale was paid before the purchase was placed: 3 days of 有货先发 ends after its 48 h."""
    c = shortage_conflict(purchase(), sale(), {})
    assert c is not None and c.code == "shortage_late" and c.level == "danger"
    assert c.due_at == ORDERED + timedelta(hours=46)  # paid + the default 48 h window
    assert "11月9日 22:00" in c.body and "11月8日 20:00" in c.body


def test_shortage_in_time_is_a_warning_and_restock_has_no_date() -> None:
    late_due = sale(platform_deadline=PlatformDeadline(due_at=ORDERED + timedelta(days=5)))
    c = shortage_conflict(purchase(), late_due, {})
    assert c is not None and c.code == "shortage" and c.level == "warning"
    c = shortage_conflict(purchase(option="等齐再发"), late_due, {})
    assert c is not None and c.code == "shortage_late" and "没有确定时间" in c.body
    assert shortage_conflict(purchase(status="待拿货"), sale(), {}) is None  # no shortage
    assert shortage_conflict(purchase(), sale(status=OrderStatus.SHIPPED), {}) is None


def test_flagged_on_the_sale_case_and_on_the_17wang_case() -> None:
    p = purchase()
    s = sale()
    refund = AfterSale(
        external_id="rf9",
        order_external_id=s.external_id,
        kind=AfterSaleKind.REFUND_ONLY,
        status=AfterSaleStatus.REQUESTED,
        platform_status="WAIT_SELLER_AGREE",
        created_at=ORDERED,
        updated_at=ORDERED,
    )
    ctx = CaseContext(
        shop=SALE_SHOP, case=refund, order=s, now=ORDERED, linked=[LinkedOrder(shop=SEVENTEEN, order=p)]
    )
    found = [i for i in plugin.hub_case_insights(ctx) or [] if i.data.get("conflict") == "shortage_late"]
    assert found and found[0].due_at == ORDERED + timedelta(hours=46) and found[0].level == "danger"
    upstream = AfterSale(
        external_id="TH9",
        order_external_id=p.external_id,
        kind=AfterSaleKind.REFUND_ONLY,
        status=AfterSaleStatus.REQUESTED,
        platform_status="待审核",
        created_at=ORDERED,
        updated_at=ORDERED,
    )
    linked_sale = LinkedOrder(shop=SALE_SHOP, order=s)
    assert linked_sale.order.role is OrderRole.SALE
    ctx = CaseContext(shop=SEVENTEEN, case=upstream, order=p, now=ORDERED, linked=[linked_sale])
    codes = [i.data.get("conflict") for i in plugin.hub_case_insights(ctx) or []]
    assert "shortage_late" in codes
