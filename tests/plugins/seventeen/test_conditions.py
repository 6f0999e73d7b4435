"""The phrasing table: how a description of returned goods reads (17网's FAQ, "when may a stall
refuse a return" (2): goods that cannot be sold again are not taken back).

Each row: the text an agent or buyer writes, and the findings that make the goods unsellable
(empty: the stall can resell them). Negations ("吊牌未剪", "没洗过", "无异味") read as intact.
"""

from __future__ import annotations

import pytest

from plugins.seventeen.conditions import read_condition, unsellable
from plugins.seventeen.eligibility import Item, Policy, ReturnLine, Verdict, assess

PHRASINGS: list[tuple[str, set[str]]] = [
    # intact: negated or plain
    ("吊牌未剪", set()),
    ("吊牌没剪", set()),
    ("吊牌都没有剪", set()),
    ("没有剪吊牌", set()),
    ("未拆吊牌，未水洗", set()),
    ("吊牌还在，包装完好", set()),
    ("全新未穿", set()),
    ("没穿过，没洗过", set()),
    ("从来没有洗过", set()),
    ("无异味 无破损", set()),
    ("没有味道", set()),
    ("只试穿了一下，不合适", set()),
    ("试穿过，尺码偏小", set()),
    ("不影响二次销售", set()),
    ("完好", set()),
    ("", set()),
    ("水洗标完整", set()),
    # washed
    ("已水洗", {"washed"}),
    ("洗过一次", {"washed"}),
    ("买家说洗了一水就缩了", {"washed"}),
    ("机洗过", {"washed"}),
    ("下过水", {"washed"}),
    # tags and labels
    ("剪吊牌了", {"tag_removed"}),
    ("吊牌剪了", {"tag_removed"}),
    ("吊牌已被剪掉", {"tag_removed"}),
    ("吊牌摘了", {"tag_removed"}),
    ("没有吊牌了", {"tag_removed"}),
    ("吊牌丢了", {"tag_removed"}),
    ("剪标", {"label_cut"}),
    ("领标剪了", {"label_cut"}),
    ("开了扣眼", {"buttonhole"}),
    # worn, damaged, smells, altered
    ("穿过两次", {"worn"}),
    ("穿了一天出门", {"worn"}),
    ("已穿", {"worn"}),
    ("试穿后破了", {"damaged"}),
    ("袖口勾丝", {"damaged"}),
    ("领口有污渍", {"damaged"}),
    ("有香水味", {"odour"}),
    ("一股烟味", {"odour"}),
    ("有异味", {"odour"}),
    ("裤脚改短了", {"altered"}),
    ("无法二次销售", {"unsellable"}),
    ("没有任何异味", set()),
    ("无明显污渍，无破损", set()),
    ("不脏", set()),
    ("有点脏", {"damaged"}),
    ("领口有口红印", {"damaged"}),
    ("腋下有汗渍", {"damaged"}),
    ("有明显穿着痕迹", {"worn"}),
    ("买家把吊牌扔了", {"tag_removed"}),
    # mixed: a negation covers its own clause only
    ("吊牌未剪，但是洗过", {"washed"}),
    ("没洗过，但吊牌剪了", {"tag_removed"}),
    ("穿过，有汗味，吊牌也剪了", {"worn", "odour", "tag_removed"}),
    ("未水洗，有烟味", {"odour"}),
]


@pytest.mark.parametrize(("text", "expected"), PHRASINGS, ids=[t or "empty" for t, _ in PHRASINGS])
def test_phrasing_table(text: str, expected: set[str]) -> None:
    assert {f.code for f in unsellable(text)} == expected


def test_the_table_is_large_and_both_ways() -> None:
    assert len(PHRASINGS) >= 30
    assert sum(1 for _, e in PHRASINGS if not e) >= 12 and sum(1 for _, e in PHRASINGS if e) >= 20


def test_a_defect_the_goods_came_with_is_not_the_merchants() -> None:
    """A quality defect (the stall's) is reported but does not block the return."""
    findings = read_condition("收到就有破洞，质量问题")
    assert findings and all(f.quality_defect for f in findings)
    assert unsellable("收到就有破洞") == []
    assert unsellable("收到商品破损") == [] and unsellable("拆开包裹发现有污渍") == []
    assert {f.code for f in unsellable("穿了以后破洞")} == {"worn", "damaged"}


def test_shop_words_add_to_the_table_and_honour_negation() -> None:
    assert {f.code for f in unsellable("有猫毛", ["猫毛"])} == {"unsellable"}
    assert unsellable("没有猫毛", ["猫毛"]) == []


def _item() -> Item:
    return Item(line_id="L1", style_no="A8821", quantity=1, unit_price_fen=5800, category="连衣裙")


@pytest.mark.parametrize(
    ("condition", "verdict"),
    [
        ("吊牌未剪，没洗过", Verdict.RETURNABLE),
        ("吊牌剪了", Verdict.NOT_RETURNABLE),
        ("洗过一次", Verdict.NOT_RETURNABLE),
        ("只试穿了一下", Verdict.RETURNABLE),
    ],
)
def test_eligibility_reads_the_condition(condition: str, verdict: Verdict) -> None:
    e = assess([ReturnLine(_item(), 1, condition)], [_item()], Policy())
    assert e.verdict is verdict
    if verdict is Verdict.NOT_RETURNABLE:
        assert e.reasons[0].code == "unsellable" and "影响二次销售" in e.reasons[0].text_zh
