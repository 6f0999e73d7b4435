"""The hooks: registration, the demo sandbox, and insights on 17网 cases and on linked sales."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import plugins.seventeen as plugin
from hub.domain import (
    AfterSale,
    AfterSaleKind,
    AfterSaleStatus,
    Insight,
    Order,
    OrderLine,
    OrderStatus,
    Shop,
)
from hub.platform import CaseContext, LinkedOrder
from hub.plugins import build_registry, get_plugin_manager
from hub.testing.fake_server import FakeClock
from plugins.seventeen.chain import PurchaseMoney, beijing
from plugins.seventeen.sandbox import DEMO_TAOBAO_TIDS, SeventeenSandbox
from plugins.seventeen.snapshot import PURCHASE, PURCHASE_RETURN

from .conftest import NOW, fetch_all, make_adapter

SHOP = Shop(name="17网代发", platform="seventeen", settings={"style_return_cap": "3"})
TAOBAO = Shop(name="淘宝店", platform="taobao")


def test_hook_hub_register_platforms_and_sandboxes() -> None:
    registry = build_registry(get_plugin_manager(load_entrypoints=False, plugins=[plugin]))
    info = registry.info("seventeen")
    assert {c.action for c in info.capabilities if c.supported} == {
        "apply_return",
        "daifa_agreed",
        "enter_return_waybill",
        "daifa_signed",
        "stall_result",
        "extend_receipt",
    }
    assert all(c.reason for c in info.capabilities if not c.supported)
    assert "import_dir" in {s.name for s in info.settings}
    assert isinstance(registry.sandboxes["seventeen"](), SeventeenSandbox)


async def demo(tmp_path: Path) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    sandbox = SeventeenSandbox(clock=FakeClock(NOW))
    [shop] = await sandbox.start(str(tmp_path))
    assert Path(shop.settings["import_dir"]) == tmp_path / "seventeen" / "imports"
    adapter = make_adapter(dict(shop.settings), tmp_path / "data", sandbox.world.clock.now)
    orders = {r.external_id: adapter.map_record(r) for r in (await fetch_all(adapter, PURCHASE))[0]}
    cases = {r.external_id: adapter.map_record(r) for r in (await fetch_all(adapter, PURCHASE_RETURN))[0]}
    await sandbox.stop()
    return sandbox, orders, cases


ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
ENGLISH = re.compile(r"\b[a-z]{3,}\b")  # style numbers (A8821) and waybills (SF1) are not words


def assert_agent_text(insights: Sequence[Insight]) -> None:
    """What the agent reads is Chinese, without ISO times, and does not repeat the source."""
    for i in insights:
        for text in (i.title, i.body):
            assert not ISO_TIME.search(text), text
            assert not ENGLISH.search(text), text
            assert "FAQ" not in text and ".md" not in text, text  # sources are in ``source``


def test_hook_hub_case_insights_nothing_without_a_case() -> None:
    assert plugin.hub_case_insights(CaseContext(shop=TAOBAO, case=None, order=None)) is None


async def test_hook_hub_case_insights_on_a_linked_taobao_return(tmp_path: Path) -> None:
    """The demo's first linked pair: the buyer returns on Taobao; 17网 auto-confirms before arrival."""
    _, orders, _ = await demo(tmp_path)
    purchase = next(
        o for o in orders.values() if any(ln.sale_external_id == DEMO_TAOBAO_TIDS[0] for ln in o.links)
    )
    sale_order = Order(
        external_id=DEMO_TAOBAO_TIDS[0],
        status=OrderStatus.REFUNDING,
        platform_status="TRADE_FINISHED",
        created_at=NOW - timedelta(days=12),
        updated_at=NOW,
        lines=(OrderLine(external_id="o1", title="法式碎花连衣裙", sku_name="颜色分类:黑色;尺码:M"),),
    )
    case = AfterSale(
        external_id="rf1",
        order_external_id=DEMO_TAOBAO_TIDS[0],
        kind=AfterSaleKind.RETURN_REFUND,
        status=AfterSaleStatus.AWAITING_RETURN,
        platform_status="WAIT_BUYER_RETURN_GOODS",
        created_at=NOW - timedelta(days=1),
        updated_at=NOW - timedelta(hours=3),
        refund_fen=12900,
        line_external_id="o1",
    )
    ctx = CaseContext(
        shop=TAOBAO,
        case=case,
        order=sale_order,
        now=NOW,
        linked=[LinkedOrder(shop=SHOP, order=purchase, cases=[])],
    )
    insights = plugin.hub_case_insights(ctx)
    assert insights
    assert_agent_text(insights)
    kinds = [i.kind for i in insights]
    assert kinds[0] == "link" and "eligibility" in kinds and "guide" in kinds
    steps = [i for i in insights if i.kind == "upstream_step"]
    assert {i.data["step"] for i in steps} >= {
        "apply_online",
        "enter_waybill",
        "extend_receipt",
        "claim_within_15d",
    }
    assert all(
        i.due_at
        for i in steps
        if i.data["step"] != "ask_stall"
        and i.data["step"] != "return_address"
        and i.data["step"] != "stall_processing"
    )
    [warn] = [i for i in insights if i.data.get("conflict") == "auto_confirm_before_arrival"]
    assert warn.level == "danger" and warn.due_at is not None and warn.due_at < NOW + timedelta(days=1)
    assert f"17网将于 {beijing(warn.due_at)} 自动确认收货" in warn.body
    guide = next(i for i in insights if i.kind == "guide")
    assert guide.data["downstream_refund_fen"] == 12900 and guide.data["upstream_refund_fen"] == 5800
    assert "17网预计退 ¥58.00" in guide.title and "你要退买家 ¥129.00" in guide.body
    # the purchase's total (with postage and the 代发 fee) and the goods never look contradictory
    money = PurchaseMoney.of(purchase)
    assert money.fees_fen > 0 and money.paid_fen == purchase.paid_fen
    link = insights[0]
    assert link.title == f"由17网采购单 {purchase.external_id} 代发" and money.breakdown() in link.body
    elig = next(i for i in insights if i.kind == "eligibility")
    assert f"¥{elig.data['cost_fen'] / 100:.2f} 是这 1 件的货款" in elig.body
    assert money.breakdown() in elig.body and "运费、代发费不退" in elig.body
    assert money.fee_note() in guide.body


