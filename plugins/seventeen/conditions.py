"""Reading a free-text description of returned goods: can the stall resell them? Pure.

The wholesale market's standard (17网's dropship after-sales FAQ, "when may a stall refuse a
return", (2)): goods that cannot be sold again are not taken back: washed, tags or labels cut,
buttonholes opened, torn by trying on, smelling of sweat, smoke or perfume. Buyers and agents
write this in many ways ("洗过一次", "吊牌剪了", "穿了两天"), and just as often say the opposite
("吊牌未剪", "没洗过", "无异味"). So each finding is a pattern, and a finding preceded by a
negation in the same clause ("未", "没(有)", "无", "不", "并未" ...) does not count; some patterns are
object-first ("吊牌未剪", "吊牌还在") and read as intact. Quality defects the goods came with
("质量问题", "收到就有破洞") are the stall's, not a reason to refuse, and are reported apart.

:func:`read_condition` returns the findings; the phrasing table in the tests is the spec.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

#: finding code -> (Chinese label, English label)
LABELS: dict[str, tuple[str, str]] = {
    "washed": ("水洗过", "washed"),
    "tag_removed": ("吊牌已剪/已拆", "tag cut or removed"),
    "label_cut": ("剪了标", "label cut"),
    "buttonhole": ("开了扣眼", "buttonholes opened"),
    "worn": ("穿过", "worn"),
    "damaged": ("有破损/污渍", "damaged or stained"),
    "odour": ("有异味", "smells (sweat, smoke, perfume)"),
    "altered": ("改过尺寸", "altered"),
    "unsellable": ("影响二次销售", "cannot be sold again"),
}

#: The patterns of each finding. Order inside a finding does not matter; every match is checked
#: for a negation before it. ``(?<!试)`` keeps "试穿了" (tried on) from reading as worn.
PATTERNS: dict[str, tuple[str, ...]] = {
    "washed": (
        r"水洗(?!标)",
        r"(?<![未没无不])洗(过|了|掉|后|完)",
        r"已洗",
        r"(机|手|干)洗(过|了)",
        r"下过水",
        r"泡过水",
    ),
    "tag_removed": (
        r"(剪|摘|拆|撕|扯|取|去)(了|掉|下)?(了)?(吊牌|牌子|标签)",
        r"(吊牌|牌子|标签)(已经|已|被|给|也|都)*(剪|摘|拆|撕|扯|扔|丢)(了|掉|下|过)?",
        r"(吊牌|牌子|标签)(丢|掉|弄丢|不见)了?",
        r"(没|无|没有)(了)?(吊牌|标签)",
        r"(吊牌|标签)没了",
    ),
    "label_cut": (
        r"剪(了|掉)?(领标|洗标|商标|标)(?!签)",
        r"(领标|洗标|商标|水洗标)(已经|已|被|也|都)*(剪|拆)",
    ),
    "buttonhole": (r"开(了)?扣眼", r"扣眼(已经|已|被|也|都)*开"),
    "worn": (
        r"(?<!试)穿(过|了|着出|出去|出门|旧|脏|破|坏)",
        r"(穿着|穿过的|穿戴|使用)痕迹",
        r"已穿",
        r"上身穿过",
        r"穿过几次",
    ),
    "damaged": (
        r"破损",
        r"破(了|洞)",
        r"(弄|扯|划|刮|勾)(破|坏|烂)",
        r"勾丝",
        r"抽丝",
        r"撕裂",
        r"[污汗油血墨奶茶水酱]?渍",
        r"脏",
        r"口红|粉底|化妆品|妆印",
        r"沾(了|到|染)",
        r"染色",
    ),
    "odour": (
        r"异味",
        r"(香水|烟|汗|狐臭|霉|油烟)味",
        r"有(股)?味(道)?",
        r"味道(很|太|比较)?(大|重|难闻)",
        r"发臭|臭味",
    ),
    "altered": (r"改(过|了)(尺寸|裤长|袖长|长度)?", r"(改|剪|裁)(短|长|小|窄)", r"修改过"),
    "unsellable": (
        r"影响二次销售",
        r"(无法|不能|不可|没法|没办法)(再)?(二次销售|二次售卖|再次销售|再卖)",
    ),
}

#: Negations that, right before a finding in the same clause, turn it into its opposite.
NEGATIONS = (
    "没有被",
    "没被",
    "未被",
    "从未",
    "从没",
    "并未",
    "尚未",
    "不曾",
    "未曾",
    "没有",
    "没",
    "未",
    "无",
    "不",
    "非",
    "别",
)
#: Phrases that say the goods are intact: removed before matching so "吊牌未剪" is never "剪".
INTACT = re.compile(
    r"(吊牌|牌子|标签|领标|洗标)(都|也|还)?(未|没|没有|不曾|并未)(被)?(剪|摘|拆|撕|动)(过|掉|开)?"
    r"|(吊牌|牌子|标签)(还在|都在|在的|齐全|完好|完整|未动)"
    r"|完好无损|无破损|没有破损|未破损"
)
#: A defect the goods came with: the stall's fault, not a reason to refuse.
QUALITY = re.compile(r"质量问题|做工|瑕疵|次品|出厂|自带|原本就|本来就|收到|到手|到货|拆开|打开|签收")
#: Clause breaks: punctuation, spaces and turning words (a negation never reaches across them).
CLAUSE = re.compile(r"[，,。.;；、!！?？\s/|]+|但是|但|不过|可是|而且|并且|然后")


@dataclass(frozen=True)
class Finding:
    code: str  #: one of LABELS
    text: str  #: the words that matched
    quality_defect: bool = False  #: the clause says the goods came this way (the stall's fault)

    @property
    def label_zh(self) -> str:
        return LABELS[self.code][0]

    @property
    def label_en(self) -> str:
        return LABELS[self.code][1]


_COMPILED = {code: tuple(re.compile(p) for p in pats) for code, pats in PATTERNS.items()}


#: words that may stand between a negation and what it negates ("没有任何异味", "无明显污渍")
FILLERS = re.compile(r"(任何|一点点|一点|明显的|明显|什么|丝毫|半点|其他|别的|都|也|还|已|曾|过|被|有)+$")


def _negated(clause: str, start: int) -> bool:
    before = clause[max(0, start - 8) : start]
    stripped = FILLERS.sub("", before)
    return any(before.endswith(n) or stripped.endswith(n) for n in NEGATIONS)


def clauses(text: str) -> list[str]:
    return [c for c in CLAUSE.split(text or "") if c]


def read_condition(text: str, extra_words: Sequence[str] = ()) -> list[Finding]:
    """The findings that make goods unsellable in ``text``; empty when it reads as resellable.

    ``extra_words`` are the shop's own words (setting ``unsellable_conditions``), matched the same
    way (a negation before one cancels it).
    """
    found: dict[str, Finding] = {}
    for clause in clauses(text):
        quality = bool(QUALITY.search(clause))
        plain = INTACT.sub(lambda m: "　" * len(m.group()), clause)
        for code, patterns in _COMPILED.items():
            if code in found:
                continue
            for pattern in patterns:
                hit = next((m for m in pattern.finditer(plain) if not _negated(plain, m.start())), None)
                if hit is not None:
                    found[code] = Finding(code, hit.group(), quality and code == "damaged")
                    break
        for word in extra_words:
            if not word or "extra:" + word in found:
                continue
            at = plain.find(word)
            while at >= 0 and _negated(plain, at):
                at = plain.find(word, at + 1)
            if at >= 0 and not any(f.text == word or word in f.text for f in found.values()):
                found["extra:" + word] = Finding("unsellable", word)
    return list(found.values())


def unsellable(text: str, extra_words: Sequence[str] = ()) -> list[Finding]:
    """The findings the stall refuses for: everything but defects the goods came with."""
    return [f for f in read_condition(text, extra_words) if not f.quality_defect]
