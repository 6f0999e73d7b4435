"""Can these goods go back to the stall through 17网, how many, and for how much? Pure.

The wholesale market's return standard, as 17网's dropship after-sales FAQ states it ("when may a
stall refuse a return"): (1) delisted goods are not returned; (2) goods that cannot be resold
(washed, tags or labels cut, buttonholes opened, torn by trying on, smelling of sweat or perfume)
are not, and intimate items (underwear, vests/tube tops, hats, necklaces, stockings) never are;
(3) special-price goods are not; (4) over a per-style quantity only part is taken back;
(5) 看版拿货: one style ordered in one size but several colours is not returned, or only in part.
Plus: after trade success there is no online return at all (note (1)), and the refund is the
stall's *current* price, never more than was paid ("is a return refunded at the price paid").

Intimate items are decided by **category data** (the export's 类目 column, or the shop's
``style_categories`` list), never by product titles: "背心裙" is a dress and "连帽卫衣" a sweatshirt.
The goods' condition is read by :mod:`.conditions` (phrasings with negation). The caps and lists
are shop settings; the defaults are the FAQ's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hub.money import fen_to_yuan

from .conditions import unsellable

FAQ = "17网 dropship after-sales FAQ (售后代发常见问题)"
SOURCE = f"{FAQ}, 'when may a stall refuse a return'"

#: The FAQ's intimate items, as category names: a category (or the last part of a category path)
#: equal to one of these or ending with one ("女士内裤", "棒球帽") is never returnable.
DEFAULT_INTIMATE = "内衣,内裤,内衣裤,文胸,胸罩,背心,抹胸,帽子,帽,项链,丝袜,连裤袜"
#: The shop's own extra condition words; the built-in phrasings are in :mod:`.conditions`.
DEFAULT_UNSELLABLE = ""


def _split_words(text: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.replace("，", ",").split(",") if w.strip())


def excluded_category(category: str, intimate: Sequence[str]) -> str | None:
    """The intimate category ``category`` falls in, or ``None``.

    ``category`` is category data, e.g. "内衣" or a path "女装 > 内衣/家居服 > 文胸": the last part
    of the path is read (alternatives split on "/"); a part equal to a listed category or ending
    with one matches, so "背心裙" (a dress) does not while "女士背心" does.
    """
    leaf = re.split(r"\s*(?:>|›|»|→)\s*", category.strip())[-1] if category.strip() else ""
    for part in (p.strip() for p in re.split(r"[/／|]", leaf)):
        if not part:
            continue
        for word in intimate:
            if word and (part == word or part.endswith(word)):
                return word
    return None


class Verdict(StrEnum):
    RETURNABLE = "returnable"
    PARTLY = "partly"
    NOT_RETURNABLE = "not_returnable"


@dataclass(frozen=True)
class Policy:
    """The shop's view of the stalls' return rules (settings, the FAQ's defaults)."""

    intimate: tuple[str, ...] = _split_words(DEFAULT_INTIMATE)
    unsellable: tuple[str, ...] = ()  #: the shop's own extra condition words
    style_cap: int | None = None  #: pieces of one style a stall takes back; the FAQ names no figure
    stall_caps: Mapping[str, int] = field(default_factory=dict)
    kanban_max: int = 0  #: pieces of a 看版 group (one style, one size, several colours) taken back
    #: 货号 -> category, for exports without a 类目 column (setting ``style_categories``)
    style_categories: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> Policy:
        def words(name: str, default: str) -> tuple[str, ...]:
            raw = settings.get(name)
            return _split_words(default if raw is None else raw)

        def pairs(name: str) -> dict[str, str]:
            out: dict[str, str] = {}
            for pair in (settings.get(name) or "").replace("，", ",").split(","):
                if "=" in pair:
                    key, value = pair.split("=", 1)
                    if key.strip() and value.strip():
                        out[key.strip()] = value.strip()
            return out

        cap = (settings.get("style_return_cap") or "").strip()
        stall_caps = {k: int(v) for k, v in pairs("stall_return_caps").items() if v.isdigit()}
        kanban = (settings.get("kanban_return_max") or "0").strip()
        return cls(
            intimate=words("intimate_categories", DEFAULT_INTIMATE),
            unsellable=words("unsellable_conditions", DEFAULT_UNSELLABLE),
            style_cap=int(cap) if cap.isdigit() else None,
            stall_caps=stall_caps,
            kanban_max=int(kanban) if kanban.isdigit() else 0,
            style_categories=pairs("style_categories"),
        )

    def cap_for(self, stall: str) -> int | None:
        return self.stall_caps.get(stall, self.style_cap)

    def category_of(self, item: Item) -> str:
        """The item's category: the export's 类目, else the shop's list by 货号, else empty."""
        return item.category or self.style_categories.get(item.style_no, "")


@dataclass(frozen=True)
class Item:
    """One purchase line as the order's facts carry it (``mapping.items_of``)."""

    line_id: str
    style_no: str
    quantity: int
    unit_price_fen: int
    color: str = ""
    size: str = ""
    title: str = ""
    category: str = ""
    stall: str = ""
    current_price_fen: int | None = None
    delisted: bool = False
    special_price: bool = False

    @property
    def refund_unit_fen(self) -> int:
        """What 17网 refunds a piece: the stall's current price, never more than was paid."""
        if self.current_price_fen is None:
            return self.unit_price_fen
        return min(self.current_price_fen, self.unit_price_fen)

    @classmethod
    def from_fact(cls, data: Mapping[str, Any]) -> Item:
        return cls(
            line_id=str(data.get("line_id") or ""),
            style_no=str(data.get("style_no") or ""),
            quantity=int(data.get("quantity") or 0),
            unit_price_fen=int(data.get("unit_price_fen") or 0),
            color=str(data.get("color") or ""),
            size=str(data.get("size") or ""),
            title=str(data.get("title") or ""),
            category=str(data.get("category") or ""),
            stall=str(data.get("stall") or ""),
            current_price_fen=None
            if data.get("current_price_fen") is None
            else int(data["current_price_fen"]),
            delisted=bool(data.get("delisted")),
            special_price=bool(data.get("special_price")),
        )


@dataclass(frozen=True)
class ReturnLine:
    """What is to go back: ``quantity`` pieces of ``item`` in ``condition`` (free text)."""

    item: Item
    quantity: int
    condition: str = ""


@dataclass(frozen=True)
class Reason:
    code: str  #: trade_success, delisted, intimate, unsellable, special_price, style_cap, kanban
    pieces: int  #: how many pieces this reason keeps from going back
    text_zh: str
    text_en: str
    source: str


@dataclass(frozen=True)
class Eligibility:
    verdict: Verdict
    returnable: int
    total: int
    reasons: tuple[Reason, ...]
    cost_fen: int  #: what the merchant paid 17网 for the pieces to go back
    expected_refund_fen: int  #: what 17网 will refund: returnable pieces at the stall's current price
    price_known: bool  #: False when a current price was missing and the price paid was assumed
    notes: tuple[str, ...] = ()
    returnable_cost_fen: int = 0  #: what the returnable pieces cost (paid prices)

    @property
    def refused_cost_fen(self) -> int:
        """What the pieces the stall will not take back cost: carried in full."""
        return self.cost_fen - self.returnable_cost_fen

    @property
    def price_drop_fen(self) -> int:
        """How much less than paid 17网 refunds for the returnable pieces (current price lower)."""
        return max(self.returnable_cost_fen - self.expected_refund_fen, 0)

    @property
    def carried_fen(self) -> int:
        """What the merchant loses upstream: the cost not refunded (refused pieces, price drops)."""
        return max(self.cost_fen - self.expected_refund_fen, 0)

    def summary_zh(self) -> str:
        """E.g. ``不能退回档口，17网预计退 ¥0.00（这 1 件货款 ¥22.00）``: goods only, no fees."""
        head = {
            Verdict.RETURNABLE: "可以退回档口",
            Verdict.PARTLY: f"只能部分退回档口（{self.returnable}/{self.total} 件）",
            Verdict.NOT_RETURNABLE: "不能退回档口",
        }[self.verdict]
        refund, cost = fen_to_yuan(self.expected_refund_fen), fen_to_yuan(self.cost_fen)
        return f"{head}，17网预计退 ¥{refund}（这 {self.total} 件货款 ¥{cost}）"


def assess(
    lines: Sequence[ReturnLine],
    order_items: Sequence[Item],
    policy: Policy,
    *,
    trade_success: bool = False,
    applied: bool = False,
) -> Eligibility:
    """The verdict for returning ``lines`` of an order whose lines are ``order_items``.

    ``applied``: the return was already applied for online. Goods delisted since then are not
    refused outright: 代发 tries the stall, whose word is final (the FAQ, "the stall delisted the
    goods after I applied"); the verdict notes it instead."""
    total = sum(max(rl.quantity, 0) for rl in lines)
    cost = sum(rl.item.unit_price_fen * max(rl.quantity, 0) for rl in lines)
    reasons: list[Reason] = []
    notes: list[str] = []
    if trade_success:
        reasons.append(
            Reason(
                "trade_success",
                total,
                "17网订单已交易成功（自动确认收货），不支持线上申请退货",
                "the trade succeeded (auto-confirmed): 17网 takes no online return",
                f"{FAQ}, note (1): no online return after trade success",
            )
        )
        return Eligibility(Verdict.NOT_RETURNABLE, 0, total, tuple(reasons), cost, 0, True, (), 0)

    # pieces still returnable per line after the per-piece rules
    left: dict[int, int] = {}
    for index, rl in enumerate(lines):
        item, qty = rl.item, max(rl.quantity, 0)
        blocker: Reason | None = None
        if item.delisted and applied:
            notes.append(f"{item.style_no} 在申请退货后被档口下架：代发会尽力与档口沟通退货，结果以档口为准")
        elif item.delisted:
            blocker = Reason(
                "delisted",
                qty,
                f"{item.style_no} 已被档口下架：下架商品不退",
                f"{item.style_no} is delisted by the stall",
                f"{SOURCE} (1): delisted goods are not taken back",
            )
        elif word := excluded_category(policy.category_of(item), policy.intimate):
            blocker = Reason(
                "intimate",
                qty,
                f"{item.style_no} 属贴身衣物（{word}）：一旦售出概不可退",
                f"{item.style_no} is an intimate item ({word}): never returnable",
                f"{SOURCE} (2): intimate items are never taken back once sold",
            )
        elif item.special_price:
            blocker = Reason(
                "special_price",
                qty,
                f"{item.style_no} 是档口特价商品：特价商品不退",
                f"{item.style_no} was sold at a special price",
                f"{SOURCE} (3): special-price goods are not taken back",
            )
        elif findings := unsellable(rl.condition, policy.unsellable):
            said = "、".join(dict.fromkeys(f"{f.label_zh}（{f.text}）" for f in findings))
            blocker = Reason(
                "unsellable",
                qty,
                f"货品{said}，影响二次销售：档口不退",
                f"the goods cannot be resold ({', '.join(dict.fromkeys(f.label_en for f in findings))})",
                f"{SOURCE} (2): goods that cannot be sold again are not taken back",
            )
        if blocker:
            reasons.append(blocker)
            left[index] = 0
        else:
            left[index] = qty

    # 看版: one style, one size, several colours in the same order
    groups: dict[tuple[str, str], set[str]] = {}
    for item in order_items:
        groups.setdefault((item.style_no, item.size), set()).add(item.color)
    kanban = {key for key, colours in groups.items() if len(colours) > 1}
    for key in kanban:
        members = [i for i, rl in enumerate(lines) if (rl.item.style_no, rl.item.size) == key and left[i] > 0]
        allowed = policy.kanban_max
        pieces = sum(left[i] for i in members)
        if pieces > allowed:
            for i in members:
                take = min(left[i], allowed)
                allowed -= take
                left[i] = take
            reasons.append(
                Reason(
                    "kanban",
                    pieces - policy.kanban_max,
                    f"看版拿货不退不换：{key[0]} 同一尺码（{key[1] or '-'}）下了 {len(groups[key])} 个颜色，"
                    f"档口最多退 {policy.kanban_max} 件",
                    f"看版: style {key[0]} ordered in size {key[1] or '-'} in {len(groups[key])} colours; "
                    f"the stall takes back at most {policy.kanban_max}",
                    f"{SOURCE} (5): 看版 orders (one size, several colours) are not taken back",
                )
            )

    # per-style cap
    by_style: dict[tuple[str, str], list[int]] = {}
    for i, rl in enumerate(lines):
        by_style.setdefault((rl.item.stall, rl.item.style_no), []).append(i)
    for (stall, style), members in by_style.items():
        cap = policy.cap_for(stall)
        pieces = sum(left[i] for i in members)
        if cap is None:
            if pieces > 1:
                notes.append(f"{style}：档口通常对单款退货件数有上限，退多件前请先问档口")
            continue
        if pieces > cap:
            allowed = cap
            for i in members:
                take = min(left[i], allowed)
                allowed -= take
                left[i] = take
            reasons.append(
                Reason(
                    "style_cap",
                    pieces - cap,
                    f"单款超量不退：{style} 共 {pieces} 件，档口最多退 {cap} 件",
                    f"over the style's cap: the stall takes back {cap} of {pieces} pieces of {style}",
                    f"{SOURCE} (4): over a per-style quantity only part is taken back",
                )
            )

    returnable = sum(left.values())
    price_known = True
    refund = 0
    for i, rl in enumerate(lines):
        if rl.item.current_price_fen is None:
            price_known = False
        refund += rl.item.refund_unit_fen * left[i]
    if not price_known and returnable:
        notes.append("档口当前售价未知：预计退款按你的拿货价估算（档口按当前售价退货，降价会少退）")
    verdict = (
        Verdict.RETURNABLE
        if returnable == total and total > 0
        else Verdict.NOT_RETURNABLE
        if returnable == 0
        else Verdict.PARTLY
    )
    returnable_cost = sum(rl.item.unit_price_fen * left[i] for i, rl in enumerate(lines))
    return Eligibility(
        verdict, returnable, total, tuple(reasons), cost, refund, price_known, tuple(notes), returnable_cost
    )