async def test_hook_hub_case_insights_other_platform_without_links_says_nothing(tmp_path: Path) -> None:
    case = AfterSale(
        external_id="rf1",
        order_external_id="1",
        kind=AfterSaleKind.RETURN_REFUND,
        status=AfterSaleStatus.REQUESTED,
        platform_status="x",
        created_at=NOW,
        updated_at=NOW,
    )
    assert plugin.hub_case_insights(CaseContext(shop=TAOBAO, case=case, order=None)) is None


async def test_hook_hub_case_insights_on_17wang_cases(tmp_path: Path) -> None:
    _, orders, cases = await demo(tmp_path)
    capped = next(c for c in cases.values() if c.facts.get("quantity") == 5)
    ins = plugin.hub_case_insights(
        CaseContext(shop=SHOP, case=capped, order=orders[capped.order_external_id], now=NOW)
    )
    assert ins
    elig = next(i for i in ins if i.kind == "eligibility")
    assert elig.data["verdict"] == "partly" and (elig.data["returnable"], elig.data["total"]) == (3, 5)
    assert elig.level == "warning" and "只能部分退回档口（3/5 件）" in elig.title
    assert "单款超量不退" in elig.body and elig.source and "[" not in elig.body  # no repeated source
    # the case asks for all 5 pieces at the stall's price; the stall is expected to take back 3
    assert capped.refund_fen == capped.facts["expected_refund_fen"] == 5 * elig.amount_fen // 3
    assert_agent_text(ins)
    washed = next(c for c in cases.values() if c.facts.get("condition") == "已水洗")
    ins = plugin.hub_case_insights(
        CaseContext(shop=SHOP, case=washed, order=orders[washed.order_external_id], now=NOW)
    )
    elig = next(i for i in ins if i.kind == "eligibility")
    assert elig.data["reasons"] == ["unsellable"] and elig.level == "danger" and "影响二次销售" in elig.body
    assert_agent_text(ins)
    exchange = next(c for c in cases.values() if c.facts.get("exchange_requested"))
    ins = plugin.hub_case_insights(
        CaseContext(shop=SHOP, case=exchange, order=orders[exchange.order_external_id], now=NOW)
    )
    assert ins and ins[0].title == "17网不支持换货" and "重新下单" in ins[0].body
    assert_agent_text(ins)


