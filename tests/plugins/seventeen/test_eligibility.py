"""Return eligibility, one test per case of seeds/003 什么情况下档口可能不接受退货."""

from __future__ import annotations

from plugins.seventeen.eligibility import Item, Policy, ReturnLine, Verdict, assess


def item(**kw) -> Item:  # type: ignore[no-untyped-def]
    base = {
        "line_id": "L1",
        "style_no": "A8821",
        "quantity": 1,
        "unit_price_fen": 5800,
        "color": "黑色",
        "size": "M",
        "title": "碎花连衣裙",
        "category": "连衣裙",
        "stall": "衣丽坊",
    }
    base.update(kw)
    return Item(**base)


def one(it: Item, qty: int = 1, condition: str = "", policy: Policy | None = None, **kw):  # type: ignore[no-untyped-def]
    return assess([ReturnLine(it, qty, condition)], [it], policy or Policy(), **kw)


def test_returnable_refund_at_current_price() -> None:
    e = one(item(current_price_fen=5800))
    assert e.verdict is Verdict.RETURNABLE and e.expected_refund_fen == 5800 and e.carried_fen == 0


def test_price_drop_refunds_the_current_price() -> None:
    """seed 003 退货都能按照买的原价退吗: 档口通常都按商品的当前售价退货."""
    e = one(item(current_price_fen=4800))
    assert e.verdict is Verdict.RETURNABLE and e.expected_refund_fen == 4800 and e.price_drop_fen == 1000


def test_unknown_current_price_assumes_paid_and_says_so() -> None:
    e = one(item())
    assert e.expected_refund_fen == 5800 and not e.price_known and "当前售价未知" in e.notes[0]


def test_delisted_is_not_returnable() -> None:
    """seed 003 (1) 下架商品不退."""
    e = one(item(delisted=True))
    assert e.verdict is Verdict.NOT_RETURNABLE and e.reasons[0].code == "delisted" and e.carried_fen == 5800


def test_intimate_items_never() -> None:
    """seed 003 (2) 贴身衣物(如内衣裤、背心/抹胸、帽子、项链、丝袜) 一旦售出概不可退."""
    for title in ("无痕内衣", "蕾丝抹胸", "渔夫帽子", "锁骨项链", "薄款丝袜"):
        assert one(item(title=title, category="")).reasons[0].code == "intimate", title
    assert one(item(category="内裤")).verdict is Verdict.NOT_RETURNABLE
    assert (
        one(item(title="无痕内衣"), policy=Policy(intimate=())).verdict is Verdict.RETURNABLE
    )  # a shop setting


def test_unsellable_condition() -> None:
    """seed 003 (2) 水洗、剪吊牌、剪标、开扣眼、试穿破损、异味/香水味 → 影响二次销售不退."""
    for condition in ("已水洗", "剪吊牌了", "有香水味", "试穿破损"):
        e = one(item(), condition=condition)
        assert e.verdict is Verdict.NOT_RETURNABLE and e.reasons[0].code == "unsellable", condition
    assert one(item(), condition="完好").verdict is Verdict.RETURNABLE


def test_special_price() -> None:
    """seed 003 (3) 特价商品不退."""
    assert one(item(special_price=True)).reasons[0].code == "special_price"


def test_style_cap_gives_part() -> None:
    """seed 003 (4) 单款超量不退: over the style's cap only part goes back (n of m)."""
    e = one(item(quantity=5), qty=5, policy=Policy(style_cap=3))
    assert e.verdict is Verdict.PARTLY and (e.returnable, e.total) == (3, 5)
    assert e.reasons[0].code == "style_cap" and e.reasons[0].pieces == 2
    assert e.refused_cost_fen == 2 * 5800
    per_stall = one(item(quantity=5), qty=5, policy=Policy(style_cap=3, stall_caps={"衣丽坊": 1}))
    assert per_stall.returnable == 1


def test_no_cap_configured_adds_a_note_not_a_refusal() -> None:
    e = one(item(quantity=2), qty=2)
    assert e.verdict is Verdict.RETURNABLE and "上限" in e.notes[0] and e.expected_refund_fen == 2 * 5800


def test_kanban_one_size_several_colours() -> None:
    """seed 003 (5) 看版拿货不退不换: 同个尺码不同颜色 → none (default) or part."""
    items = [item(line_id=f"L{i}", color=c) for i, c in enumerate(("黑色", "白色", "杏色"))]
    lines = [ReturnLine(i, 1) for i in items]
    e = assess(lines, items, Policy())
    assert e.verdict is Verdict.NOT_RETURNABLE and e.reasons[0].code == "kanban" and e.reasons[0].pieces == 3
    e = assess(lines, items, Policy(kanban_max=1))
    assert e.verdict is Verdict.PARTLY and (e.returnable, e.total) == (1, 3)
    sizes = [item(line_id="L1", size="S"), item(line_id="L2", size="M", color="白色")]
    assert assess([ReturnLine(i, 1) for i in sizes], sizes, Policy()).verdict is Verdict.RETURNABLE


def test_trade_success_blocks_everything() -> None:
    """seed 003 备注(1): 订单交易成功后不支持线上申请退货."""
    e = one(item(current_price_fen=5800), trade_success=True)
    assert (
        e.verdict is Verdict.NOT_RETURNABLE
        and e.reasons[0].code == "trade_success"
        and e.expected_refund_fen == 0
    )


def test_policy_from_settings() -> None:
    p = Policy.from_settings(
        {
            "style_return_cap": "3",
            "stall_return_caps": "衣丽坊=2, 潮品=5",
            "kanban_return_max": "1",
            "intimate_categories": "袜子",
        }
    )
    assert p.style_cap == 3 and p.cap_for("衣丽坊") == 2 and p.cap_for("x") == 3 and p.kanban_max == 1
    assert p.intimate == ("袜子",)
    assert Policy.from_settings({}).style_cap is None and "内衣" in Policy.from_settings({}).intimate
