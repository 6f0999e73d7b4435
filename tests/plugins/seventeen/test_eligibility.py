"""Return eligibility, one test per case of 17网's FAQ "when may a stall refuse a return"."""

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
    """17网 FAQ 退货都能按照买的原价退吗: 档口通常都按商品的当前售价退货."""
    e = one(item(current_price_fen=4800))
    assert e.verdict is Verdict.RETURNABLE and e.expected_refund_fen == 4800 and e.price_drop_fen == 1000


def test_unknown_current_price_assumes_paid_and_says_so() -> None:
    e = one(item())
    assert e.expected_refund_fen == 5800 and not e.price_known and "当前售价未知" in e.notes[0]


def test_delisted_is_not_returnable() -> None:
    """17网 FAQ (1) 下架商品不退."""
    e = one(item(delisted=True))
    assert e.verdict is Verdict.NOT_RETURNABLE and e.reasons[0].code == "delisted" and e.carried_fen == 5800


def test_intimate_items_never_decided_by_category_not_title() -> None:
    """17网 FAQ (2): 贴身衣物(如内衣裤、背心/抹胸、帽子、项链、丝袜) 一旦售出概不可退 — by category data."""
    for category in ("内衣", "女士内裤", "蕾丝抹胸", "渔夫帽", "锁骨项链", "丝袜", "内衣/家居服 > 文胸"):
        assert one(item(category=category)).reasons[0].code == "intimate", category
    # ordinary titles never read as an excluded category: the category decides
    for title, category in (
        ("无痕内衣 套装", "连衣裙"),
        ("吊带背心裙 法式", "连衣裙"),
        ("连帽卫衣 宽松", "卫衣"),
        ("项链款吊坠印花T恤", "T恤"),
        ("丝袜搭配短裙", "半身裙"),
    ):
        assert one(item(title=title, category=category)).verdict is Verdict.RETURNABLE, title
    assert one(item(category="背心裙")).verdict is Verdict.RETURNABLE  # a dress
    assert one(item(category="睡衣/家居服套装")).verdict is Verdict.RETURNABLE
    # without category data, the shop's 货号 list decides; a title alone never does
    assert one(item(title="无痕内衣", category="")).verdict is Verdict.RETURNABLE
    shop = Policy.from_settings({"style_categories": "A8821=内裤, B3307=T恤"})
    assert one(item(title="碎花", category=""), policy=shop).reasons[0].code == "intimate"
    assert one(item(category="内衣"), policy=Policy(intimate=())).verdict is Verdict.RETURNABLE


def test_unsellable_condition() -> None:
    """17网 FAQ (2) 水洗、剪吊牌、剪标、开扣眼、试穿破损、异味/香水味 → 影响二次销售不退."""
    for condition in ("已水洗", "剪吊牌了", "有香水味", "试穿破损"):
        e = one(item(), condition=condition)
        assert e.verdict is Verdict.NOT_RETURNABLE and e.reasons[0].code == "unsellable", condition
    assert one(item(), condition="完好").verdict is Verdict.RETURNABLE


def test_special_price() -> None:
    """17网 FAQ (3) 特价商品不退."""
    assert one(item(special_price=True)).reasons[0].code == "special_price"


def test_style_cap_gives_part() -> None:
    """17网 FAQ (4) 单款超量不退: over the style's cap only part goes back (n of m)."""
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
    """17网 FAQ (5) 看版拿货不退不换: 同个尺码不同颜色 → none (default) or part."""
    items = [item(line_id=f"L{i}", color=c) for i, c in enumerate(("黑色", "白色", "杏色"))]
    lines = [ReturnLine(i, 1) for i in items]
    e = assess(lines, items, Policy())
    assert e.verdict is Verdict.NOT_RETURNABLE and e.reasons[0].code == "kanban" and e.reasons[0].pieces == 3
    e = assess(lines, items, Policy(kanban_max=1))
    assert e.verdict is Verdict.PARTLY and (e.returnable, e.total) == (1, 3)
    sizes = [item(line_id="L1", size="S"), item(line_id="L2", size="M", color="白色")]
    assert assess([ReturnLine(i, 1) for i in sizes], sizes, Policy()).verdict is Verdict.RETURNABLE


def test_trade_success_blocks_everything() -> None:
    """17网 FAQ 备注(1): 订单交易成功后不支持线上申请退货."""
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


def test_refund_is_the_lower_of_current_price_and_price_paid() -> None:
    """The stall refunds its current price; a price that rose never refunds more than was paid."""
    risen = one(item(current_price_fen=6800))
    assert risen.expected_refund_fen == 5800 and risen.price_drop_fen == 0 and risen.carried_fen == 0
    dropped = one(item(current_price_fen=5000), qty=1)
    assert dropped.expected_refund_fen == 5000 and dropped.carried_fen == 800
    assert Item.from_fact({"unit_price_fen": 5800, "current_price_fen": 9900}).refund_unit_fen == 5800


def test_mapped_return_expects_the_lower_price() -> None:
    from plugins.seventeen.mapping import map_raw

    from .helpers import order_row, records, return_row

    for current, expected in (("68.00", 5800), ("48.00", 4800), (None, 5800)):
        _, returns = records([[order_row(current_price=current)]], [return_row()])
        raw = returns["TH1"]
        case = map_raw(raw.resource, raw.payload, raw.updated_at)
        assert case.facts["expected_refund_fen"] == expected and case.refund_fen == expected, current


def test_delisted_after_the_application_is_the_stalls_call() -> None:
    """17网 FAQ: goods delisted after the return was applied for: 代发 tries, the stall decides."""
    before = one(item(delisted=True))
    assert before.verdict is Verdict.NOT_RETURNABLE
    after = one(item(delisted=True), applied=True)
    assert after.verdict is Verdict.RETURNABLE and any("结果以档口为准" in n for n in after.notes)