async def test_every_demo_case_speaks_chinese(tmp_path: Path) -> None:
    """Every insight on every 17网 demo case: Chinese, Beijing times only, no repeated source."""
    _, orders, cases = await demo(tmp_path)
    for case in cases.values():
        order = orders.get(case.order_external_id)
        ins = plugin.hub_case_insights(CaseContext(shop=SHOP, case=case, order=order, now=NOW)) or []
        assert_agent_text(ins)
        for i in ins:
            if i.kind == "eligibility":
                assert i.source and i.source not in i.body


async def test_demo_covers_every_case(tmp_path: Path) -> None:
    _, orders, cases = await demo(tmp_path)
    statuses = {c.status for c in cases.values()}
    assert statuses >= {
        AfterSaleStatus.REQUESTED,
        AfterSaleStatus.AWAITING_RETURN,
        AfterSaleStatus.RETURN_SHIPPED,
        AfterSaleStatus.SUCCEEDED,
        AfterSaleStatus.SELLER_REFUSED,
        AfterSaleStatus.CLOSED,
    }
    assert {o.status for o in orders.values()} >= {
        OrderStatus.PENDING_PAYMENT,
        OrderStatus.PAID,
        OrderStatus.SHIPPED,
        OrderStatus.COMPLETED,
        OrderStatus.REFUNDING,
        OrderStatus.CANCELLED,
    }
    assert any(o.facts["out_of_stock"] and o.facts["ship_available_after_3d"] for o in orders.values())
    assert any(c.warnings for c in cases.values())
    linked = [o for o in orders.values() if any(ln.sale_external_id for ln in o.links)]
    assert len(linked) == 6
    # deterministic for a seed
    _, again, _ = await demo(tmp_path / "again")
    assert sorted(again) == sorted(orders)


async def test_demo_clock_is_real_time_by_default(tmp_path: Path) -> None:
    sandbox = SeventeenSandbox()
    await sandbox.start(str(tmp_path))
    assert abs(sandbox.world.clock.now() - datetime.now(UTC)) < timedelta(minutes=1)
    sandbox.advance(timedelta(days=1))
    assert (tmp_path / "seventeen" / "imports" / "17网退货导出.csv").exists()


async def test_demo_cases_waiting_on_the_merchant_all_have_a_clock(tmp_path: Path) -> None:
    """Every open demo return has a next action; the merchant's have a due time (no silent waits)."""
    from hub.domain import Party
    from hub.rules import next_action
    from plugins.seventeen.info import INFO
    from plugins.seventeen.rules import STATES, TABLE

    _, orders, cases = await demo(tmp_path)
    seen: dict[str, int] = {}
    for case in cases.values():
        assert (case.kind.value, case.status.value) in STATES
        action = next_action(case, TABLE, merchant_side=INFO.merchant_side, status_since=case.created_at)
        if not case.status.is_open:
            assert action is None
            continue
        assert action is not None and action.rule_id, case.external_id
        seen[action.party.value] = seen.get(action.party.value, 0) + 1
        if action.party is Party.MERCHANT:
            assert action.due_at is not None, (case.external_id, case.status, action)
        else:
            assert action.party is Party.SUPPLIER
    assert seen.get("merchant", 0) >= 2 and seen.get("supplier", 0) >= 3
    for order in orders.values():
        action = next_action(order, TABLE, merchant_side=INFO.merchant_side)
        if action is not None:
            assert action.party in (Party.MERCHANT, Party.SUPPLIER)
