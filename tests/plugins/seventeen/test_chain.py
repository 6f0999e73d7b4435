"""The return chain: upstream 17网 steps with due times, and one test per conflict warning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.domain import AfterSale, AfterSaleKind, AfterSaleStatus, Order, OrderLine, OrderStatus
from plugins.seventeen.chain import Purchase, PurchaseMoney, beijing, plan
from plugins.seventeen.mapping import map_raw

from .helpers import entry, order_row, records, return_row

SHIPPED = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
AUTO = SHIPPED + timedelta(days=12)


def purchase(rows=None, returns=(), ledger=(), settings=None) -> Purchase:  # type: ignore[no-untyped-def]
    ps, rs = records([rows or [order_row()]], list(returns), list(ledger))
    order = map_raw("purchase", ps["1726110100001"].payload, ps["1726110100001"].updated_at)
    cases = [map_raw("purchase_return", r.payload, r.updated_at) for r in rs.values()]
    return Purchase(order=order, cases=cases, settings=settings or {})  # type: ignore[arg-type]


def sale(status=AfterSaleStatus.AWAITING_RETURN, kind=AfterSaleKind.RETURN_REFUND, **kw) -> AfterSale:  # type: ignore[no-untyped-def]
    base = {
        "external_id": "R1",
        "order_external_id": "4000000000000001",
        "kind": kind,
        "status": status,
        "platform_status": "WAIT_BUYER_RETURN_GOODS",
        "created_at": SHIPPED + timedelta(days=9),
        "updated_at": SHIPPED + timedelta(days=10),
        "refund_fen": 9900,
        "line_external_id": "T1",
    }
    base.update(kw)
    return AfterSale(**base)


SALE_ORDER = Order(
    external_id="4000000000000001",
    status=OrderStatus.REFUNDING,
    platform_status="x",
    created_at=SHIPPED,
    updated_at=SHIPPED,
    lines=(OrderLine(external_id="T1", title="连衣裙", sku_name="颜色分类:黑色;尺码:M", quantity=1),),
)


def codes(p):  # type: ignore[no-untyped-def]
    return [c.code for c in p.conflicts]


def test_steps_with_due_times() -> None:
    now = SHIPPED + timedelta(days=10)
    p = plan(purchase(), now, sale_case=sale(return_waybill="SF9"), sale_order=SALE_ORDER)
    steps = {s.code: s for s in p.steps}
    arrival = now + timedelta(days=2)
    assert p.arrival_at == arrival
    assert steps["apply_online"].due_at == arrival and not steps["apply_online"].done
    assert steps["enter_waybill"].due_at == arrival and "SF9" in steps["enter_waybill"].body
    assert steps["extend_receipt"].due_at == AUTO
    assert steps["claim_within_15d"].due_at == arrival + timedelta(days=15)
    assert codes(p) == []  # auto-confirm (day 12) after the parcel arrives (day 12 + 0): no conflict yet


def test_conflict_auto_confirm_before_arrival_says_extend() -> None:
    now = SHIPPED + timedelta(days=11)
    p = plan(purchase(), now, sale_case=sale(), sale_order=SALE_ORDER)
    [c] = [c for c in p.conflicts if c.code == "auto_confirm_before_arrival"]
    assert c.level == "danger" and c.due_at == AUTO and "马上在17网延长收货" in c.body
    # the times are in due_at; the text gives them in Beijing time to the minute, never as ISO
    assert beijing(AUTO) == "11月14日 10:00" and "11月14日 10:00 自动确认收货" in c.body
    assert f"最早约 {beijing(now + timedelta(days=2))}" in c.body
    assert "T02:" not in c.body and "+00:00" not in c.body
    steps = {s.code: s for s in p.steps}
    assert steps["apply_online"].due_at == AUTO  # before auto-confirm, which comes first


def test_conflict_when_even_an_extension_is_too_short() -> None:
    now = SHIPPED + timedelta(days=11)
    ledger = [entry("extend_receipt", "1726110100001", now - timedelta(days=1), resource="purchase", days=1)]
    p = plan(
        purchase(ledger=ledger),
        now + timedelta(hours=12),
        sale_case=sale(),
        sale_order=SALE_ORDER,
    )
    [c] = [c for c in p.conflicts if c.code == "auto_confirm_before_arrival"]
    assert c.due_at == SHIPPED + timedelta(days=13)  # extended by 1 day: still before arrival
    assert "延长收货也来不及" in c.body and "马上在17网线上申请退货" in c.body


def test_no_auto_confirm_conflict_once_applied() -> None:
    now = SHIPPED + timedelta(days=11)
    p = plan(purchase(returns=[return_row()]), now, sale_case=sale(), sale_order=SALE_ORDER)
    assert "auto_confirm_before_arrival" not in codes(p)
    assert {s.code: s for s in p.steps}["apply_online"].done


def test_conflict_not_returnable_carries_the_cost() -> None:
    p = plan(
        purchase(rows=[order_row(category="内衣", title="无痕内衣")]),
        SHIPPED + timedelta(days=3),
        sale_case=sale(),
        sale_order=SALE_ORDER,
    )
    [c] = [c for c in p.conflicts if c.code == "not_returnable"]
    assert c.level == "danger" and c.amount_fen == 5800
    assert "贴身衣物" in c.body and "同意买家退货前" in c.body and "货款 ¥58.00 由你承担" in c.body


def test_conflict_partly_returnable() -> None:
    rows = [order_row(quantity="5", unit_price="40.00")]
    sale_order = Order(
        external_id="4000000000000001",
        status=OrderStatus.REFUNDING,
        platform_status="x",
        created_at=SHIPPED,
        updated_at=SHIPPED,
        lines=(OrderLine(external_id="T1", title="连衣裙", sku_name="黑色 M", quantity=5),),
    )
    p = plan(
        purchase(rows=rows, settings={"style_return_cap": "3"}),
        SHIPPED + timedelta(days=3),
        sale_case=sale(),
        sale_order=sale_order,
    )
    [c] = [c for c in p.conflicts if c.code == "partly_returnable"]
    assert c.amount_fen == 8000 and c.level == "danger" and "3/5 件" in c.title
    assert "单款超量不退" in c.body and "货款 ¥80.00" in c.body


def test_conflict_price_drop() -> None:
    p = plan(
        purchase(rows=[order_row(current_price="48.00")]),
        SHIPPED + timedelta(days=3),
        sale_case=sale(),
        sale_order=SALE_ORDER,
    )
    [c] = [c for c in p.conflicts if c.code == "price_drop"]
    assert c.amount_fen == 1000 and c.level == "warning" and p.eligibility is not None
    assert "17网只退 ¥48.00" in c.body and "差价 ¥10.00" in c.body and "退买家 ¥99.00" in c.body
    assert p.eligibility.expected_refund_fen == 4800


def test_conflict_trade_success() -> None:
    rows = [order_row(status="交易成功", completed_at="2026-11-14 10:00:00")]
    p = plan(purchase(rows=rows), SHIPPED + timedelta(days=13), sale_case=sale(), sale_order=SALE_ORDER)
    [c] = [c for c in p.conflicts if c.code == "trade_success"]
    assert c.level == "danger" and c.amount_fen == 5800 and "货款 ¥58.00 由你承担" in c.body


def test_conflict_downstream_exchange() -> None:
    p = plan(
        purchase(),
        SHIPPED + timedelta(days=3),
        sale_case=sale(kind=AfterSaleKind.EXCHANGE),
        sale_order=SALE_ORDER,
    )
    assert "downstream_exchange" in codes(p)


def test_conflict_refund_only_downstream() -> None:
    p = plan(
        purchase(),
        SHIPPED + timedelta(days=3),
        sale_case=sale(kind=AfterSaleKind.REFUND_ONLY),
        sale_order=SALE_ORDER,
    )
    assert codes(p) == ["refund_only_downstream"] and p.conflicts[0].amount_fen == 5800 and p.steps == ()


def test_conflict_upstream_refused() -> None:
    rows = [order_row()]
    p = plan(
        purchase(rows=rows, returns=[return_row(status="退货失败")]),
        SHIPPED + timedelta(days=9),
        sale_case=sale(),
        sale_order=SALE_ORDER,
    )
    assert "upstream_refused" in codes(p)


def test_return_shipped_downstream_uses_its_time() -> None:
    """The buyer's ship time (or when the case entered return_shipped), never the modified time."""
    shipped_back = SHIPPED + timedelta(days=8)
    later = shipped_back + timedelta(days=3)  # a later buyer message modified the record
    shipped_case = sale(
        status=AfterSaleStatus.RETURN_SHIPPED,
        created_at=SHIPPED + timedelta(days=6),
        updated_at=later,
        facts={"good_return_time": shipped_back.isoformat()},
    )
    p = plan(purchase(), SHIPPED + timedelta(days=9), sale_case=shipped_case, sale_order=SALE_ORDER)
    assert p.arrival_at == shipped_back + timedelta(days=2)
    p = plan(
        purchase(settings={"return_transit": "4d"}),
        SHIPPED + timedelta(days=9),
        sale_case=shipped_case,
        sale_order=SALE_ORDER,
    )
    assert p.arrival_at == shipped_back + timedelta(days=4)
    since = sale(
        status=AfterSaleStatus.RETURN_SHIPPED,
        created_at=SHIPPED + timedelta(days=6),
        updated_at=later,
        facts={"status_since": shipped_back.isoformat()},
    )
    assert plan(
        purchase(), later, sale_case=since, sale_order=SALE_ORDER
    ).arrival_at == shipped_back + timedelta(days=2)
    bare = sale(
        status=AfterSaleStatus.RETURN_SHIPPED, created_at=SHIPPED + timedelta(days=6), updated_at=later
    )
    assert plan(purchase(), later, sale_case=bare, sale_order=SALE_ORDER).arrival_at == SHIPPED + timedelta(
        days=8
    )


