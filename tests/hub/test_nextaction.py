"""The stored next action through the store: the chain across order links, orders that hold for a
refund, re-submission, status-entry times, shop policy and recomputation when the rules change.

Two made-up platforms stand in for a sales platform ("shopx", the merchant sells) and a sourcing
platform ("stallx", the merchant buys): the core knows neither by name.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from hub.domain import (
    AfterSale,
    AfterSaleKind,
    AfterSaleStatus,
    OnExpiry,
    Order,
    OrderLink,
    OrderRole,
    OrderStatus,
    Party,
    RawRecord,
)
from hub.rules import Match, Penalty, Rule, RuleTable
from hub.store.base import tbl
from hub.store.cases import CaseFilter, all_cases, list_cases
from hub.store.links import resolve_links
from hub.store.models import AfterSaleRecord, OrderRecord, ShopRecord
from hub.store.nextaction import HOLD_ACTION, recompute_if_changed
from hub.store.upsert import upsert_batch

T0 = datetime(2026, 11, 6, 2, 0, tzinfo=UTC)  # a Friday, 10:00 in Beijing
C = tbl(AfterSaleRecord)
O = tbl(OrderRecord)  # noqa: E741


def _rule(rid: str, statuses: set[str], **kw: Any) -> Rule:
    base: dict[str, Any] = dict(
        id=rid,
        match=Match(statuses=frozenset(statuses)),
        party=Party.MERCHANT,
        action="reply",
        on_expiry=OnExpiry.AUTO_AGREE,
        source="test rule",
        summary_zh="测试",
        summary_en="test",
    )
    base.update(kw)
    return Rule(**base)


SALE_RULES = RuleTable(
    platform="shopx",
    states=frozenset(
        {("refund_only", "requested"), ("return_refund", "requested"), ("return_refund", "awaiting_return")}
    ),
    rules=(
        _rule(
            "shopx.reply",
            {"requested"},
            anchor=("fact:requested_at", "created_at"),
            duration=timedelta(hours=72),
            setting="reply_window",
            consequence_zh="平台自动同意退款",
            consequence_en="the platform agrees the refund automatically",
        ),
        _rule(
            "shopx.buyer_ships",
            {"awaiting_return"},
            party=Party.BUYER,
            action="ship_return",
            on_expiry=OnExpiry.AUTO_CLOSE,
            duration=timedelta(days=7),
            counting="natural_days",
        ),
        _rule(
            "shopx.ship",
            {"paid"},
            match=Match(subject="order", statuses=frozenset({"paid"})),
            anchor="paid_at",
            action="ship",
            on_expiry=OnExpiry.PENALTY,
            duration=timedelta(hours=48),
            penalty=Penalty(percent="5", cap_fen=3000),
        ),
    ),
)

STALL_RULES = RuleTable(
    platform="stallx",
    rules=(
        _rule(
            "stallx.send_back",
            {"awaiting_return"},
            action="ship_return",
            on_expiry=OnExpiry.AUTO_CONFIRM,
            duration=timedelta(hours=30),
            consequence_zh="自动确认收货，货款不退",
            consequence_en="receipt is confirmed automatically; the cost is not refunded",
        ),
        _rule(
            "stallx.stall_checks",
            {"return_shipped"},
            party=Party.SUPPLIER,
            action="confirm_receipt",
            on_expiry=OnExpiry.AUTO_REFUND,
            duration=timedelta(days=5),
        ),
    ),
)


async def _shop(engine: Any, name: str, platform: str) -> int:
    async with engine.begin() as conn:
        res = await conn.execute(
            tbl(ShopRecord)
            .insert()
            .values(
                platform=platform, name=name, settings={}, needs_reauth=False, created_at=T0, updated_at=T0
            )
        )
        return int(res.inserted_primary_key[0])


async def _put(engine: Any, shop_id: int, objs: list[Order | AfterSale], rules: RuleTable, **kw: Any) -> None:
    by_id = {o.external_id: o for o in objs}
    records = [
        RawRecord(
            resource="order" if isinstance(o, Order) else "case",
            external_id=o.external_id,
            payload={"id": o.external_id, "v": o.updated_at.isoformat(), "s": o.status.value, "n": repr(o)},
            updated_at=o.updated_at,
        )
        for o in objs
    ]
    async with engine.begin() as conn:
        await upsert_batch(
            conn,
            shop_id=shop_id,
            records=records,
            mapper=lambda raw: by_id[raw.external_id],
            rules=rules,
            settings=kw.get("settings", {}),
            now=T0,
            merchant_side=kw.get("merchant_side", Party.MERCHANT),
        )


def _case(ext: str, order: str, status: AfterSaleStatus, at: datetime, **kw: Any) -> AfterSale:
    base: dict[str, Any] = dict(
        external_id=ext,
        order_external_id=order,
        kind=AfterSaleKind.RETURN_REFUND,
        status=status,
        platform_status=status.value,
        created_at=T0,
        updated_at=at,
        refund_fen=5000,
    )
    base.update(kw)
    return AfterSale(**base)


def _order(ext: str, status: OrderStatus, **kw: Any) -> Order:
    base: dict[str, Any] = dict(
        external_id=ext, status=status, platform_status=status.value, created_at=T0, updated_at=T0, paid_at=T0
    )
    base.update(kw)
    return Order(**base)


async def _row(engine: Any, ext: str) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(select(C).where(C.c.external_id == ext))).one()


async def _order_row(engine: Any, ext: str) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(select(O).where(O.c.external_id == ext))).one()


async def _chain_world(engine: Any) -> tuple[int, int]:
    sale, stall = await _shop(engine, "sale-shop", "shopx"), await _shop(engine, "stall-shop", "stallx")
    await _put(
        engine,
        sale,
        [
            _order("S1", OrderStatus.SHIPPED, shipped_at=T0),
            # the buyer must ship the return within 7 natural days: the buyer's clock, days away
            _case("R1", "S1", AfterSaleStatus.AWAITING_RETURN, T0 + timedelta(hours=1)),
            # another merchant case, due in 40 h: the chain's 30 h must sort before it
            _case("R9", "S9", AfterSaleStatus.REQUESTED, T0, created_at=T0 - timedelta(hours=32)),
        ],
        SALE_RULES,
    )
    await _put(
        engine,
        stall,
        [
            _order(
                "P1", OrderStatus.SHIPPED, role=OrderRole.PURCHASE, links=(OrderLink(sale_external_id="S1"),)
            ),
            # upstream: the merchant must send the goods back to the stall within 30 h
            _case("U1", "P1", AfterSaleStatus.AWAITING_RETURN, T0 + timedelta(hours=2)),
        ],
        STALL_RULES,
        merchant_side=Party.BUYER,
    )
    async with engine.begin() as conn:
        assert await resolve_links(conn) == 1
    return sale, stall


async def test_a_sale_case_sorts_by_the_earliest_merchant_deadline_of_its_chain(engine: Any) -> None:
    await _chain_world(engine)
    r1, u1 = await _row(engine, "R1"), await _row(engine, "U1")
    upstream_due = T0 + timedelta(hours=2 + 30)
    assert u1.deadline_party == "merchant" and u1.deadline_due_at == upstream_due and u1.deadline_via is None
    # the sale case itself waits on the buyer (7 natural days), but the merchant must act upstream sooner
    assert r1.own_action["party"] == "buyer"
    assert r1.deadline_party == "merchant" and r1.deadline_action == "ship_return"
    assert r1.deadline_due_at == r1.work_due_at == upstream_due
    assert r1.deadline_via == {
        "subject": "case",
        "platform": "stallx",
        "shop": "stall-shop",
        "external_id": "U1",
        "label": "自动确认收货，货款不退",
        "case_id": u1.id,
    }
    assert r1.deadline_consequence_en == "receipt is confirmed automatically; the cost is not refunded"
    # the work list: R1 (via the stall, 32 h) before R9 (its own 40 h)
    items = await all_cases(engine, CaseFilter(now=T0, orders=False))
    assert [c["external_id"] for c in items][:3] == ["R1", "U1", "R9"]
    shown = items[0]["next_action"]
    assert shown["via"]["external_id"] == "U1" and shown["party"] == "merchant"
    # --awaiting merchant keeps it; --awaiting buyer does not (one answer everywhere)
    merchant = await all_cases(engine, CaseFilter(now=T0, awaiting=["seller"], orders=False))
    assert "R1" in [c["external_id"] for c in merchant]
    buyer = await all_cases(engine, CaseFilter(now=T0, awaiting=["buyer"], orders=False))
    assert "R1" not in [c["external_id"] for c in buyer]


async def test_the_upstream_case_takes_a_sooner_sale_deadline(engine: Any) -> None:
    sale, _ = await _chain_world(engine)
    # a refund request on the sale, due in 10 h: sooner than the upstream's 30 h
    await _put(
        engine,
        sale,
        [_case("R2", "S1", AfterSaleStatus.REQUESTED, T0, created_at=T0 - timedelta(hours=62))],
        SALE_RULES,
    )
    u1, r2 = await _row(engine, "U1"), await _row(engine, "R2")
    assert r2.deadline_due_at == T0 + timedelta(hours=10) and r2.deadline_via is None
    assert u1.deadline_due_at == T0 + timedelta(hours=10)
    assert u1.deadline_via["external_id"] == "R2" and u1.deadline_via["platform"] == "shopx"
    assert u1.own_action["due_at"] == (T0 + timedelta(hours=32)).isoformat()


async def test_the_chain_is_recomputed_when_the_upstream_side_changes(engine: Any) -> None:
    _, stall = await _chain_world(engine)
    # the merchant shipped the goods back: now the stall must check them (the supplier's clock)
    await _put(
        engine,
        stall,
        [_case("U1", "P1", AfterSaleStatus.RETURN_SHIPPED, T0 + timedelta(hours=5))],
        STALL_RULES,
    )
    u1, r1 = await _row(engine, "U1"), await _row(engine, "R1")
    assert u1.deadline_party == "supplier"
    # no merchant deadline left in the chain: the sale case shows its own (the buyer's) clock
    assert r1.deadline_via is None and r1.deadline_party == "buyer"
    assert r1.deadline_due_at == datetime(2026, 11, 13, 16, 0, tzinfo=UTC)  # 00:00 Beijing, 7 days on


async def test_an_unshipped_order_with_an_open_refund_holds_instead_of_shipping(engine: Any) -> None:
    sale = await _shop(engine, "sale-shop", "shopx")
    await _put(engine, sale, [_order("S2", OrderStatus.PAID, paid_fen=20000)], SALE_RULES)
    s2 = await _order_row(engine, "S2")
    assert s2.deadline_action == "ship" and s2.in_work and s2.deadline_penalty_fen == 1000
    assert s2.deadline_consequence_zh == "违约赔付 ¥10.00"
    refund = _case(
        "R3", "S2", AfterSaleStatus.REQUESTED, T0 + timedelta(hours=1), kind=AfterSaleKind.REFUND_ONLY
    )
    await _put(engine, sale, [refund], SALE_RULES)
    s2 = await _order_row(engine, "S2")
    assert s2.deadline_action == HOLD_ACTION and s2.in_work and s2.deadline_party == "merchant"
    assert s2.deadline_due_at == T0 + timedelta(hours=72)  # answer the refund by its own deadline
    assert s2.deadline_via["external_id"] == "R3" and s2.deadline_penalty_fen is None
    assert "暂停发货" in s2.deadline_consequence_zh and "hold the shipment" in s2.deadline_consequence_en
    items = await all_cases(engine, CaseFilter(now=T0, orders=True))
    order_items = [c for c in items if c["item"] == "order"]
    assert [c["next_action"]["action"] for c in order_items] == [HOLD_ACTION]
    # the request closes: the ship clock (and its penalty) is back
    await _put(engine, sale, [_case("R3", "S2", AfterSaleStatus.CLOSED, T0 + timedelta(hours=2))], SALE_RULES)
    s2 = await _order_row(engine, "S2")
    assert s2.deadline_action == "ship" and s2.deadline_due_at == T0 + timedelta(hours=48)


async def test_orders_page_with_cases_by_keyset_without_repeats(engine: Any) -> None:
    sale = await _shop(engine, "sale-shop", "shopx")
    objs: list[Order | AfterSale] = []
    for i in range(7):
        objs.append(_order(f"SO{i}", OrderStatus.PAID, paid_at=T0 + timedelta(hours=i)))
        objs.append(
            _case(f"RC{i}", f"X{i}", AfterSaleStatus.REQUESTED, T0, created_at=T0 + timedelta(hours=i - 24))
        )
    await _put(engine, sale, objs, SALE_RULES)
    f = CaseFilter(now=T0, orders=True)
    expected = [(c["item"], c["id"]) for c in await all_cases(engine, f)]
    assert len(expected) == 14
    seen: list[tuple[str, int]] = []
    cursor = None
    while True:
        page = await list_cases(engine, f, limit=3, cursor=cursor)
        seen.extend((c["item"], c["id"]) for c in page.items)
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == expected
    # equal due times: the case comes before the order (orders due at paid_at + 48 h = created + 72 h)
    dues = [c["next_action"]["due_at"] for c in await all_cases(engine, f)]
    assert dues == sorted(dues)


async def test_resubmission_restarts_the_reply_clock_and_status_since_comes_from_the_platform(
    engine: Any,
) -> None:
    sale = await _shop(engine, "sale-shop", "shopx")
    await _put(engine, sale, [_case("R4", "S4", AfterSaleStatus.REQUESTED, T0)], SALE_RULES)
    assert (await _row(engine, "R4")).deadline_due_at == T0 + timedelta(hours=72)
    await _put(
        engine, sale, [_case("R4", "S4", AfterSaleStatus.SELLER_REFUSED, T0 + timedelta(days=1))], SALE_RULES
    )
    again = T0 + timedelta(days=3)
    resubmitted = _case(
        "R4",
        "S4",
        AfterSaleStatus.REQUESTED,
        again + timedelta(hours=6),
        facts={"requested_at": again.isoformat()},
    )
    await _put(engine, sale, [resubmitted], SALE_RULES)
    r4 = await _row(engine, "R4")
    assert r4.deadline_due_at == again + timedelta(hours=72)
    assert r4.status_since == again  # the re-submission's own time, not the version's modified time
    # a later message (a newer modified time, same status) never moves the clock
    await _put(
        engine,
        sale,
        [
            _case(
                "R4",
                "S4",
                AfterSaleStatus.REQUESTED,
                again + timedelta(days=1),
                facts={"requested_at": again.isoformat()},
                description="buyer added a photo",
            )
        ],
        SALE_RULES,
    )
    assert (await _row(engine, "R4")).deadline_due_at == again + timedelta(hours=72)
    # the platform's own status-entry time is kept as status_since
    entered = T0 + timedelta(hours=3)
    await _put(
        engine,
        sale,
        [
            _case(
                "R5",
                "S5",
                AfterSaleStatus.AWAITING_RETURN,
                T0 + timedelta(days=2),
                facts={"status_since": entered.isoformat()},
            )
        ],
        SALE_RULES,
    )
    r5 = await _row(engine, "R5")
    assert r5.status_since == entered
    assert r5.deadline_due_at == datetime(2026, 11, 13, 16, 0, tzinfo=UTC)  # 7 natural days from entry


async def test_a_policy_setting_change_recomputes_stored_next_actions(engine: Any) -> None:
    sale = await _shop(engine, "sale-shop", "shopx")
    await _put(engine, sale, [_case("R6", "S6", AfterSaleStatus.REQUESTED, T0)], SALE_RULES)
    assert (await recompute_if_changed(engine, sale, SALE_RULES, {})) == 0  # first digest: nothing differs
    assert await recompute_if_changed(engine, sale, SALE_RULES, {}) is None  # unchanged: nothing read
    n = await recompute_if_changed(engine, sale, SALE_RULES, {"reply_window": "24h"})
    assert n == 1
    r6 = await _row(engine, "R6")
    assert r6.deadline_due_at == r6.work_due_at == T0 + timedelta(hours=24) and r6.deadline_source == "policy"