def test_own_case_steps_after_signing() -> None:
    ret = return_row(status="代发已签收", return_waybill="SF1", daifa_signed_at="2026-11-08 10:00:00")
    p = plan(purchase(returns=[ret]), SHIPPED + timedelta(days=7))
    steps = {s.code: s for s in p.steps}
    assert steps["stall_processing"].due_at == datetime(2026, 11, 13, 2, tzinfo=UTC)
    assert steps["enter_waybill"].done and steps["apply_online"].done


def test_money_goods_versus_fees() -> None:
    """17网 FAQ, 退货都能按照买的原价退吗: 17网 refunds the goods (at the stall's price), not the fees."""
    rows = [order_row(unit_price="22.00", postage="5.00", service_fee="3.00", paid_total="30.00")]
    p = purchase(rows=rows)
    money = PurchaseMoney.of(p.order)
    assert (money.paid_fen, money.goods_fen, money.fees_fen) == (3000, 2200, 800)
    assert money.breakdown() == "实付 ¥30.00 = 货款 ¥22.00 + 运费 ¥5.00、代发费 ¥3.00"
    assert money.fee_note() == "（本单另付运费 ¥5.00、代发费 ¥3.00，退货不退）"
    # only the total known: the fees are what the total leaves over the goods
    only_total = PurchaseMoney.of(purchase(rows=[order_row(unit_price="22.00", paid_total="30.00")]).order)
    assert only_total.fee_note() == "（本单另付运费/代发费 ¥8.00，退货不退）"
    assert PurchaseMoney.of(purchase().order).fee_note() == ""
    refused = plan(
        purchase(rows=rows, returns=[return_row(status="退货失败")]),
        SHIPPED + timedelta(days=9),
        sale_case=sale(),
        sale_order=SALE_ORDER,
    )
    [c] = [c for c in refused.conflicts if c.code == "upstream_refused"]
    assert c.amount_fen == 2200 and "货款 ¥22.00 由你承担（本单另付运费 ¥5.00、代发费 ¥3.00" in c.body
